package compiler

import (
	"math/bits"

	"github.com/sysfence/sysfence/bpf"
)

// item is a run [lo, hi] of one 32-bit word's values that passes the test,
// either wholly (sub == nil) or when the low word is in sub.
type item struct {
	lo, hi uint32
	sub    []item
}

// emitSetTest emits a test that jumps to pass when argument arg is in set
// and to fail otherwise, as a search tree over the high then the low word.
func (e *emitter) emitSetTest(arg int, set []interval, hot []uint64, pass, fail bpf.Label) {
	e.hotLow, e.hotHigh = nil, nil
	for _, v := range hot {
		e.hotLow = append(e.hotLow, uint32(v))
		e.hotHigh = append(e.hotHigh, uint32(v>>32))
	}
	onLow := func(item) { e.b.Goto(pass) }
	if e.arch.Bits == 32 {
		e.load(arg, false)
		e.hot = e.hotLow
		e.emitItems(lowItems(set), 0, 0xffffffff, fail, onLow)
		return
	}
	onHigh := func(it item) {
		if it.sub == nil {
			e.b.Goto(pass)
			return
		}
		e.load(arg, false)
		e.hot = e.hotLow
		e.emitItems(it.sub, 0, 0xffffffff, fail, onLow)
	}
	e.load(arg, true)
	e.hot = e.hotHigh
	e.emitItems(highItems(set), 0, 0xffffffff, fail, onHigh)
}

// lowItems converts a set of 32-bit values to items.
func lowItems(set []interval) []item {
	out := make([]item, 0, len(set))
	for _, iv := range set {
		out = append(out, item{lo: uint32(iv.lo), hi: uint32(iv.hi)})
	}
	return out
}

// highItems splits a set of 64-bit values by high word: whole bands of high
// words pass outright, the others carry the low-word items that pass.
func highItems(set []interval) []item {
	var out []item
	partial := func(h uint32, lo, hi uint32) {
		if lo == 0 && hi == 0xffffffff {
			full(&out, h, h)
			return
		}
		if n := len(out); n > 0 && out[n-1].lo == h && out[n-1].sub != nil {
			out[n-1].sub = append(out[n-1].sub, item{lo: lo, hi: hi})
			return
		}
		out = append(out, item{lo: h, hi: h, sub: []item{{lo: lo, hi: hi}}})
	}
	for _, iv := range set {
		ha, hb := uint32(iv.lo>>32), uint32(iv.hi>>32)
		la, lb := uint32(iv.lo), uint32(iv.hi)
		if ha == hb {
			partial(ha, la, lb)
			continue
		}
		partial(ha, la, 0xffffffff)
		if hb-ha > 1 {
			full(&out, ha+1, hb-1)
		}
		partial(hb, 0, lb)
	}
	return out
}

// full appends a run of high words that pass whatever the low word,
// merging it with a preceding whole run.
func full(out *[]item, lo, hi uint32) {
	if n := len(*out); n > 0 && (*out)[n-1].sub == nil && (*out)[n-1].hi+1 == lo {
		(*out)[n-1].hi = hi
		return
	}
	*out = append(*out, item{lo: lo, hi: hi})
}

// emitItems routes A, known to lie in [lb, ub], to onHit for the item that
// holds it, or to fail when none does.
func (e *emitter) emitItems(items []item, lb, ub uint32, fail bpf.Label, onHit func(item)) {
	switch len(items) {
	case 0:
		e.b.Goto(fail)
		return
	case 1:
		it := items[0]
		switch {
		case it.lo == lb && it.hi == ub:
		case it.lo == it.hi:
			e.b.IfFalse(bpf.JmpJEQ, it.lo, fail)
		case it.lo == lb:
			e.b.IfTrue(bpf.JmpJGT, it.hi, fail)
		case it.hi == ub:
			e.b.IfFalse(bpf.JmpJGE, it.lo, fail)
		default:
			e.b.IfFalse(bpf.JmpJGE, it.lo, fail)
			e.b.IfTrue(bpf.JmpJGT, it.hi, fail)
		}
		onHit(it)
		return
	}
	mid := weightedMiddle(items, e.hot)
	right := e.b.NewLabel()
	e.b.IfTrue(bpf.JmpJGE, items[mid].lo, right)
	e.emitItems(items[:mid], lb, items[mid].lo-1, fail, onHit)
	e.b.Place(right)
	e.emitItems(items[mid:], items[mid].lo, ub, fail, onHit)
}

// weightedMiddle picks where to split items so both sides weigh about the
// same: a wide interval weighs more than a single value, and an item that
// holds a hot value (one real workloads pass most) far more, so that it is
// reached in fewer comparisons.
func weightedMiddle(items []item, hot []uint32) int {
	w := make([]int, len(items))
	total := 0
	for i, it := range items {
		w[i] = 1 + bits.Len32(it.hi-it.lo)
		for _, v := range hot {
			if it.lo <= v && v <= it.hi {
				w[i] += hotWeight
			}
		}
		total += w[i]
	}
	best, bestDiff, left := 1, total, 0
	for k := 1; k < len(items); k++ {
		left += w[k-1]
		if d := abs(total - 2*left); d < bestDiff {
			best, bestDiff = k, d
		}
	}
	return best
}

// hotWeight is the extra weight of an item holding a hot value.
const hotWeight = 16

// hotValues are argument values that dominate real workloads, per syscall
// and argument: glibc's persona query personality(0xffffffff), and the
// socket families almost every program uses (AF_UNIX, AF_INET, AF_INET6,
// AF_NETLINK). Interval tests reach them first; verdicts do not change.
var hotValues = map[string]map[int][]uint64{
	"personality": {0: {0xffffffff}},
	"socket":      {0: {1, 2, 10, 16}},
	"socketpair":  {0: {1}},
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
