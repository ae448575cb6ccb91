package bpf

import "slices"

// Pass is one optimizer pass: it returns a program with the same verdict
// for every input, and whether it changed anything. A pass never mutates
// its argument, leaves programs whose jumps leave the program unchanged, and
// never needs a conditional offset over 255.
type Pass func([]Instruction) ([]Instruction, bool)

// Passes are the passes Optimize runs, in order, to a fixpoint.
var Passes = []Pass{ThreadJumps, RemoveDeadCode, RemoveRedundantLoads, MergeReturns}

// maxRounds bounds the fixpoint loop; every pass either shrinks the
// program or moves jump targets forward, so real programs settle in a few.
const maxRounds = 64

// Optimize runs Passes until none changes the program. It returns a valid
// program with the same verdict as prog on every input; an invalid prog is
// returned unchanged (as a copy). A pass result that the validator would
// refuse (possible only through the kernel's order-sensitive scratch-memory
// check) is dropped, so the result is always valid.
func Optimize(prog []Instruction) []Instruction {
	out := slices.Clone(prog)
	if Validate(out) != nil {
		return out
	}
	for range maxRounds {
		changed := false
		for _, pass := range Passes {
			next, ch := pass(out)
			if !ch || Validate(next) != nil {
				continue
			}
			out, changed = next, true
		}
		if !changed {
			break
		}
	}
	return out
}

// edges are where control can go after one instruction: up to two
// absolute pcs (a value, so that walking a program allocates nothing).
type edges struct {
	pc [2]uint64
	n  int
}

func (e edges) list() []uint64 { return e.pc[:e.n] }

// jumpsInRange reports whether every jump lands inside the program, which
// every pass requires before it follows jumps.
func jumpsInRange(prog []Instruction) bool {
	n := uint64(len(prog))
	for pc, ins := range prog {
		next := uint64(pc) + 1
		switch {
		case ins.IsJa():
			if next+uint64(ins.K) >= n {
				return false
			}
		case ins.IsConditionalJump():
			if next+uint64(max(ins.Jt, ins.Jf)) >= n {
				return false
			}
		}
	}
	return true
}

// successors lists where control can go after pc: a conditional jump's
// true target first.
func successors(prog []Instruction, pc int) edges {
	ins := prog[pc]
	next := uint64(pc) + 1
	switch {
	case ins.IsRet():
		return edges{}
	case ins.IsJa():
		return edges{[2]uint64{next + uint64(ins.K)}, 1}
	case ins.IsConditionalJump():
		return edges{[2]uint64{next + uint64(ins.Jt), next + uint64(ins.Jf)}, 2}
	}
	return edges{[2]uint64{next}, 1}
}

// compact drops the instructions not in keep and fixes every offset. A
// dropped instruction must be unreachable or do nothing but fall through:
// a jump to it lands on the next kept instruction. Offsets only shrink, so
// they keep fitting.
func compact(prog []Instruction, keep []bool) []Instruction {
	pos := make([]int, len(prog)+1) // pos[i] = kept instructions before i
	for i := range prog {
		pos[i+1] = pos[i]
		if keep[i] {
			pos[i+1]++
		}
	}
	out := make([]Instruction, 0, pos[len(prog)])
	for pc, ins := range prog {
		if !keep[pc] {
			continue
		}
		rel := func(off uint64) uint64 { return uint64(pos[uint64(pc)+1+off] - pos[pc] - 1) }
		switch {
		case ins.IsJa():
			ins.K = uint32(rel(uint64(ins.K)))
		case ins.IsConditionalJump():
			ins.Jt, ins.Jf = uint8(rel(uint64(ins.Jt))), uint8(rel(uint64(ins.Jf)))
		}
		out = append(out, ins)
	}
	return out
}

// RemoveDeadCode drops the instructions no path from the start reaches.
func RemoveDeadCode(prog []Instruction) ([]Instruction, bool) {
	if len(prog) == 0 || !jumpsInRange(prog) {
		return prog, false
	}
	reach := make([]bool, len(prog))
	reach[0] = true
	dead := false
	for pc := range prog {
		if !reach[pc] {
			dead = true
			continue
		}
		for _, t := range successors(prog, pc).list() {
			if t < uint64(len(prog)) {
				reach[t] = true
			}
		}
	}
	if !dead {
		return prog, false
	}
	return compact(prog, reach), true
}

// RemoveRedundantLoads drops `ld [k]`, `ld #k` and `ld len` where A
// provably holds that value already on every path into the instruction.
func RemoveRedundantLoads(prog []Instruction) ([]Instruction, bool) {
	if len(prog) == 0 || !jumpsInRange(prog) {
		return prog, false
	}
	in := make([]flow, len(prog))
	in[0] = flow{reached: true}
	keep := make([]bool, len(prog))
	removed := false
	for pc, ins := range prog {
		st := in[pc]
		keep[pc] = !st.reached || !redundantLoad(ins, st)
		if !st.reached {
			continue // dead code says nothing about its successors
		}
		removed = removed || !keep[pc]
		out := st
		if keep[pc] {
			out = transfer(ins, st)
		}
		for _, t := range successors(prog, pc).list() {
			if t < uint64(len(prog)) {
				in[t].join(out)
			}
		}
	}
	if !removed {
		return prog, false
	}
	return compact(prog, keep), true
}

// redundantLoad reports whether ins loads into A what A holds already.
func redundantLoad(ins Instruction, st flow) bool {
	switch ins.Op {
	case ClassLD | SizeW | ModeABS:
		return st.kind == aWord && st.val == ins.K
	case ClassLD | ModeIMM:
		return st.kind == aConst && st.val == ins.K
	case ClassLD | SizeW | ModeLEN:
		return st.kind == aConst && st.val == DataSize
	}
	return false
}
