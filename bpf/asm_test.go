package bpf

import (
	"slices"
	"strings"
	"testing"
)

func TestDisassemble(t *testing.T) {
	prog := []Instruction{
		LoadAbs(OffsetArch), Jump(JmpJEQ, 0xc000003e, 0, 8),
		LoadAbs(OffsetNr), Jump(JmpJGE, 0x40000000, 4, 0), Jump(JmpJEQ, 59, 3, 0),
		LoadAbs(16), AndK(0xff), Jump(JmpJEQ, 5, 0, 1),
		Ret(RetAllow), Ret(RetErrno | 1),
		Jump(JmpJEQ, 0x40000003, 0, 3), LoadAbs(OffsetNr), Jump(JmpJGT, 11, 1, 0), Ret(RetTrace | 5),
		Ret(RetKillProcess), {Op: ClassRET | RetA},
	}
	want := []string{
		"0000: ld [4]                             ; arch",
		"0001: jeq #0xc000003e, 2, 10             ; AUDIT_ARCH_X86_64",
		"0002: ld [0]                             ; nr",
		"0003: jge #0x40000000, 8, 4              ; >= X32_SYSCALL_BIT",
		"0004: jeq #0x3b, 8, 5                    ; execve",
		"0005: ld [16]                            ; args[0] low",
		"0006: and #0xff",
		"0007: jeq #0x5, 8, 9",
		"0008: ret ALLOW",
		"0009: ret ERRNO(1)",
		"0010: jeq #0x40000003, 11, 14            ; AUDIT_ARCH_I386",
		"0011: ld [0]                             ; nr",
		"0012: jgt #0xb, 14, 13                   ; > execve",
		"0013: ret TRACE(5)",
		"0014: ret KILL_PROCESS",
		"0015: ret A                              ; unreachable",
	}
	got := strings.Split(strings.TrimSuffix(Disassemble(prog), "\n"), "\n")
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		t.Run(w, func(t *testing.T) {
			if g != w {
				t.Fatalf("line %d:\n got %q\nwant %q", i, g, w)
			}
		})
	}
}

func TestDisassembleBigEndianArgs(t *testing.T) {
	prog := []Instruction{LoadAbs(OffsetArch), Jump(JmpJEQ, 0x80000016, 0, 2), LoadAbs(16), Ret(RetAllow), LoadAbs(20), Ret(0)}
	out := Disassemble(prog)
	for _, w := range []string{"AUDIT_ARCH_S390X", "0002: ld [16]                            ; args[0] high", "0004: ld [20]                            ; args[0] high (LE) / low (BE)"} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q in\n%s", w, out)
		}
	}
}

func TestAssemble(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Instruction
	}{
		{"labels and next", `
			ld [0]              ; nr
			jeq #59, allow, next
			jne #0x3c, deny      // exit?
			allow: ret ALLOW
			deny:
			ret ERRNO(1)`,
			[]Instruction{LoadAbs(0), Jump(JmpJEQ, 59, 1, 0), Jump(JmpJEQ, 0x3c, 0, 1), Ret(RetAllow), Ret(RetErrno | 1)}},
		{"every form", `
			ld #len
			ldx len
			ld #0x10
			ldx #7
			st M[1]
			stx M[15]
			ld M[1]
			ldx M[15]
			add #1
			sub X
			neg
			tax
			txa
			ldh [2]
			ldb [3]
			jset X, 17, 18
			ja 18
			jlt #5, 18
			ret #0x10000
			ret a
			raw 0x94, 0, 0, 3`,
			[]Instruction{
				{Op: ClassLD | ModeLEN}, {Op: ClassLDX | ModeLEN}, LoadImm(16), {Op: ClassLDX | ModeIMM, K: 7},
				{Op: ClassST, K: 1}, {Op: ClassSTX, K: 15}, {Op: ClassLD | ModeMEM, K: 1}, {Op: ClassLDX | ModeMEM, K: 15},
				{Op: ClassALU | AluADD, K: 1}, {Op: ClassALU | AluSUB | SrcX}, {Op: ClassALU | AluNEG},
				{Op: ClassMISC | MiscTAX}, {Op: ClassMISC | MiscTXA},
				{Op: ClassLD | SizeH | ModeABS, K: 2}, {Op: ClassLD | SizeB | ModeABS, K: 3},
				{Op: ClassJMP | JmpJSET | SrcX, Jt: 1, Jf: 2}, Ja(1), Jump(JmpJGE, 5, 0, 0),
				Ret(0x10000), {Op: ClassRET | RetA}, {Op: ClassALU | AluMOD, K: 3},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Assemble(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got\n%s\nwant\n%s", Disassemble(got), Disassemble(tt.want))
			}
		})
	}
}

func TestAssembleErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown mnemonic", "ret ALLOW\nfoo #1", "line 2: foo #1: unknown mnemonic \"foo\""},
		{"undefined label", "jeq #1, yes, no\nret ALLOW", "line 1: undefined label \"yes\""},
		{"backward jump", "a: ld [0]\nja a\nret ALLOW", "line 2: jump target a (0) out of reach of instruction 1"},
		{"too far", "jeq #1, 300\nret ALLOW", "offset must be 0..255"},
		{"index mismatch", "0000: ld [0]\n0002: ret ALLOW", "line 2: index 0002 does not match instruction position 1"},
		{"duplicate label", "a: ld [0]\na: ret ALLOW", "line 2: label \"a\" defined twice"},
		{"bad number", "ld [zz]\nret ALLOW", "line 1: ld [zz]: bad number \"zz\""},
		{"bad action", "ret MAYBE", "line 1: ret MAYBE: parse action"},
		{"missing operand", "add", "line 1: add: want one operand"},
		{"extra operand", "tax #1", "takes no operands"},
		{"bad raw", "raw 1, 2, 300, 4", "raw field 3"},
		{"ldx abs", "ldx [4]", "want [k], #k, M[k] or len"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Assemble(tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Assemble error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestRoundTripRandom checks Assemble(Disassemble(p)) == p on random
// programs, valid or not.
func TestRoundTripRandom(t *testing.T) {
	for seed := range 2000 {
		b := make([]byte, 160)
		for i := range b {
			b[i] = byte((seed*7919 + i*104729) >> (i % 5))
		}
		checkRoundTrip(t, rawProgram(b))
		checkRoundTrip(t, genProgram(b))
	}
}

func checkRoundTrip(t *testing.T, prog []Instruction) {
	t.Helper()
	text := Disassemble(prog)
	back, err := Assemble(text)
	if err != nil {
		t.Fatalf("Assemble: %v\n%s", err, text)
	}
	if !slices.Equal(back, prog) {
		t.Fatalf("round trip differs:\n%s\nback:\n%s", text, Disassemble(back))
	}
}

// rawProgram reads instructions straight from bytes, 8 bytes each, at
// most 512 of them so that fuzzing stays fast.
func rawProgram(b []byte) []Instruction {
	var out []Instruction
	for len(b) >= 8 && len(out) < 512 {
		out = append(out, Instruction{
			Op: uint16(b[0]) | uint16(b[1]&0x01)<<8, Jt: b[2], Jf: b[3],
			K: uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24,
		})
		b = b[8:]
	}
	return out
}

func TestDisassembleNotes(t *testing.T) {
	x8664 := []Instruction{LoadAbs(OffsetArch), Jump(JmpJEQ, 0xc000003e, 0, 2), LoadAbs(OffsetNr)}
	tests := []struct {
		name string
		prog []Instruction
		want string
	}{
		{"x86_64 name", append(slices.Clone(x8664), Jump(JmpJEQ, 0, 0, 0), Ret(0)), "; read"},
		{"x32 name", append(slices.Clone(x8664), Jump(JmpJEQ, 0x40000208, 0, 0), Ret(0)), "; execve"},
		{"jset has none", append(slices.Clone(x8664), Jump(JmpJSET, 1, 0, 0), Ret(0)), "jset #0x1, 4, 4\n"},
		{"unknown arch lists none", []Instruction{LoadAbs(OffsetNr), Jump(JmpJEQ, 59, 0, 0), Ret(0)}, "jeq #0x3b, 2, 2\n"},
		{"two arches", []Instruction{
			LoadAbs(OffsetArch), Jump(JmpJEQ, 0xc000003e, 1, 0), Jump(JmpJEQ, 0x40000003, 0, 2),
			LoadAbs(OffsetNr), Jump(JmpJEQ, 11, 0, 0), Ret(0),
		}, "; x86: execve, x86_64: munmap"},
		{"after ret A unknown", []Instruction{LoadAbs(OffsetArch), {Op: ClassALU | AluNEG}, Jump(JmpJEQ, 0xc000003e, 0, 0), Ret(0)}, "jeq #0xc000003e, 3, 3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out := Disassemble(tt.prog); !strings.Contains(out, tt.want) {
				t.Fatalf("missing %q in\n%s", tt.want, out)
			}
		})
	}
}
