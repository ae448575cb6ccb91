package syscalls

import (
	"slices"
	"sort"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"x86_64", "x86_64"},
		{"X86_64", "x86_64"},
		{"SCMP_ARCH_X86_64", "x86_64"},
		{"scmp_arch_x86_64", "x86_64"},
		{"amd64", "x86_64"},
		{"AMD64", "x86_64"},
		{"386", "x86"},
		{"x86", "x86"},
		{"SCMP_ARCH_X86", "x86"},
		{"x32", "x32"},
		{"SCMP_ARCH_X32", "x32"},
		{"aarch64", "aarch64"},
		{"arm64", "aarch64"},
		{"SCMP_ARCH_AARCH64", "aarch64"},
		{"arm", "arm"},
		{"mipsle", "mipsel"},
		{"mipsel", "mipsel"},
		{"mips64le", "mipsel64"},
		{"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"},
		{"loong64", "loongarch64"},
		{"ppc64le", "ppc64le"},
		{"SCMP_ARCH_S390X", "s390x"},
		{"riscv64", "riscv64"},
		{"sheb", "sheb"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := Lookup(tt.in)
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tt.in, err)
			}
			if a.Name != tt.want {
				t.Errorf("Lookup(%q) = %s, want %s", tt.in, a.Name, tt.want)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, in := range []string{"", "vax", "SCMP_ARCH_", "x86-64", "amd64 ", "i386"} {
		t.Run(in, func(t *testing.T) {
			a, err := Lookup(in)
			if err == nil {
				t.Fatalf("Lookup(%q) = %v, want an error", in, a)
			}
		})
	}
}

// TestArchNamesUnique checks that no name of one architecture is also a
// name of another, which would make Lookup ambiguous.
func TestArchNamesUnique(t *testing.T) {
	seen := map[string]string{}
	for _, a := range Arches {
		for _, n := range []string{a.Name, a.OCI, a.Moby, a.GOARCH} {
			if n == "" {
				continue
			}
			if other, dup := seen[lower(n)]; dup && other != a.Name {
				t.Errorf("name %q belongs to both %s and %s", n, other, a.Name)
			}
			seen[lower(n)] = a.Name
		}
		if got := MustLookup(a.OCI); got != a {
			t.Errorf("MustLookup(%q) = %v, want %v", a.OCI, got, a)
		}
		if a.String() != a.Name {
			t.Errorf("String() = %q, want %q", a.String(), a.Name)
		}
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestNumberSpotChecks(t *testing.T) {
	tests := []struct {
		arch string
		name string
		nr   uint32
	}{
		{"x86_64", "read", 0},
		{"x86_64", "execve", 59},
		{"x86_64", "socket", 41},
		{"x86", "socketcall", 102},
		{"x86", "socket", 359},
		{"x86", "ipc", 117},
		{"x86", "read", 3},
		{"x32", "read", 0x40000000},
		{"x32", "readv", 0x40000000 + 515},
		{"mips", "exit", 4001},
		{"mipsel", "exit", 4001},
		{"mips", "socketcall", 4102},
		{"mips64", "exit", 5058},
		{"mipsel64", "exit", 5058},
		{"mips64n32", "exit", 6058},
		{"mipsel64n32", "exit", 6058},
		{"arm", "cacheflush", 0xf0002},
		{"aarch64", "read", 63},
		{"s390x", "socket", 359},
		{"ppc64le", "socket", 326},
		{"sheb", "socket", 340},
	}
	for _, tt := range tests {
		t.Run(tt.arch+"/"+tt.name, func(t *testing.T) {
			a := MustLookup(tt.arch)
			nr, ok := a.Number(tt.name)
			if !ok || nr != tt.nr {
				t.Errorf("%s.Number(%q) = %#x, %v; want %#x, true", tt.arch, tt.name, nr, ok, tt.nr)
			}
			name, ok := a.SyscallName(tt.nr)
			if !ok || name != tt.name {
				t.Errorf("%s.SyscallName(%#x) = %q, %v; want %q, true", tt.arch, tt.nr, name, ok, tt.name)
			}
		})
	}
}

func TestNumberMissing(t *testing.T) {
	tests := []struct{ arch, name string }{
		{"x86_64", "socketcall"}, // PNR: the multiplexer is 32-bit only
		{"x86", "accept"},        // x86 has no direct accept
		{"aarch64", "open"},
		{"x86_64", "no_such_call"},
		{"x86_64", ""},
	}
	for _, tt := range tests {
		t.Run(tt.arch+"/"+tt.name, func(t *testing.T) {
			if nr, ok := MustLookup(tt.arch).Number(tt.name); ok {
				t.Errorf("%s.Number(%q) = %d, want not found", tt.arch, tt.name, nr)
			}
		})
	}
	for _, nr := range []uint32{0x3fffffff, 0xffffffff, 100000} {
		if name, ok := X86_64.SyscallName(nr); ok {
			t.Errorf("x86_64.SyscallName(%#x) = %q, want not found", nr, name)
		}
	}
	// x32 numbers carry the x32 bit: the bare table number is not one.
	if name, ok := X32.SyscallName(0); ok {
		t.Errorf("x32.SyscallName(0) = %q, want not found", name)
	}
}

func TestMinMax(t *testing.T) {
	tests := []struct {
		arch     string
		min      uint32
		maxAbove uint32 // a known number the max is at least
	}{
		{"x86_64", 0, 451},
		{"x86", 0, 451},
		{"x32", X32Bit, X32Bit + 547},
		{"mips", 4000, 4451},
		{"mips64", 5000, 5451},
		{"mips64n32", 6000, 6451},
		{"arm", 0, 0xf0005},
		{"aarch64", 0, 451},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			a := MustLookup(tt.arch)
			if a.Min() != tt.min {
				t.Errorf("Min() = %#x, want %#x", a.Min(), tt.min)
			}
			if a.Max() < tt.maxAbove {
				t.Errorf("Max() = %#x, want ≥ %#x", a.Max(), tt.maxAbove)
			}
			if name, ok := a.SyscallName(a.Max()); !ok {
				t.Errorf("Max() = %#x names no syscall", a.Max())
			} else if nr, _ := a.Number(name); nr != a.Max() {
				t.Errorf("Number(%q) = %#x, want Max() %#x", name, nr, a.Max())
			}
		})
	}
	for _, a := range Arches {
		for _, name := range a.Names() {
			nr, _ := a.Number(name)
			if nr < a.Min() || nr > a.Max() {
				t.Errorf("%s: %s = %#x outside [Min %#x, Max %#x]", a, name, nr, a.Min(), a.Max())
			}
		}
	}
}

func TestNamesAndLen(t *testing.T) {
	for _, a := range Arches {
		names := a.Names()
		if len(names) != a.Len() {
			t.Errorf("%s: %d names, Len() = %d", a, len(names), a.Len())
		}
		if !sort.StringsAreSorted(names) {
			t.Errorf("%s: Names() not sorted", a)
		}
		if a.Len() < 250 {
			t.Errorf("%s: only %d syscalls", a, a.Len())
		}
		for _, n := range names {
			if !Known(n) {
				t.Errorf("%s: name %q not Known", a, n)
			}
		}
	}
}

func TestArgOffsets(t *testing.T) {
	tests := []struct {
		arch   string
		i      int
		lo, hi uint32
	}{
		{"x86_64", 0, 16, 20},
		{"x86_64", 5, 56, 60},
		{"x86", 1, 24, 28},
		{"aarch64", 2, 32, 36},
		{"mipsel", 0, 16, 20},
		{"ppc64le", 3, 40, 44},
		{"s390x", 0, 20, 16},
		{"s390x", 5, 60, 56},
		{"ppc64", 1, 28, 24},
		{"mips", 0, 20, 16},
		{"s390", 2, 36, 32},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			lo, hi := MustLookup(tt.arch).ArgOffsets(tt.i)
			if lo != tt.lo || hi != tt.hi {
				t.Errorf("ArgOffsets(%d) = %d, %d; want %d, %d", tt.i, lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

func TestForAudit(t *testing.T) {
	tests := []struct {
		token uint32
		want  []string
	}{
		{0xc000003e, []string{"x86_64", "x32"}},
		{0x40000003, []string{"x86"}},
		{0xc00000b7, []string{"aarch64"}},
		{0x40000008, []string{"mipsel"}},
		{0x80000016, []string{"s390x"}},
		{0xdeadbeef, nil},
		{0, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, a := range ForAudit(tt.token) {
			got = append(got, a.Name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ForAudit(%#x) = %v, want %v", tt.token, got, tt.want)
		}
	}
}

func TestForNumber(t *testing.T) {
	tests := []struct {
		name  string
		token uint32
		nr    uint32
		want  *Arch // nil: no architecture
	}{
		{"x86_64 read", X86_64.Audit, 0, X86_64},
		{"x86_64 execve", X86_64.Audit, 59, X86_64},
		{"x32 read", X86_64.Audit, X32Bit, X32},
		{"x32 high", X86_64.Audit, X32Bit | 0x1ff, X32},
		{"-1 is x86_64's", X86_64.Audit, 0xffffffff, X86_64},
		{"x86 with x32 bit", X86.Audit, X32Bit | 5, X86},
		{"aarch64", AARCH64.Audit, 63, AARCH64},
		{"unknown token", 0xdeadbeef, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ForNumber(tt.token, tt.nr); got != tt.want {
				t.Errorf("ForNumber(%#x, %#x) = %v, want %v", tt.token, tt.nr, got, tt.want)
			}
		})
	}
}

func TestMultiplexed(t *testing.T) {
	tests := []struct {
		arch, name string
		mux        string // "" when not multiplexed
		call       uint64
	}{
		{"x86", "socket", "socketcall", 1},
		{"x86", "bind", "socketcall", 2},
		{"x86", "accept", "socketcall", 5},
		{"x86", "send", "socketcall", 9},
		{"x86", "accept4", "socketcall", 18},
		{"x86", "sendmmsg", "socketcall", 20},
		{"x86", "semop", "ipc", 1},
		{"x86", "semtimedop", "ipc", 4},
		{"x86", "msgsnd", "ipc", 11},
		{"x86", "shmat", "ipc", 21},
		{"x86", "shmctl", "ipc", 24},
		{"x86", "read", "", 0},
		{"x86", "socketcall", "", 0},
		{"s390x", "socket", "socketcall", 1},
		{"s390", "semget", "ipc", 2},
		{"ppc64le", "connect", "socketcall", 3},
		{"ppc", "msgctl", "ipc", 14},
		{"mips", "socket", "socketcall", 1},
		{"mipsel", "shmdt", "ipc", 22},
		{"x86_64", "socket", "", 0},
		{"x86_64", "semop", "", 0},
		{"x32", "socket", "", 0},
		{"arm", "socket", "", 0},
		{"aarch64", "socket", "", 0},
		{"mips64", "socket", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.arch+"/"+tt.name, func(t *testing.T) {
			mux, call, ok := MustLookup(tt.arch).Multiplexed(tt.name)
			if ok != (tt.mux != "") || mux != tt.mux || call != tt.call {
				t.Errorf("Multiplexed(%q) = %q, %d, %v; want %q, %d", tt.name, mux, call, ok, tt.mux, tt.call)
			}
		})
	}
}

// TestMultiplexerExists checks that every ABI that multiplexes has the
// multiplexer syscalls themselves.
func TestMultiplexerExists(t *testing.T) {
	for _, a := range Arches {
		for _, name := range []string{"socket", "semop"} {
			mux, _, ok := a.Multiplexed(name)
			if !ok {
				continue
			}
			nr, ok := a.Number(mux)
			if !ok {
				t.Errorf("%s multiplexes %s through %s, which it lacks", a, name, mux)
			}
			want := map[string]uint32{"socketcall": 102, "ipc": 117}[mux] + a.Min()
			if nr != want {
				t.Errorf("%s.Number(%q) = %d, want %d", a, mux, nr, want)
			}
		}
	}
}

func TestKnown(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"read", true},
		{"socketcall", true},
		{"cacheflush", true},
		{"_llseek", true},
		{"no_such_call", false},
		{"", false},
		{"READ", false},
		{"read ", false},
	}
	for _, tt := range tests {
		if got := Known(tt.name); got != tt.want {
			t.Errorf("Known(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
