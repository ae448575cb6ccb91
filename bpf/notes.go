package bpf

import (
	"fmt"
	"strings"

	"github.com/sysfence/sysfence/syscalls"
)

// auditTokens lists the distinct AUDIT_ARCH values of syscalls.Arches; a
// set of possible architectures is a bit mask over it, with otherArch for
// tokens no table knows.
var auditTokens = func() []uint32 {
	var out []uint32
	seen := map[uint32]bool{}
	for _, a := range syscalls.Arches {
		if !seen[a.Audit] {
			seen[a.Audit] = true
			out = append(out, a.Audit)
		}
	}
	return out
}()

const otherArch = uint64(1) << 63

const allArches = ^uint64(0)

func archBit(token uint32) uint64 {
	for i, t := range auditTokens {
		if t == token {
			return 1 << i
		}
	}
	return otherArch
}

// AuditArchName returns the kernel's AUDIT_ARCH_* name of an audit-arch
// token ("AUDIT_ARCH_X86_64"), or "" if no known architecture has it.
func AuditArchName(token uint32) string {
	as := syscalls.ForAudit(token)
	if len(as) == 0 {
		return ""
	}
	switch n := as[0].Name; n {
	case "x86":
		return "AUDIT_ARCH_I386"
	case "sh":
		return "AUDIT_ARCH_SHEL"
	case "sheb":
		return "AUDIT_ARCH_SH"
	default:
		return "AUDIT_ARCH_" + strings.ToUpper(n)
	}
}

// flow is what the disassembler knows before an instruction: what A holds
// (a word of seccomp_data, a constant, or unknown) and which audit-arch
// tokens are still possible.
type flow struct {
	reached bool
	kind    uint8 // aUnknown, aWord, aConst
	val     uint32
	arches  uint64
}

const (
	aUnknown uint8 = iota
	aWord
	aConst
)

func (f *flow) join(o flow) {
	if !f.reached {
		*f = o
		return
	}
	if f.kind != o.kind || f.val != o.val {
		f.kind, f.val = aUnknown, 0
	}
	f.arches |= o.arches
}

// annotate computes a comment for each instruction by a forward pass: all
// jumps go forward, so each instruction's predecessors come before it.
func annotate(prog []Instruction) []string {
	in := make([]flow, len(prog))
	notes := make([]string, len(prog))
	if len(prog) > 0 {
		in[0] = flow{reached: true, arches: allArches}
	}
	flowTo := func(t uint64, f flow) {
		if t < uint64(len(prog)) {
			in[t].join(f)
		}
	}
	for pc, ins := range prog {
		st := in[pc]
		if !st.reached {
			notes[pc] = "unreachable"
			continue
		}
		notes[pc] = note(ins, st)
		next := uint64(pc) + 1
		switch {
		case ins.IsRet():
		case ins.IsJa():
			flowTo(next+uint64(ins.K), st)
		case ins.IsConditionalJump():
			t, f := st, st
			if st.kind == aWord && st.val == OffsetArch && ins.Op == ClassJMP|JmpJEQ|SrcK {
				t.arches &= archBit(ins.K)
				if bit := archBit(ins.K); bit != otherArch {
					f.arches &^= bit
				}
			}
			flowTo(next+uint64(ins.Jt), t)
			flowTo(next+uint64(ins.Jf), f)
		default:
			flowTo(next, transfer(ins, st))
		}
	}
	return notes
}

// transfer is the effect of an instruction on what A holds.
func transfer(ins Instruction, st flow) flow {
	if c := ins.Class(); c == ClassJMP || c == ClassRET {
		return st
	}
	switch ins.Op {
	case ClassLD | SizeW | ModeABS:
		st.kind, st.val = aWord, ins.K
	case ClassLD | ModeIMM:
		st.kind, st.val = aConst, ins.K
	case ClassLD | SizeW | ModeLEN:
		st.kind, st.val = aConst, DataSize
	case ClassLDX | ModeIMM, ClassLDX | ModeMEM, ClassLDX | SizeW | ModeLEN, ClassST, ClassSTX, ClassMISC | MiscTAX:
		// A unchanged.
	default:
		st.kind, st.val = aUnknown, 0
	}
	return st
}

// note is the comment for one reached instruction.
func note(ins Instruction, st flow) string {
	if ins.Op == ClassLD|SizeW|ModeABS {
		return fieldName(ins.K, byteOrder(st.arches))
	}
	if !ins.IsConditionalJump() || ins.Op&SrcX != 0 || st.kind != aWord {
		return ""
	}
	switch st.val {
	case OffsetArch:
		return AuditArchName(ins.K)
	case OffsetNr:
		return syscallNote(ins, st.arches)
	}
	return ""
}

// byteOrder is "le", "be", or "" when the possible arches disagree.
func byteOrder(set uint64) string {
	if set&otherArch != 0 {
		return ""
	}
	le, be := false, false
	for _, a := range syscalls.Arches {
		if set&archBit(a.Audit) != 0 {
			le, be = le || !a.BigEndian, be || a.BigEndian
		}
	}
	switch {
	case le && !be:
		return "le"
	case be && !le:
		return "be"
	}
	return ""
}

// fieldName names the seccomp_data word at offset off.
func fieldName(off uint32, order string) string {
	switch {
	case off >= DataSize || off&3 != 0:
		return "outside seccomp_data"
	case off == OffsetNr:
		return "nr"
	case off == OffsetArch:
		return "arch"
	}
	field := "ip"
	if off >= OffsetArgs {
		field = fmt.Sprintf("args[%d]", (off-OffsetArgs)/8)
	}
	high := off&4 != 0
	switch order {
	case "le":
	case "be":
		high = !high
	default:
		if high {
			return field + " high (LE) / low (BE)"
		}
		return field + " low (LE) / high (BE)"
	}
	if high {
		return field + " high"
	}
	return field + " low"
}

// syscallNote names the system call(s) a comparison of nr with k refers
// to on each architecture still possible, when there are at most three.
func syscallNote(ins Instruction, set uint64) string {
	if set&otherArch != 0 || ins.Op&0xf0 == JmpJSET {
		return ""
	}
	var parts []string
	for i, tok := range auditTokens {
		if set&(1<<i) == 0 {
			continue
		}
		if len(parts) == 3 {
			return ""
		}
		parts = append(parts, numberName(tok, ins.K, ins.Op&0xf0 != JmpJEQ))
	}
	prefix := map[uint16]string{JmpJGT: "> ", JmpJGE: ">= "}[ins.Op&0xf0]
	if len(parts) == 1 {
		if parts[0] == "" {
			return ""
		}
		return prefix + strings.SplitN(parts[0], ": ", 2)[1]
	}
	var named []string
	for _, p := range parts {
		if p != "" {
			named = append(named, p)
		}
	}
	if len(named) == 0 {
		return ""
	}
	return prefix + strings.Join(named, ", ")
}

// numberName is "arch: name" for system call number nr under token, or "".
// A bound (jge/jgt) at the x32 bit on x86_64 is the x32 guard.
func numberName(token, nr uint32, bound bool) string {
	a := syscalls.ForNumber(token, nr)
	if a == nil {
		return ""
	}
	if bound && token == syscalls.X86_64.Audit && nr == syscalls.X32Bit {
		return "x86_64: X32_SYSCALL_BIT"
	}
	name, ok := a.SyscallName(nr)
	if !ok {
		return ""
	}
	return a.Name + ": " + name
}
