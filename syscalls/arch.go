package syscalls

import (
	"fmt"
	"sort"
	"strings"
)

// X32Bit is __X32_SYSCALL_BIT: the kernel sees every x32 system call number
// with this bit set, and x32 shares AUDIT_ARCH_X86_64 with x86_64.
const X32Bit = 0x40000000

// Arch is one system call ABI as libseccomp knows it: a table of numbers, the
// audit-arch token the kernel reports in seccomp_data.arch, and the width and
// byte order of its arguments.
type Arch struct {
	Name      string // libseccomp's name: "x86_64", "x86", "x32", "aarch64", …
	OCI       string // OCI runtime-spec name: "SCMP_ARCH_X86_64"
	Moby      string // name used by Docker's includes/excludes.arches ("amd64"); "" if none
	GOARCH    string // Go's GOARCH for this ABI; "" if Go has none
	Audit     uint32 // AUDIT_ARCH_* value in seccomp_data.arch
	Bits      int    // 32 or 64: how many argument bits libseccomp compares
	BigEndian bool   // byte order of seccomp_data on this ABI

	column string // column of syscalls.csv
	base   uint32 // added to the table's numbers (x32 bit, MIPS ABI bases)

	byName   map[string]uint32
	byNumber map[uint32]string
	max      uint32
}

// Arches lists every architecture, in libseccomp's order.
var Arches = []*Arch{
	{Name: "x86", OCI: "SCMP_ARCH_X86", Moby: "x86", GOARCH: "386", Audit: 0x40000003, Bits: 32, column: "x86"},
	{Name: "x86_64", OCI: "SCMP_ARCH_X86_64", Moby: "amd64", GOARCH: "amd64", Audit: 0xc000003e, Bits: 64, column: "x86_64"},
	{Name: "x32", OCI: "SCMP_ARCH_X32", Moby: "x32", Audit: 0xc000003e, Bits: 32, column: "x32", base: X32Bit},
	{Name: "arm", OCI: "SCMP_ARCH_ARM", Moby: "arm", GOARCH: "arm", Audit: 0x40000028, Bits: 32, column: "arm"},
	{Name: "aarch64", OCI: "SCMP_ARCH_AARCH64", Moby: "arm64", GOARCH: "arm64", Audit: 0xc00000b7, Bits: 64, column: "aarch64"},
	{Name: "loongarch64", OCI: "SCMP_ARCH_LOONGARCH64", Moby: "loongarch64", GOARCH: "loong64", Audit: 0xc0000102, Bits: 64, column: "loongarch64"},
	{Name: "m68k", OCI: "SCMP_ARCH_M68K", Audit: 0x00000004, Bits: 32, BigEndian: true, column: "m68k"},
	{Name: "mips", OCI: "SCMP_ARCH_MIPS", GOARCH: "mips", Audit: 0x00000008, Bits: 32, BigEndian: true, column: "mips", base: 4000},
	{Name: "mipsel", OCI: "SCMP_ARCH_MIPSEL", Moby: "mipsel", GOARCH: "mipsle", Audit: 0x40000008, Bits: 32, column: "mips", base: 4000},
	{Name: "mips64", OCI: "SCMP_ARCH_MIPS64", Moby: "mips64", GOARCH: "mips64", Audit: 0x80000008, Bits: 64, BigEndian: true, column: "mips64", base: 5000},
	{Name: "mipsel64", OCI: "SCMP_ARCH_MIPSEL64", Moby: "mipsel64", GOARCH: "mips64le", Audit: 0xc0000008, Bits: 64, column: "mips64", base: 5000},
	{Name: "mips64n32", OCI: "SCMP_ARCH_MIPS64N32", Moby: "mips64n32", Audit: 0xa0000008, Bits: 32, BigEndian: true, column: "mips64n32", base: 6000},
	{Name: "mipsel64n32", OCI: "SCMP_ARCH_MIPSEL64N32", Moby: "mips3l64n32", Audit: 0xe0000008, Bits: 32, column: "mips64n32", base: 6000},
	{Name: "parisc", OCI: "SCMP_ARCH_PARISC", Audit: 0x0000000f, Bits: 32, BigEndian: true, column: "parisc"},
	{Name: "parisc64", OCI: "SCMP_ARCH_PARISC64", Audit: 0x8000000f, Bits: 64, BigEndian: true, column: "parisc64"},
	{Name: "ppc", OCI: "SCMP_ARCH_PPC", Moby: "ppc", Audit: 0x00000014, Bits: 32, BigEndian: true, column: "ppc"},
	{Name: "ppc64", OCI: "SCMP_ARCH_PPC64", Moby: "ppc64", GOARCH: "ppc64", Audit: 0x80000015, Bits: 64, BigEndian: true, column: "ppc64"},
	{Name: "ppc64le", OCI: "SCMP_ARCH_PPC64LE", Moby: "ppc64le", GOARCH: "ppc64le", Audit: 0xc0000015, Bits: 64, column: "ppc64"},
	{Name: "riscv64", OCI: "SCMP_ARCH_RISCV64", Moby: "riscv64", GOARCH: "riscv64", Audit: 0xc00000f3, Bits: 64, column: "riscv64"},
	{Name: "s390", OCI: "SCMP_ARCH_S390", Moby: "s390", Audit: 0x00000016, Bits: 32, BigEndian: true, column: "s390"},
	{Name: "s390x", OCI: "SCMP_ARCH_S390X", Moby: "s390x", GOARCH: "s390x", Audit: 0x80000016, Bits: 64, BigEndian: true, column: "s390x"},
	{Name: "sh", OCI: "SCMP_ARCH_SH", Audit: 0x4000002a, Bits: 32, column: "sh"},
	{Name: "sheb", OCI: "SCMP_ARCH_SHEB", Audit: 0x0000002a, Bits: 32, BigEndian: true, column: "sh"},
}

// Named architectures used throughout the project and its tests.
var (
	X86     = MustLookup("x86")
	X86_64  = MustLookup("x86_64")
	X32     = MustLookup("x32")
	ARM     = MustLookup("arm")
	AARCH64 = MustLookup("aarch64")
)

func init() {
	for _, a := range Arches {
		col := tableColumns[a.column]
		if col == nil {
			panic("syscalls: no table column " + a.column)
		}
		a.byName = make(map[string]uint32)
		a.byNumber = make(map[uint32]string)
		for i, n := range col {
			if n < 0 {
				continue
			}
			nr := uint32(n) + a.base
			name := tableNames[i]
			a.byName[name] = nr
			if old, dup := a.byNumber[nr]; !dup || name < old {
				a.byNumber[nr] = name
			}
			a.max = max(a.max, nr)
		}
	}
}

// Lookup finds an architecture by its libseccomp name ("x86_64"), OCI name
// ("SCMP_ARCH_X86_64"), Docker name ("amd64") or GOARCH ("386"), ignoring case.
func Lookup(name string) (*Arch, error) {
	for _, a := range Arches {
		for _, n := range []string{a.Name, a.OCI, a.Moby, a.GOARCH} {
			if n != "" && strings.EqualFold(n, name) {
				return a, nil
			}
		}
	}
	return nil, fmt.Errorf("unknown architecture %q", name)
}

// MustLookup is Lookup for names known at compile time; it panics on error.
func MustLookup(name string) *Arch {
	a, err := Lookup(name)
	if err != nil {
		panic(err)
	}
	return a
}

// ForAudit returns the architectures whose seccomp_data.arch is token; two
// for AUDIT_ARCH_X86_64 (x86_64 and x32, told apart by X32Bit).
func ForAudit(token uint32) []*Arch {
	var out []*Arch
	for _, a := range Arches {
		if a.Audit == token {
			out = append(out, a)
		}
	}
	return out
}

// ForNumber returns the architecture that owns syscall number nr under the
// audit token: x32 for numbers with X32Bit on AUDIT_ARCH_X86_64, x86_64 for
// the rest, else the first architecture with that token.
func ForNumber(token uint32, nr uint32) *Arch {
	as := ForAudit(token)
	if len(as) == 0 {
		return nil
	}
	if token == X86_64.Audit && nr&X32Bit != 0 && nr != 0xffffffff {
		return X32
	}
	return as[0]
}

func (a *Arch) String() string { return a.Name }

// Number returns the number the kernel sees for the named system call.
func (a *Arch) Number(name string) (uint32, bool) {
	nr, ok := a.byName[name]
	return nr, ok
}

// SyscallName returns the name of number nr as the kernel sees it.
func (a *Arch) SyscallName(nr uint32) (string, bool) {
	n, ok := a.byNumber[nr]
	return n, ok
}

// Max is the largest number of any system call of the architecture.
func (a *Arch) Max() uint32 { return a.max }

// Min is the smallest number the architecture's table can hold: its ABI base
// (X32Bit for x32, 4000/5000/6000 on MIPS) or 0.
func (a *Arch) Min() uint32 { return a.base }

// Names lists the architecture's system call names, sorted.
func (a *Arch) Names() []string {
	out := make([]string, 0, len(a.byName))
	for n := range a.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Len is how many system calls the architecture has.
func (a *Arch) Len() int { return len(a.byName) }

// ArgOffsets returns the byte offsets in seccomp_data of the low and high 32
// bits of argument i: args start at 16, 8 bytes each, in the ABI's byte order.
func (a *Arch) ArgOffsets(i int) (lo, hi uint32) {
	base := uint32(16 + 8*i)
	if a.BigEndian {
		return base + 4, base
	}
	return base, base + 4
}

// Known reports whether name is a system call of any architecture.
func Known(name string) bool {
	i := sort.SearchStrings(tableNames[:], name)
	return i < len(tableNames) && tableNames[i] == name
}
