package bpf

import (
	"fmt"
	"strings"
)

// aluNames and jmpNames spell operations as bpf_asm does.
var (
	aluNames = map[uint16]string{
		AluADD: "add", AluSUB: "sub", AluMUL: "mul", AluDIV: "div", AluOR: "or", AluAND: "and",
		AluLSH: "lsh", AluRSH: "rsh", AluNEG: "neg", AluMOD: "mod", AluXOR: "xor",
	}
	jmpNames = map[uint16]string{JmpJA: "ja", JmpJEQ: "jeq", JmpJGT: "jgt", JmpJGE: "jge", JmpJSET: "jset"}
)

// Disassemble renders prog one instruction a line, like `seccomp-tools
// disasm`: index, mnemonic with absolute jump targets, and a comment saying
// what a load reads and which architecture or system call a comparison
// names, e.g.
//
//	0002: jeq #0x3b, 3, 4             ; execve
//
// Assemble parses the text back into the same instructions, for any
// program, valid or not; opcodes without a mnemonic are written as
// `raw OP, JT, JF, K`.
func Disassemble(prog []Instruction) string {
	notes := annotate(prog)
	var b strings.Builder
	for pc, ins := range prog {
		line := fmt.Sprintf("%04d: %s", pc, mnemonic(pc, ins))
		if notes[pc] != "" {
			line = fmt.Sprintf("%-40s ; %s", line, notes[pc])
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// mnemonic spells one instruction. Jump targets are absolute indexes.
func mnemonic(pc int, ins Instruction) string {
	if s, ok := spell(pc, ins); ok {
		return s
	}
	return fmt.Sprintf("raw 0x%02x, %d, %d, 0x%x", ins.Op, ins.Jt, ins.Jf, ins.K)
}

// spell returns the mnemonic form, or false when the instruction has none
// that keeps every field (an unknown opcode, or jt/jf/k set where the
// opcode ignores them).
func spell(pc int, ins Instruction) (string, bool) {
	k := ins.K
	if ins.Class() != ClassJMP && (ins.Jt != 0 || ins.Jf != 0) {
		return "", false
	}
	switch ins.Op {
	case ClassLD | SizeW | ModeABS:
		return fmt.Sprintf("ld [%d]", k), true
	case ClassLD | SizeH | ModeABS:
		return fmt.Sprintf("ldh [%d]", k), true
	case ClassLD | SizeB | ModeABS:
		return fmt.Sprintf("ldb [%d]", k), true
	case ClassLD | ModeIMM:
		return fmt.Sprintf("ld #0x%x", k), true
	case ClassLDX | ModeIMM:
		return fmt.Sprintf("ldx #0x%x", k), true
	case ClassLD | ModeMEM:
		return fmt.Sprintf("ld M[%d]", k), true
	case ClassLDX | ModeMEM:
		return fmt.Sprintf("ldx M[%d]", k), true
	case ClassST:
		return fmt.Sprintf("st M[%d]", k), true
	case ClassSTX:
		return fmt.Sprintf("stx M[%d]", k), true
	case ClassLD | SizeW | ModeLEN:
		return "ld len", k == 0
	case ClassLDX | SizeW | ModeLEN:
		return "ldx len", k == 0
	case ClassMISC | MiscTAX:
		return "tax", k == 0
	case ClassMISC | MiscTXA:
		return "txa", k == 0
	case ClassRET | RetA:
		return "ret A", k == 0
	case ClassRET | RetK:
		return "ret " + retOperand(k), true
	case ClassALU | AluNEG:
		return "neg", k == 0
	case ClassJMP | JmpJA:
		if ins.Jt != 0 || ins.Jf != 0 {
			return "", false
		}
		return fmt.Sprintf("ja %d", uint64(pc)+1+uint64(k)), true
	}
	op := ins.Op &^ SrcX
	switch ins.Class() {
	case ClassALU:
		name, ok := aluNames[op&0xf0]
		if !ok || op&0xff0f != ClassALU || op == ClassALU|AluNEG {
			return "", false
		}
		if ins.Op&SrcX != 0 {
			return name + " X", k == 0
		}
		return fmt.Sprintf("%s #0x%x", name, k), true
	case ClassJMP:
		name, ok := jmpNames[op&0xf0]
		if !ok || op&0xff0f != ClassJMP || op == ClassJMP|JmpJA {
			return "", false
		}
		jt, jf := pc+1+int(ins.Jt), pc+1+int(ins.Jf)
		if ins.Op&SrcX != 0 {
			return fmt.Sprintf("%s X, %d, %d", name, jt, jf), k == 0
		}
		return fmt.Sprintf("%s #0x%x, %d, %d", name, k, jt, jf), true
	}
	return "", false
}

// retOperand spells a return constant: an action name (ALLOW, ERRNO(1))
// when the action is known, else #0x… .
func retOperand(k uint32) string {
	s := ActionString(k)
	if strings.HasPrefix(s, "0x") {
		return "#" + s
	}
	return s
}

// opcodeName names an opcode for error messages: its mnemonic, or "unknown".
func opcodeName(op uint16) string {
	switch op {
	case ClassLD | SizeW | ModeIND, ClassLD | SizeH | ModeIND, ClassLD | SizeB | ModeIND:
		return "indirect load"
	case ClassLDX | SizeB | ModeMSH:
		return "ldxb msh"
	}
	s, ok := spell(0, Instruction{Op: op})
	if !ok {
		return "unknown"
	}
	name, _, _ := strings.Cut(s, " ")
	switch op {
	case ClassLD | SizeH | ModeABS, ClassLD | SizeB | ModeABS:
		return name + " [k]"
	}
	return name
}
