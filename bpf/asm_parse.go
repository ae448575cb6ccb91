package bpf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// swapped maps the inverse comparisons the assembler accepts onto the
// kernel's, whose targets are then exchanged.
var swapped = map[string]uint16{"jne": JmpJEQ, "jneq": JmpJEQ, "jlt": JmpJGE, "jle": JmpJGT}

// parseInstruction builds one instruction from a mnemonic and operands.
func parseInstruction(mn string, ops []string) (pending, error) {
	for op, name := range aluNames {
		if name == mn {
			return parseALU(op, ops)
		}
	}
	for op, name := range jmpNames {
		if name == mn && op != JmpJA {
			return parseCond(op, false, ops)
		}
	}
	if op, ok := swapped[mn]; ok {
		return parseCond(op, true, ops)
	}
	switch mn {
	case "ld", "ldx":
		return parseLoad(mn == "ldx", ops)
	case "ldh", "ldb":
		size := map[string]uint16{"ldh": SizeH, "ldb": SizeB}[mn]
		k, err := oneOperand(ops, "[", "]")
		return pending{ins: Instruction{Op: ClassLD | size | ModeABS, K: k}}, err
	case "st", "stx":
		k, err := oneOperand(ops, "M[", "]")
		op := map[string]uint16{"st": ClassST, "stx": ClassSTX}[mn]
		return pending{ins: Instruction{Op: op, K: k}}, err
	case "tax", "txa":
		op := map[string]uint16{"tax": ClassMISC | MiscTAX, "txa": ClassMISC | MiscTXA}[mn]
		return pending{ins: Instruction{Op: op}}, noOperands(ops)
	case "ja", "jmp":
		if len(ops) != 1 {
			return pending{}, errors.New("want one jump target")
		}
		return pending{ins: Ja(0), jt: ops[0]}, nil
	case "ret":
		return parseRet(ops)
	case "raw":
		return parseRaw(ops)
	}
	return pending{}, fmt.Errorf("unknown mnemonic %q", mn)
}

func noOperands(ops []string) error {
	if len(ops) != 0 {
		return errors.New("takes no operands")
	}
	return nil
}

// oneOperand parses a single operand of the form prefix NUMBER suffix.
func oneOperand(ops []string, prefix, suffix string) (uint32, error) {
	if len(ops) != 1 {
		return 0, fmt.Errorf("want one operand %sk%s", prefix, suffix)
	}
	s := ops[0]
	if !strings.HasPrefix(strings.ToUpper(s), prefix) || !strings.HasSuffix(s, suffix) {
		return 0, fmt.Errorf("operand %q: want %sk%s", s, prefix, suffix)
	}
	return number(s[len(prefix) : len(s)-len(suffix)])
}

func number(s string) (uint32, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return uint32(n), nil
}

// parseLoad handles ld and ldx: [k], #k, M[k] and len.
func parseLoad(x bool, ops []string) (pending, error) {
	class := uint16(ClassLD)
	if x {
		class = ClassLDX
	}
	if len(ops) != 1 {
		return pending{}, errors.New("want one operand")
	}
	s := ops[0]
	var op uint16
	var prefix string
	switch {
	case strings.EqualFold(s, "len") || strings.EqualFold(s, "#len"):
		return pending{ins: Instruction{Op: class | SizeW | ModeLEN}}, nil
	case strings.HasPrefix(s, "#"):
		op, prefix = class|ModeIMM, "#"
	case strings.HasPrefix(strings.ToUpper(s), "M["):
		op, prefix = class|ModeMEM, "M["
	case strings.HasPrefix(s, "[") && !x:
		op, prefix = class|SizeW|ModeABS, "["
	default:
		return pending{}, fmt.Errorf("operand %q: want [k], #k, M[k] or len", s)
	}
	suffix := ""
	if strings.HasSuffix(prefix, "[") {
		suffix = "]"
	}
	k, err := oneOperand(ops, prefix, suffix)
	return pending{ins: Instruction{Op: op, K: k}}, err
}

// source parses the compared or combined operand: #k or X.
func source(s string) (uint16, uint32, error) {
	if strings.EqualFold(s, "x") {
		return SrcX, 0, nil
	}
	if !strings.HasPrefix(s, "#") {
		return 0, 0, fmt.Errorf("operand %q: want #k or X", s)
	}
	k, err := number(s[1:])
	return SrcK, k, err
}

func parseALU(op uint16, ops []string) (pending, error) {
	if op == AluNEG {
		return pending{ins: Instruction{Op: ClassALU | AluNEG}}, noOperands(ops)
	}
	if len(ops) != 1 {
		return pending{}, errors.New("want one operand #k or X")
	}
	src, k, err := source(ops[0])
	return pending{ins: Instruction{Op: ClassALU | op | src, K: k}}, err
}

// parseCond handles `jeq #k, T[, F]`; swap exchanges T and F for the
// inverse mnemonics.
func parseCond(op uint16, swap bool, ops []string) (pending, error) {
	if len(ops) < 2 || len(ops) > 3 {
		return pending{}, errors.New("want #k or X, a true target and an optional false target")
	}
	src, k, err := source(ops[0])
	if err != nil {
		return pending{}, err
	}
	t, f := ops[1], "next"
	if len(ops) == 3 {
		f = ops[2]
	}
	if swap {
		t, f = f, t
	}
	return pending{ins: Instruction{Op: ClassJMP | op | src, K: k}, jt: t, jf: f}, nil
}

func parseRet(ops []string) (pending, error) {
	if len(ops) != 1 {
		return pending{}, errors.New("want one operand: A, #k or an action")
	}
	s := ops[0]
	if strings.EqualFold(s, "a") {
		return pending{ins: Instruction{Op: ClassRET | RetA}}, nil
	}
	var k uint32
	var err error
	if strings.HasPrefix(s, "#") {
		k, err = number(s[1:])
	} else {
		k, err = ParseAction(s)
	}
	return pending{ins: Ret(k)}, err
}

// parseRaw handles `raw OP, JT, JF, K` with relative jt and jf.
func parseRaw(ops []string) (pending, error) {
	if len(ops) != 4 {
		return pending{}, errors.New("want OP, JT, JF, K")
	}
	var v [4]uint64
	limits := [4]int{16, 8, 8, 32}
	for i, s := range ops {
		n, err := strconv.ParseUint(s, 0, limits[i])
		if err != nil {
			return pending{}, fmt.Errorf("raw field %d: bad number %q", i+1, s)
		}
		v[i] = n
	}
	return pending{ins: Instruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}}, nil
}
