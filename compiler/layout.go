package compiler

import (
	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
)

// segment is a run of syscall numbers [lo, hi] under one audit-arch token
// that share a decision.
type segment struct {
	lo, hi uint32
	d      *decision
	weight uint64 // how many numbers of the arches' tables it holds
	// exceptions are single numbers inside [lo, hi] with another constant
	// verdict, tested with one jeq each in the leaf: cheaper than splitting
	// the range around them in the tree.
	exceptions []segment
}

// coalesce merges neighbouring segments whose constant verdicts are equal.
func coalesce(segs []segment) []segment {
	var out []segment
	for _, s := range segs {
		if n := len(out); n > 0 && out[n-1].hi+1 == s.lo && out[n-1].d.constant() && s.d.constant() &&
			out[n-1].d.fallback == s.d.fallback {
			out[n-1].hi = s.hi
			out[n-1].weight += s.weight
			continue
		}
		out = append(out, s)
	}
	return out
}

// liftExceptions merges runs "A, x, A" where x is a single number with
// another constant verdict into one segment A with exception x, at most
// maxExceptions per segment.
func liftExceptions(segs []segment, maxExceptions int) []segment {
	var out []segment
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		n := len(out)
		if n > 0 && i+1 < len(segs) && s.lo == s.hi && s.d.constant() && len(s.exceptions) == 0 {
			prev, next := out[n-1], segs[i+1]
			if prev.d.constant() && next.d.constant() && prev.d.fallback == next.d.fallback &&
				len(next.exceptions) == 0 && len(prev.exceptions) < maxExceptions {
				prev.hi = next.hi
				prev.exceptions = append(prev.exceptions, s)
				out[n-1] = prev
				i++
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// numberRange is a range of real syscall numbers and the weight each of
// its numbers gets in the search tree.
type numberRange struct {
	lo, hi    uint32
	perNumber uint64
}

// weigh sets each segment's weight from the real syscall numbers it holds,
// plus one so that empty segments still stay shallow; argument-checked
// segments get extra weight, since they cost more to reach.
func weigh(segs []segment, ranges []numberRange) {
	for i := range segs {
		var w uint64
		for _, r := range ranges {
			lo, hi := max(segs[i].lo, r.lo), min(segs[i].hi, r.hi)
			if lo <= hi {
				w += (uint64(hi-lo) + 1) * r.perNumber
			}
		}
		segs[i].weight = w + 1
		if !segs[i].d.constant() {
			segs[i].weight += argCheckedBonus
		}
	}
}

// Weights of the search tree: a native syscall number counts nativeWeight,
// an x32 number (an ABI few programs use, sharing x86_64's token) x32Weight,
// and an argument-checked call as argCheckedBonus extra numbers, so that
// such calls, whose leaves are long, sit high in the tree.
const (
	nativeWeight    = 16
	x32Weight       = 2
	argCheckedBonus = 32 * nativeWeight
)

// searchTree is an optimal alphabetic tree over segments: root[i][j] is the
// segment where the subtree over segments i..j splits (segments ≥ root go
// right). Knuth's speed-up keeps it O(n²).
type searchTree struct {
	root [][]int
}

func buildTree(segs []segment) *searchTree {
	n := len(segs)
	prefix := make([]uint64, n+1)
	for i, s := range segs {
		prefix[i+1] = prefix[i] + s.weight
	}
	cost := make([][]uint64, n)
	root := make([][]int, n)
	for i := range cost {
		cost[i] = make([]uint64, n)
		root[i] = make([]int, n)
		root[i][i] = i
		cost[i][i] = segs[i].weight * uint64(len(segs[i].exceptions))
	}
	for length := 2; length <= n; length++ {
		for i := 0; i+length-1 < n; i++ {
			j := i + length - 1
			lo, hi := max(root[i][j-1], i+1), root[i+1][j]
			if length == 2 {
				lo, hi = j, j
			}
			best, bestK := ^uint64(0), lo
			for k := lo; k <= hi; k++ {
				c := cost[i][k-1] + cost[k][j]
				if c < best {
					best, bestK = c, k
				}
			}
			cost[i][j] = best + prefix[j+1] - prefix[i]
			root[i][j] = bestK
		}
	}
	return &searchTree{root: root}
}

// emitTree emits the comparisons that route A (the syscall number) to the
// leaf of segments i..j.
func (e *emitter) emitTree(segs []segment, tree *searchTree, i, j int) {
	if i == j {
		e.arch = e.owner(segs[i].lo)
		for _, x := range segs[i].exceptions {
			e.b.IfTrue(bpf.JmpJEQ, x.lo, e.ret(x.d.fallback))
		}
		e.emitLeaf(segs[i].d)
		return
	}
	k := tree.root[i][j]
	right := e.b.NewLabel()
	e.b.IfTrue(bpf.JmpJGE, segs[k].lo, right)
	e.emitTree(segs, tree, i, k-1)
	e.b.Place(right)
	e.emitTree(segs, tree, k, j)
}

// emitLeaf emits a decision: a jump to a shared return, or argument checks.
func (e *emitter) emitLeaf(d *decision) {
	if d.constant() {
		e.b.Goto(e.ret(d.fallback))
		return
	}
	e.emitArgChecks(d)
}

// ret returns the label of the shared `ret` for an action.
func (e *emitter) ret(a profile.Action) bpf.Label {
	v := a.Value()
	if l, ok := e.rets[v]; ok {
		return l
	}
	l := e.b.NewLabel()
	e.rets[v] = l
	e.retOrder = append(e.retOrder, v)
	return l
}
