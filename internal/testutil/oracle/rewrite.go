package oracle

import (
	"slices"

	"github.com/sysfence/sysfence/bpf"
)

// rewrite returns prog behind a guard and with every `ret #k` turned into
// ERRNO(errnoBase+index of k in rets).
//
// The guard lets every system call whose number is not in nrs through
// with ALLOW, so the child's Go runtime keeps working; the probed numbers
// go on to prog with A and X reset to 0, the state a filter starts in.
// Jumps inside prog are relative and need no change.
func rewrite(prog []bpf.Instruction, rets []uint32, nrs []int32) []bpf.Instruction {
	n := len(nrs)
	out := make([]bpf.Instruction, 0, 2*n+4+len(prog))
	out = append(out, bpf.LoadAbs(bpf.OffsetNr))
	for i, nr := range nrs {
		// Pair i sits at 1+2i; its ja jumps past the remaining pairs and
		// the ret to the start of prog at 2n+2.
		out = append(out, bpf.Jump(bpf.JmpJEQ, uint32(nr), 0, 1), bpf.Ja(uint32(2*(n-i)-1)))
	}
	out = append(out,
		bpf.Ret(bpf.RetAllow),
		bpf.LoadImm(0),
		bpf.Instruction{Op: bpf.ClassLDX | bpf.ModeIMM},
	)
	for _, in := range prog {
		if in.IsRet() {
			in.K = bpf.RetErrno | uint32(errnoBase+slices.Index(rets, in.K))
		}
		out = append(out, in)
	}
	return out
}
