package bpf

import (
	"slices"
	"sort"
)

// maxOffset is the largest conditional jump offset: jt and jf are 8 bits.
const maxOffset = 255

// ThreadJumps retargets every jump past the unconditional jumps it lands
// on, and past conditional jumps whose outcome is already known there (the
// same test again, or any test after `jeq #k` was true); conditional jumps
// only as far as an 8-bit offset reaches, so a trampoline `ja` stays when
// needed. A conditional jump whose targets agree becomes `ja`, and `ja 0`
// is removed.
func ThreadJumps(prog []Instruction) ([]Instruction, bool) {
	if !jumpsInRange(prog) {
		return prog, false
	}
	out := slices.Clone(prog)
	changed := false
	for pc, ins := range out {
		switch {
		case ins.IsJa():
			if t := followJa(out, uint64(pc)+1+uint64(ins.K)); t != uint64(pc)+1+uint64(ins.K) {
				out[pc].K = uint32(t - uint64(pc) - 1)
				changed = true
			}
		case ins.IsConditionalJump():
			jt, jf := chase(out, pc, true), chase(out, pc, false)
			if jt != ins.Jt || jf != ins.Jf {
				out[pc].Jt, out[pc].Jf = jt, jf
				changed = true
			}
			if jt == jf {
				out[pc] = Ja(uint32(jt))
				changed = true
			}
		}
	}
	keep := make([]bool, len(out))
	removed := false
	for pc, ins := range out {
		keep[pc] = !(ins.IsJa() && ins.K == 0)
		removed = removed || !keep[pc]
	}
	if removed {
		out = compact(out, keep)
	}
	return out, changed || removed
}

// followJa follows a chain of unconditional jumps from t.
func followJa(prog []Instruction, t uint64) uint64 {
	for range prog {
		if t >= uint64(len(prog)) || !prog[t].IsJa() {
			break
		}
		t += 1 + uint64(prog[t].K)
	}
	return t
}

// chase returns the offset of the furthest instruction within reach that
// the given branch of the conditional jump at pc is bound to arrive at.
func chase(prog []Instruction, pc int, branch bool) uint8 {
	ins := prog[pc]
	off := ins.Jf
	if branch {
		off = ins.Jt
	}
	best := off
	t := uint64(pc) + 1 + uint64(off)
	for range prog {
		n := prog[t]
		switch {
		case n.IsJa():
			t += 1 + uint64(n.K)
		case n.IsConditionalJump():
			outcome, known := decide(ins, branch, n)
			if !known {
				return best
			}
			if outcome {
				t += 1 + uint64(n.Jt)
			} else {
				t += 1 + uint64(n.Jf)
			}
		default:
			return best
		}
		if t >= uint64(len(prog)) {
			return best
		}
		if d := t - uint64(pc) - 1; d <= maxOffset {
			best = uint8(d)
		}
	}
	return best
}

// decide tells the outcome of the conditional jump next, reached from the
// given branch of first with A and X unchanged, if it is known.
func decide(first Instruction, branch bool, next Instruction) (outcome, known bool) {
	if next.Op == first.Op && (next.K == first.K || first.Op&SrcX != 0) {
		return branch, true
	}
	if first.Op != ClassJMP|JmpJEQ|SrcK || !branch || next.Op&SrcX != 0 {
		return false, false
	}
	a := first.K
	switch next.Op & 0xf0 {
	case JmpJEQ:
		return a == next.K, true
	case JmpJGT:
		return a > next.K, true
	case JmpJGE:
		return a >= next.K, true
	case JmpJSET:
		return a&next.K != 0, true
	}
	return false, false
}

// MergeReturns makes jumps share return instructions: a `ja` to a `ret`
// becomes that `ret`, and a conditional jump to a `ret` goes to the last
// identical `ret` within reach, so duplicates become dead code.
func MergeReturns(prog []Instruction) ([]Instruction, bool) {
	if !jumpsInRange(prog) {
		return prog, false
	}
	out := slices.Clone(prog)
	at := map[Instruction][]int{} // each distinct ret: its indexes, ascending
	for pc, ins := range out {
		if ins.IsRet() {
			at[ins] = append(at[ins], pc)
		}
	}
	changed := false
	for pc, ins := range out {
		switch {
		case ins.IsJa():
			if t := out[pc+1+int(ins.K)]; t.IsRet() {
				out[pc] = t
				changed = true
			}
		case ins.IsConditionalJump():
			jt, jf := lastRet(out, at, pc, ins.Jt), lastRet(out, at, pc, ins.Jf)
			if jt != ins.Jt || jf != ins.Jf {
				out[pc].Jt, out[pc].Jf = jt, jf
				changed = true
			}
		}
	}
	return out, changed
}

// lastRet returns the offset from pc of the last ret within reach that
// equals the ret at offset off, or off itself.
func lastRet(prog []Instruction, at map[Instruction][]int, pc int, off uint8) uint8 {
	t := prog[pc+1+int(off)]
	if !t.IsRet() {
		return off
	}
	idx := at[t]
	i := sort.SearchInts(idx, pc+1+maxOffset+1) - 1 // last index ≤ pc+256
	if i < 0 || idx[i] <= pc+1+int(off) {
		return off
	}
	return uint8(idx[i] - pc - 1)
}
