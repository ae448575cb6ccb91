package bpf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// pending is one parsed instruction whose jump targets are still names.
type pending struct {
	ins    Instruction
	line   int
	jt, jf string // conditional targets; jt alone for ja
}

type assembler struct {
	out    []pending
	labels map[string]int
	errs   []error
}

// Assemble parses the text Disassemble writes, and a hand-written form of
// it, into instructions. Each line holds at most one instruction:
//
//	0000: ld [4]                ; a leading index must match the position
//	check: jeq #59, allow, next ; labels; next is the following instruction
//	jne #0xc000003e, kill       ; jne/jlt/jle swap jeq/jge/jgt; a missing
//	                            ; false target means next
//	allow: ret ALLOW
//	kill:  ret KILL_PROCESS
//
// Jump targets are absolute instruction indexes or labels; comments start
// with ';' or '//'. Numbers are decimal or 0x hex. Errors name the line.
// Assemble does not validate the program: use Validate.
func Assemble(text string) ([]Instruction, error) {
	a := &assembler{labels: map[string]int{}}
	for i, line := range strings.Split(text, "\n") {
		a.line(i+1, line)
	}
	prog := make([]Instruction, len(a.out))
	for pc, p := range a.out {
		prog[pc] = a.resolve(pc, p)
	}
	if len(a.errs) > 0 {
		return nil, errors.Join(a.errs...)
	}
	return prog, nil
}

func (a *assembler) errorf(line int, format string, args ...any) {
	a.errs = append(a.errs, fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...)))
}

// line parses one source line: labels, then an optional instruction.
func (a *assembler) line(n int, s string) {
	if i := strings.IndexAny(s, ";"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "//"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	for {
		label, rest, ok := strings.Cut(s, ":")
		label = strings.TrimSpace(label)
		if !ok || !isLabel(label) {
			break
		}
		a.define(n, label)
		s = strings.TrimSpace(rest)
	}
	if s == "" {
		return
	}
	mn, ops, _ := strings.Cut(s, " ")
	p, err := parseInstruction(strings.ToLower(mn), splitOperands(ops))
	if err != nil {
		a.errorf(n, "%s: %v", s, err)
		p = pending{ins: Ret(RetKillThread)}
	}
	p.line = n
	a.out = append(a.out, p)
}

// define binds a label, or checks a numeric index against the position.
func (a *assembler) define(line int, label string) {
	pc := len(a.out)
	if isDigits(label) {
		if n, err := strconv.Atoi(label); err != nil || n != pc {
			a.errorf(line, "index %s does not match instruction position %d", label, pc)
		}
		return
	}
	if label == "next" {
		a.errorf(line, "label name next is reserved")
		return
	}
	if _, dup := a.labels[label]; dup {
		a.errorf(line, "label %q defined twice", label)
		return
	}
	a.labels[label] = pc
}

// resolve turns target names into relative offsets.
func (a *assembler) resolve(pc int, p pending) Instruction {
	ins := p.ins
	if p.jt == "" {
		return ins
	}
	if ins.IsJa() {
		off, _ := a.offset(pc, p, p.jt, 1<<32-1)
		ins.K = uint32(off)
		return ins
	}
	t, _ := a.offset(pc, p, p.jt, 255)
	f, _ := a.offset(pc, p, p.jf, 255)
	ins.Jt, ins.Jf = uint8(t), uint8(f)
	return ins
}

// offset resolves one target to pc-relative form, at most limit.
func (a *assembler) offset(pc int, p pending, target string, limit uint64) (uint64, bool) {
	var t uint64
	switch {
	case target == "next":
		t = uint64(pc) + 1
	case isDigits(target):
		n, err := strconv.ParseUint(target, 10, 64)
		if err != nil {
			a.errorf(p.line, "bad jump target %q", target)
			return 0, false
		}
		t = n
	default:
		l, ok := a.labels[target]
		if !ok {
			a.errorf(p.line, "undefined label %q", target)
			return 0, false
		}
		t = uint64(l)
	}
	if t <= uint64(pc) || t-uint64(pc)-1 > limit {
		a.errorf(p.line, "jump target %s (%d) out of reach of instruction %d: offset must be 0..%d", target, t, pc, limit)
		return 0, false
	}
	return t - uint64(pc) - 1, true
}

func splitOperands(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	ops := strings.Split(s, ",")
	for i := range ops {
		ops[i] = strings.TrimSpace(ops[i])
	}
	return ops
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isLabel reports whether s can name a position: digits, or an identifier.
func isLabel(s string) bool {
	if isDigits(s) {
		return true
	}
	for i, c := range s {
		letter := c == '_' || c == '.' || (c|0x20 >= 'a' && c|0x20 <= 'z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}
