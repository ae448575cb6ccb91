package compiler

import (
	"sync"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
)

// segment is a run of syscall numbers [lo, hi] under one audit-arch token
// that share a decision.
type segment struct {
	lo, hi uint32
	d      *decision
	weight uint64 // how many numbers of the arches' tables it holds
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

// numberRange is a range of real syscall numbers and the weight each of
// its numbers gets in the search tree.
type numberRange struct {
	lo, hi    uint32
	perNumber uint64
}

// weigh sets each segment's weight from the real syscall numbers it holds,
// plus one so that empty segments still stay shallow; argument-checked
// segments get extra weight, since they cost more to reach.
func weigh(segs []segment, ranges []numberRange, bonus uint64) {
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
			segs[i].weight += bonus
		}
	}
}

// Weights of the search tree: a native syscall number counts nativeWeight,
// an x32 number (an ABI few programs use, sharing x86_64's token) x32Weight,
// and, on the native architecture, an argument-checked call as
// argCheckedBonus extra numbers, so that such calls, whose leaves are long,
// sit high in the tree; compat ABIs get a smaller bonus, tuned for their
// mean path while keeping every path within 16 instructions.
const (
	nativeWeight    = 16
	x32Weight       = 2
	argCheckedBonus = 16 * nativeWeight
	compatArgBonus  = 6 * nativeWeight // keeps compat paths within 16
)

// searchTree is an optimal alphabetic tree over segments: root(i, j) is the
// segment where the subtree over segments i..j splits (segments ≥ root go
// right), or exceptionLeaf when segments i..j are one verdict interrupted
// by single numbers, which a leaf tests with one jeq each. Knuth's bounds
// on the split keep the construction close to O(n²).
type searchTree struct {
	n     int
	roots []int16 // n×n, row-major: the chosen split, or exceptionLeaf
	split []int16 // n×n: the best split even where a leaf won (Knuth's bounds)
	buf   *treeBuffers
}

// treeBuffers are the dynamic-programming tables, reused across compiles:
// they are most of what compiling allocates.
type treeBuffers struct {
	cost         []uint32
	roots, split []int16
}

var treePool = sync.Pool{New: func() any { return new(treeBuffers) }}

func (b *treeBuffers) size(n int) {
	if cap(b.cost) < n {
		b.cost, b.roots, b.split = make([]uint32, n), make([]int16, n), make([]int16, n)
	}
	b.cost, b.roots, b.split = b.cost[:n], b.roots[:n], b.split[:n]
}

// release returns the tree's tables to the pool; t is unusable after.
func (t *searchTree) release() {
	treePool.Put(t.buf)
	t.buf, t.roots, t.split = nil, nil, nil
}

const exceptionLeaf = -1

// maxExceptions is how many single-number exceptions a leaf may test.
const maxExceptions = 2

func (t *searchTree) root(i, j int) int { return int(t.roots[i*t.n+j]) }

func buildTree(segs []segment) *searchTree {
	n := len(segs)
	prefix := make([]uint64, n+1)
	for i, s := range segs {
		prefix[i+1] = prefix[i] + s.weight
	}
	if n > 1<<15 || prefix[n] > 1<<26 {
		// Segments are bounded by twice the numbers a profile can name, and
		// weights by the tables' sizes: far below these limits.
		panic("compiler: search tree too large")
	}
	// The tables are n×n; every entry read is written first except the
	// diagonal, set here, so pooled buffers need no clearing. cost(i, j)
	// is kept at both [i*n+j] and [j*n+i], so that the split loop reads
	// two rows, not a row and a column.
	buf := treePool.Get().(*treeBuffers)
	buf.size(n * n)
	cost := buf.cost // ≤ total weight × depth: fits in 32 bits
	t := &searchTree{n: n, roots: buf.roots, split: buf.split, buf: buf}
	for i := range n {
		cost[i*n+i] = 0
		t.roots[i*n+i] = int16(i)
		t.split[i*n+i] = int16(i)
	}
	for length := 2; length <= n; length++ {
		for i := 0; i+length-1 < n; i++ {
			j := i + length - 1
			lo, hi := max(int(t.split[i*n+j-1]), i+1), int(t.split[(i+1)*n+j])
			if lo > hi {
				lo, hi = i+1, j
			}
			best, bestK := ^uint32(0), lo
			left, right := cost[i*n:i*n+j], cost[j*n:j*n+j+1] // cost(i, k-1), cost(k, j)
			for k := lo; k <= hi; k++ {
				if c := left[k-1] + right[k]; c < best {
					best, bestK = c, k
				}
			}
			w := uint32(prefix[j+1] - prefix[i])
			best += w
			t.split[i*n+j] = int16(bestK)
			if (j-i)%2 == 0 && (j-i)/2 <= maxExceptions {
				if x := exceptionCount(segs, i, j); x > 0 && w*uint32(x) <= best {
					best, bestK = w*uint32(x), exceptionLeaf
				}
			}
			cost[i*n+j], cost[j*n+i] = best, best
			t.roots[i*n+j] = int16(bestK)
		}
	}
	return t
}

// exceptionCount returns how many jeq a leaf over segments i..j would run
// before its default, or 0 if they are not "A x A x … A" with A one
// constant verdict and each x at most two numbers with a constant verdict,
// at most maxExceptions numbers in all.
func exceptionCount(segs []segment, i, j int) int {
	if (j-i)%2 != 0 || (j-i)/2 > maxExceptions {
		return 0
	}
	a := segs[i].d
	if !a.constant() {
		return 0
	}
	count, checked := 0, 0
	for k := i + 1; k <= j; k += 2 {
		x, next := segs[k], segs[k+1].d
		if x.hi-x.lo > 1 || !next.constant() || next.fallback != a.fallback {
			return 0
		}
		if !x.d.constant() {
			if x.lo != x.hi || checked > 0 {
				return 0
			}
			checked++
		}
		count += int(x.hi-x.lo) + 1
	}
	if count > maxExceptions {
		return 0
	}
	return count
}

// emitTree emits the comparisons that route A (the syscall number) to the
// leaf of segments i..j.
func (e *emitter) emitTree(segs []segment, tree *searchTree, i, j int) {
	if i == j {
		e.arch = e.owner(segs[i].lo)
		e.emitLeaf(segs[i].d)
		return
	}
	k := tree.root(i, j)
	if k == exceptionLeaf {
		e.emitExceptionLeaf(segs[i : j+1])
		return
	}
	right := e.b.NewLabel()
	e.b.IfTrue(bpf.JmpJGE, segs[k].lo, right)
	e.emitTree(segs, tree, i, k-1)
	e.b.Place(right)
	e.emitTree(segs, tree, k, j)
}

// emitExceptionLeaf emits a leaf "A x A x … A": one jeq per exception
// number, then A. An argument-checked exception's checks follow the leaf.
func (e *emitter) emitExceptionLeaf(segs []segment) {
	var checked *segment
	var checkedLabel bpf.Label
	for x := 1; x < len(segs); x += 2 {
		s := &segs[x]
		if !s.d.constant() {
			checked, checkedLabel = s, e.b.NewLabel()
			e.b.IfTrue(bpf.JmpJEQ, s.lo, checkedLabel)
			continue
		}
		for nr := uint64(s.lo); nr <= uint64(s.hi); nr++ {
			e.b.IfTrue(bpf.JmpJEQ, uint32(nr), e.ret(s.d.fallback))
		}
	}
	e.b.Goto(e.ret(segs[0].d.fallback))
	if checked != nil {
		e.b.Place(checkedLabel)
		e.arch = e.owner(checked.lo)
		e.emitLeaf(checked.d)
	}
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
