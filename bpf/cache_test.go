package bpf

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestConstantAllow(t *testing.T) {
	const x86 = 0xc000003e
	prog, err := Assemble(`
		ld [4]
		jeq #0xc000003e, next, kill
		ld [0]
		jge #0x40000000, kill, next
		jeq #0, allow, next        ; read
		jeq #1, args, next         ; write: checks an argument
		and #0xfff0
		jeq #0x10, allow, deny     ; 16..31 by mask
		args: ld [16]
		jeq #2, allow, deny
		allow: ret ALLOW
		deny: ret ERRNO(1)
		kill: ret KILL_PROCESS`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		prog []Instruction
		arch uint32
		nr   uint32
		want bool
	}{
		{"plain allow", prog, x86, 0, true},
		{"argument load on path", prog, x86, 1, false},
		{"masked allow", prog, x86, 17, true},
		{"masked deny", prog, x86, 2, false},
		{"x32 number", prog, x86, 0x40000000, false},
		{"other arch", prog, 0x40000003, 0, false},
		{"ret A", []Instruction{LoadImm(RetAllow), {Op: ClassRET | RetA}}, x86, 0, false},
		{"ld imm", []Instruction{LoadImm(0), Ret(RetAllow)}, x86, 0, false},
		{"ALLOW with data", []Instruction{Ret(RetAllow | 1)}, x86, 0, false},
		{"X compare", []Instruction{{Op: ClassJMP | JmpJEQ | SrcX}, Ret(RetAllow), Ret(RetAllow)}, x86, 0, false},
		{"ja", []Instruction{Ja(1), Ret(0), Ret(RetAllow)}, x86, 0, true},
		{"jset", []Instruction{LoadAbs(0), Jump(JmpJSET, 4, 0, 1), Ret(RetAllow), Ret(0)}, x86, 5, true},
		{"off the end", []Instruction{LoadAbs(0)}, x86, 0, false},
		{"jump past end", []Instruction{Ja(7)}, x86, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ConstantAllow(tt.prog, tt.arch, tt.nr); got != tt.want {
				t.Fatalf("ConstantAllow = %v, want %v\n%s", got, tt.want, Disassemble(tt.prog))
			}
		})
	}
	got := Cacheable(prog, X86_64CacheBitmaps(40, 10)[0])
	want := []uint32{0}
	for nr := uint32(16); nr < 32; nr++ {
		want = append(want, nr)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Cacheable = %v, want %v", got, want)
	}
	if got := Cacheable(prog, X86_64CacheBitmaps(40, 10)[1]); len(got) != 0 {
		t.Fatalf("compat Cacheable = %v, want none", got)
	}
}

// TestConstantAllowSound checks that whenever ConstantAllow holds, the VM
// returns ALLOW for that arch and number whatever the other fields.
func TestConstantAllowSound(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	hits := 0
	for range 2000 {
		var prog []Instruction
		if r.IntN(2) == 0 {
			prog = genBuilderProgram(r)
		} else {
			b := make([]byte, 128)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			prog = genProgram(b)
		}
		p, err := NewProgram(prog)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			d := randData(r)
			if d.Nr < 0 || d.Nr > 16 {
				d.Nr = int32(r.IntN(16))
			}
			if !ConstantAllow(prog, d.Arch, uint32(d.Nr)) {
				continue
			}
			hits++
			if v := p.Run(d, r.IntN(2) == 0); v != RetAllow {
				t.Fatalf("ConstantAllow true but VM says %s on %+v\n%s", ActionString(v), d, Disassemble(prog))
			}
		}
	}
	if hits < 100 {
		t.Fatalf("only %d constant-allow cases exercised", hits)
	}
}
