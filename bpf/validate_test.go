package bpf

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	allow := Ret(RetAllow)
	long := make([]Instruction, MaxInstructions+1)
	for i := range long {
		long[i] = allow
	}
	tests := []struct {
		name string
		prog []Instruction
		want string // substring of the error; "" means valid
	}{
		{"single ret", []Instruction{allow}, ""},
		{"ret A", []Instruction{{Op: ClassRET | RetA}}, ""},
		{"max length", long[:MaxInstructions], ""},
		{"empty", nil, "empty program"},
		{"too long", long, "longer than 4096"},
		{"load nr and arch", []Instruction{LoadAbs(0), LoadAbs(4), LoadAbs(60), allow}, ""},
		{"load offset 64", []Instruction{LoadAbs(64), allow}, "instruction 0: load offset 64"},
		{"load unaligned", []Instruction{LoadAbs(2), allow}, "instruction 0: load offset 2"},
		{"ldh", []Instruction{{Op: ClassLD | SizeH | ModeABS}, allow}, "opcode 0x28 (ldh [k]) not allowed"},
		{"ldb", []Instruction{{Op: ClassLD | SizeB | ModeABS}, allow}, "not allowed"},
		{"indirect load", []Instruction{{Op: ClassLD | ModeIND}, allow}, "indirect load"},
		{"msh", []Instruction{{Op: ClassLDX | SizeB | ModeMSH}, allow}, "not allowed"},
		{"ld len", []Instruction{{Op: ClassLD | ModeLEN}, {Op: ClassLDX | ModeLEN}, allow}, ""},
		{"mod", []Instruction{{Op: ClassALU | AluMOD, K: 3}, allow}, "opcode 0x94 (mod) not allowed"},
		{"mod x", []Instruction{{Op: ClassALU | AluMOD | SrcX}, allow}, "not allowed"},
		{"div k 0", []Instruction{{Op: ClassALU | AluDIV, K: 0}, allow}, "division by constant zero"},
		{"div x", []Instruction{{Op: ClassALU | AluDIV | SrcX}, allow}, ""},
		{"lsh 31", []Instruction{{Op: ClassALU | AluLSH, K: 31}, allow}, ""},
		{"lsh 32", []Instruction{{Op: ClassALU | AluLSH, K: 32}, allow}, "shift by 32"},
		{"rsh 40", []Instruction{{Op: ClassALU | AluRSH, K: 40}, allow}, "shift by 40"},
		{"neg", []Instruction{{Op: ClassALU | AluNEG}, allow}, ""},
		{"neg x", []Instruction{{Op: ClassALU | AluNEG | SrcX}, allow}, "not allowed"},
		{"xor", []Instruction{{Op: ClassALU | AluXOR, K: 1}, {Op: ClassALU | AluXOR | SrcX}, allow}, ""},
		{"unknown alu", []Instruction{{Op: ClassALU | 0xb0}, allow}, "not allowed"},
		{"tax txa", []Instruction{{Op: ClassMISC | MiscTAX}, {Op: ClassMISC | MiscTXA}, allow}, ""},
		{"misc other", []Instruction{{Op: ClassMISC | 0x10}, allow}, "not allowed"},
		{"ret x", []Instruction{{Op: ClassRET | 0x08}}, "not allowed"},
		{"high opcode bits", []Instruction{{Op: 0x100 | ClassRET}}, "not allowed"},
		{"store index 15", []Instruction{{Op: ClassST, K: 15}, {Op: ClassLD | ModeMEM, K: 15}, allow}, ""},
		{"store index 16", []Instruction{{Op: ClassST, K: 16}, allow}, "scratch memory index 16"},
		{"ldx mem 16", []Instruction{{Op: ClassLDX | ModeMEM, K: 16}, allow}, "scratch memory index 16"},
		{"load before store", []Instruction{{Op: ClassLD | ModeMEM, K: 3}, allow}, "instruction 0: load of M[3]"},
		{"stx then ldx", []Instruction{{Op: ClassSTX, K: 2}, {Op: ClassLDX | ModeMEM, K: 2}, allow}, ""},
		{"store on one path only", []Instruction{
			Jump(JmpJEQ, 1, 0, 1), {Op: ClassST, K: 0}, {Op: ClassLD | ModeMEM, K: 0}, allow,
		}, "instruction 2: load of M[0]"},
		{"store on both paths", []Instruction{
			Jump(JmpJEQ, 1, 0, 2), {Op: ClassST, K: 0}, Ja(1), {Op: ClassST, K: 0}, {Op: ClassLD | ModeMEM, K: 0}, allow,
		}, ""},
		// The kernel does not reset its knowledge after a ret, so a load
		// reached only by a jump from a path that stored is still refused
		// when the code before the ret stored nothing.
		{"store carried past ret is not", []Instruction{
			Jump(JmpJEQ, 1, 0, 1), Ret(0), {Op: ClassLD | ModeMEM, K: 0}, allow,
		}, "instruction 2: load of M[0]"},
		{"unreachable load after ja", []Instruction{Ja(1), {Op: ClassLD | ModeMEM, K: 0}, allow}, ""},
		{"ja to last", []Instruction{Ja(0), allow}, ""},
		{"ja beyond", []Instruction{Ja(1), allow}, "instruction 0: jump target 2 beyond end of program (len 2)"},
		{"ja huge", []Instruction{Ja(0xffffffff), allow}, "jump target 4294967296 beyond end"},
		{"jt beyond", []Instruction{Jump(JmpJEQ, 0, 1, 0), allow}, "jump target 2 beyond"},
		{"jf beyond", []Instruction{LoadAbs(0), Jump(JmpJGT, 0, 0, 200), allow}, "instruction 1: jump target 202 beyond end of program (len 3)"},
		{"jset x", []Instruction{{Op: ClassJMP | JmpJSET | SrcX}, allow}, ""},
		{"unknown jump", []Instruction{{Op: ClassJMP | 0x50}, allow}, "not allowed"},
		{"ja with x bit", []Instruction{{Op: ClassJMP | SrcX}, allow}, "not allowed"},
		{"last not ret", []Instruction{allow, LoadAbs(0)}, "instruction 1: last instruction must be a ret"},
		{"last is jump", []Instruction{allow, Jump(JmpJEQ, 0, 0, 0)}, "beyond end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.prog)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v\n%s", err, Disassemble(tt.prog))
			case tt.want != "" && err == nil:
				t.Fatalf("Validate accepted, want error %q\n%s", tt.want, Disassemble(tt.prog))
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Validate: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestValidateErrors(t *testing.T) {
	long := make([]Instruction, MaxInstructions+1)
	if err := Validate(long); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too long: %v, want ErrTooLarge", err)
	}
	if err := Validate(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v, want ErrEmpty", err)
	}
	var ie *InstructionError
	if err := Validate([]Instruction{LoadAbs(1), Ret(0)}); !errors.As(err, &ie) || ie.Index != 0 {
		t.Errorf("bad load: %v, want *InstructionError at 0", err)
	}
}
