package bpf

import (
	"errors"
	"fmt"
)

// ErrTooLarge is wrapped by Validate's error for a program longer than
// MaxInstructions.
var ErrTooLarge = errors.New("program longer than 4096 instructions")

// ErrEmpty is wrapped by Validate's error for a program of no instructions.
var ErrEmpty = errors.New("empty program")

// InstructionError is a reason the kernel would reject a program, tied to
// the instruction at Index.
type InstructionError struct {
	Index  int
	Reason string
}

func (e *InstructionError) Error() string {
	return fmt.Sprintf("instruction %d: %s", e.Index, e.Reason)
}

// Validate reports whether seccomp(2) would accept prog, with the kernel's
// own checks: the length limits of seccomp_prepare_filter, the opcode,
// constant, jump and final-return checks of bpf_check_classic, its
// scratch-memory check check_load_and_stores, and the seccomp opcode
// allowlist and load bounds of seccomp_check_filter. A program Validate
// accepts is one the kernel accepts, and vice versa.
func Validate(prog []Instruction) error {
	switch {
	case len(prog) == 0:
		return fmt.Errorf("validate program: %w", ErrEmpty)
	case len(prog) > MaxInstructions:
		return fmt.Errorf("validate program: %d instructions: %w", len(prog), ErrTooLarge)
	}
	for pc, ins := range prog {
		if reason := checkInstruction(prog, pc, ins); reason != "" {
			return &InstructionError{Index: pc, Reason: reason}
		}
	}
	last := len(prog) - 1
	if op := prog[last].Op; op != ClassRET|RetK && op != ClassRET|RetA {
		return &InstructionError{Index: last, Reason: "last instruction must be a ret"}
	}
	return checkLoadsAndStores(prog)
}

// checkInstruction returns why the kernel rejects the instruction at pc,
// or "" when it does not.
func checkInstruction(prog []Instruction, pc int, ins Instruction) string {
	if !seccompAllowed(ins.Op) {
		return fmt.Sprintf("opcode 0x%02x (%s) not allowed in seccomp filters", ins.Op, opcodeName(ins.Op))
	}
	switch ins.Op {
	case ClassALU | AluDIV | SrcK:
		if ins.K == 0 {
			return "division by constant zero"
		}
	case ClassALU | AluLSH | SrcK, ClassALU | AluRSH | SrcK:
		if ins.K >= 32 {
			return fmt.Sprintf("shift by %d, must be < 32", ins.K)
		}
	case ClassLD | ModeMEM, ClassLDX | ModeMEM, ClassST, ClassSTX:
		if ins.K >= MemWords {
			return fmt.Sprintf("scratch memory index %d out of range, must be < %d", ins.K, MemWords)
		}
	case ClassLD | SizeW | ModeABS:
		if ins.K >= DataSize || ins.K&3 != 0 {
			return fmt.Sprintf("load offset %d outside seccomp_data: must be a multiple of 4 below %d", ins.K, DataSize)
		}
	case ClassJMP | JmpJA:
		// The kernel compares unsigned: any k ≥ len-pc-1 is out.
		if uint64(ins.K) >= uint64(len(prog)-pc-1) {
			return fmt.Sprintf("jump target %d beyond end of program (len %d)", uint64(pc)+1+uint64(ins.K), len(prog))
		}
	default:
		if ins.IsConditionalJump() {
			for _, off := range []uint8{ins.Jt, ins.Jf} {
				if t := pc + 1 + int(off); t >= len(prog) {
					return fmt.Sprintf("jump target %d beyond end of program (len %d)", t, len(prog))
				}
			}
		}
	}
	return ""
}

// seccompAllowed is the intersection of the kernel's chk_code_allowed and
// seccomp_check_filter's allowlist: the opcodes a seccomp filter may use.
// BPF_MOD, byte and half-word loads, indirect loads and BPF_MSH are
// classic BPF but not seccomp.
func seccompAllowed(op uint16) bool {
	switch op {
	case ClassLD | SizeW | ModeABS, ClassLD | SizeW | ModeLEN, ClassLDX | SizeW | ModeLEN,
		ClassLD | ModeIMM, ClassLDX | ModeIMM, ClassLD | ModeMEM, ClassLDX | ModeMEM,
		ClassST, ClassSTX,
		ClassRET | RetK, ClassRET | RetA,
		ClassALU | AluNEG,
		ClassMISC | MiscTAX, ClassMISC | MiscTXA,
		ClassJMP | JmpJA:
		return true
	}
	switch op &^ SrcX {
	case ClassALU | AluADD, ClassALU | AluSUB, ClassALU | AluMUL, ClassALU | AluDIV,
		ClassALU | AluAND, ClassALU | AluOR, ClassALU | AluXOR, ClassALU | AluLSH, ClassALU | AluRSH,
		ClassJMP | JmpJEQ, ClassJMP | JmpJGT, ClassJMP | JmpJGE, ClassJMP | JmpJSET:
		return true
	}
	return false
}

// checkLoadsAndStores is the kernel's check_load_and_stores, kept to its
// exact, path-insensitive algorithm so that acceptance matches: one bit per
// scratch word, intersected at jump targets, reset to all-valid after a
// jump, and (unlike after a jump) carried on past a ret.
func checkLoadsAndStores(prog []Instruction) error {
	masks := make([]uint16, len(prog))
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, ins := range prog {
		valid &= masks[pc]
		switch {
		case ins.Op == ClassST || ins.Op == ClassSTX:
			valid |= 1 << ins.K
		case ins.Op == ClassLD|ModeMEM || ins.Op == ClassLDX|ModeMEM:
			if valid&(1<<ins.K) == 0 {
				return &InstructionError{Index: pc, Reason: fmt.Sprintf("load of M[%d] before a store to it on some path", ins.K)}
			}
		case ins.IsJa():
			masks[pc+1+int(ins.K)] &= valid
			valid = 0xffff
		case ins.IsConditionalJump():
			masks[pc+1+int(ins.Jt)] &= valid
			masks[pc+1+int(ins.Jf)] &= valid
			valid = 0xffff
		}
	}
	return nil
}
