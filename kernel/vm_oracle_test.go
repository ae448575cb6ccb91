package kernel_test

import (
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/testutil/oracle"
)

// The VM must give the kernel's verdict for every program and input. Each
// program below is written for probe numbers 1001…1006 (nonexistent, so
// nothing runs) and tells inputs apart by argument words, comparisons,
// ALU results, the X register and scratch memory.
var oraclePrograms = []struct {
	name string
	asm  string
}{
	{"arg0 64-bit greater than", `
		ld [0]
		jeq #1001, hi, allow
	hi:	ld [20]                 ; args[0] high word
		jgt #0x10, errno, eq
	eq:	jeq #0x10, lo, allow
	lo:	ld [16]
		jgt #0x64, errno, allow
	errno:	ret ERRNO(1)
	allow:	ret ALLOW`},
	{"jge and jset on arg1", `
		ld [0]
		jge #1002, big, allow
	big:	jgt #1003, trap, bits
	trap:	ret TRAP(7)
	bits:	ld [24]                 ; args[1] low word
		jset #0x80000001, kill, high
	kill:	ret KILL_PROCESS
	high:	ld [28]
		jset #0x1, log, enosys
	log:	ret LOG
	enosys:	ret ERRNO(38)
	allow:	ret ALLOW`},
	{"alu with constants", aluK},
	{"alu with X", aluX},
	{"scratch memory and txa", `
		ld [16]
		st M[0]
		ld [24]
		st M[15]
		ldx M[0]
		ld M[15]
		jgt X, first, second
	first:	ret ERRNO(10)
	second:	jeq X, same, other
	same:	ret ERRNO(11)
	other:	txa
		jset #0x3, low, none
	low:	ret ERRNO(12)
	none:	ret TRACE(3)`},
	{"x32 bit and arch", `
		ld [4]
		jeq #0xc000003e, nr, kill
	nr:	ld [0]
		jset #0x40000000, x32, native
	x32:	ret ERRNO(32)
	native:	jeq #0xffffffff, minus, allow
	minus:	ret ERRNO(99)
	allow:	ret ALLOW
	kill:	ret KILL_THREAD`},
	{"division by zero X", `
		ld [0]
		jeq #1005, div, allow
	div:	ld [24]
		tax
		ld [16]
		div X
		jeq #0, zero, other
	zero:	ret ERRNO(1)
	other:	ret ERRNO(2)
	allow:	ret ALLOW`},
}

// aluK and aluX compute a value from the arguments and return its low 4
// bits as ERRNO(0x100+v), so a wrong ALU result shows as a wrong errno.
const aluK = `
	ld [16]
	add #0x12345
	sub #7
	mul #0x9e3779b9
	xor #0x5555aaaa
	or #0x10
	and #0xfffff0ff
	lsh #3
	rsh #1
	div #3
	neg
` + lowNibble

const aluX = `
	ld [28]
	or #1
	tax
	ld [16]
	add X
	mul X
	sub X
	xor X
	div X
	or X
	and X
	lsh X
	st M[1]
	ldx M[1]
	rsh X
` + lowNibble

const lowNibble = `
	and #0xf
	jeq #0, v0, n1
v0:	ret ERRNO(0x100)
n1:	jeq #1, v1, n2
v1:	ret ERRNO(0x101)
n2:	jeq #2, v2, n3
v2:	ret ERRNO(0x102)
n3:	jeq #3, v3, n4
v3:	ret ERRNO(0x103)
n4:	jgt #11, high, mid
mid:	jge #8, v8, v4
v4:	ret ERRNO(0x104)
v8:	ret ERRNO(0x108)
high:	jset #1, odd, even
odd:	ret ERRNO(0x10f)
even:	ret ERRNO(0x10e)`

// oracleInputs crosses probe numbers with argument values at and around
// the programs' constants and in both halves of the 64-bit words.
func oracleInputs() []bpf.Data {
	nrs := []int32{1001, 1002, 1003, 1004, 1005, 1006, -1, 0x40000000 | 1001}
	vals := []uint64{
		0, 1, 2, 3, 7, 0x63, 0x64, 0x65, 0xffffffff, 0x80000000, 0x80000001,
		0x10_0000_0063, 0x10_0000_0064, 0x10_0000_0065, 0x0f_ffff_ffff, 0x11_0000_0000,
		0x1_0000_0000, 0x1_8000_0001, 0xffff_ffff_ffff_ffff, 0x8000_0000_0000_0000,
		0x1234_5678_9abc_def0,
	}
	var data []bpf.Data
	for _, nr := range nrs {
		for i, a0 := range vals {
			for _, a1 := range []uint64{vals[(i*7)%len(vals)], vals[(i*3+5)%len(vals)], 0} {
				data = append(data, bpf.Data{Nr: nr, Arch: 0xc000003e, Args: [6]uint64{a0, a1, a0 ^ a1}})
			}
		}
	}
	return data
}

func TestVMMatchesKernel(t *testing.T) {
	if _, ok := oracle.Native(); !ok {
		t.Skip("the kernel oracle makes x86_64 system calls")
	}
	data := oracleInputs()
	for _, tt := range oraclePrograms {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prog, err := bpf.Assemble(tt.asm)
			if err != nil {
				t.Fatal(err)
			}
			oracle.CompareVM(t, prog, data)
		})
	}
}

// TestValidateMatchesKernel checks bpf.Validate against the kernel's own
// checker on programs at the edge of what it accepts.
func TestValidateMatchesKernel(t *testing.T) {
	tests := []struct {
		name string
		asm  string
	}{
		{"minimal", "ret ALLOW"},
		{"load beyond seccomp_data", "ld [64]\nret ALLOW"},
		{"unaligned load", "ld [2]\nret ALLOW"},
		{"last load", "ld [60]\nret ALLOW"},
		{"memory read before write", "ld M[0]\nret ALLOW"},
		{"memory written on one path only", "ld [0]\njeq #1, w, r\nw: st M[2]\nr: ld M[2]\nret ALLOW"},
		{"memory written on both paths", "ld [0]\njeq #1, w, v\nw: st M[2]\nja r\nv: st M[2]\nr: ld M[2]\nret ALLOW"},
		{"no final ret", "ret ALLOW\nld [0]"},
		{"ret a", "ld [0]\nret A"},
		{"division by constant zero", "ld [0]\ndiv #0\nret ALLOW"},
		{"shift by 32", "ld [0]\nlsh #32\nret ALLOW"},
		{"mod", "ld [0]\nmod #3\nret ALLOW"},
		{"scratch index 16", "st M[16]\nret ALLOW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prog, err := bpf.Assemble(tt.asm)
			if err != nil {
				t.Fatal(err)
			}
			vErr := bpf.Validate(prog)
			kErr := oracle.KernelAccepts(t, prog)
			if (vErr == nil) != (kErr == nil) {
				t.Errorf("Validate: %v; kernel: %v\n%s", vErr, kErr, bpf.Disassemble(prog))
			}
		})
	}
}
