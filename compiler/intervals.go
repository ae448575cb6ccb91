package compiler

import (
	"sort"

	"github.com/sysfence/sysfence/profile"
)

// interval is a closed range of argument values.
type interval struct{ lo, hi uint64 }

// domainMax is the largest argument value an ABI of bits width compares.
func domainMax(bits int) uint64 {
	if bits == 32 {
		return 0xffffffff
	}
	return ^uint64(0)
}

// intervals returns the values satisfying c as sorted disjoint intervals,
// or ok=false for MASKED_EQ, which is not a union of few intervals.
func intervals(c cond, bits int) (set []interval, ok bool) {
	top := domainMax(bits)
	v := c.value
	switch c.op {
	case profile.OpEqualTo:
		return []interval{{v, v}}, true
	case profile.OpNotEqual:
		if v > 0 {
			set = append(set, interval{0, v - 1})
		}
		if v < top {
			set = append(set, interval{v + 1, top})
		}
		return set, true
	case profile.OpLessThan:
		if v == 0 {
			return nil, true
		}
		return []interval{{0, v - 1}}, true
	case profile.OpLessEqual:
		return []interval{{0, v}}, true
	case profile.OpGreaterThan:
		if v >= top {
			return nil, true
		}
		return []interval{{v + 1, top}}, true
	case profile.OpGreaterEqual:
		return []interval{{v, top}}, true
	}
	return nil, false
}

// maskedMatches reports whether value x satisfies a MASKED_EQ condition.
func maskedMatches(c cond, x uint64) bool { return x&c.value == c.valueTwo }

// maskedEmpty reports whether a MASKED_EQ condition can never hold: its
// datum has bits outside the mask.
func maskedEmpty(c cond) bool { return c.valueTwo&^c.value != 0 }

// intersects reports whether some value satisfies both conditions (same
// argument). It may answer true when unsure; never false when they meet.
func intersects(a, b cond, bits int) bool {
	if a.op == profile.OpMaskedEqual && maskedEmpty(a) || b.op == profile.OpMaskedEqual && maskedEmpty(b) {
		return false
	}
	switch {
	case a.op == profile.OpMaskedEqual && b.op == profile.OpMaskedEqual:
		return (a.valueTwo^b.valueTwo)&a.value&b.value == 0
	case a.op == profile.OpMaskedEqual && b.op == profile.OpEqualTo:
		return maskedMatches(a, b.value)
	case b.op == profile.OpMaskedEqual && a.op == profile.OpEqualTo:
		return maskedMatches(b, a.value)
	case a.op == profile.OpMaskedEqual || b.op == profile.OpMaskedEqual:
		return true
	}
	sa, _ := intervals(a, bits)
	sb, _ := intervals(b, bits)
	for _, x := range sa {
		for _, y := range sb {
			if x.lo <= y.hi && y.lo <= x.hi {
				return true
			}
		}
	}
	return false
}

// union merges interval sets into sorted, disjoint, non-adjacent intervals.
func union(sets ...[]interval) []interval {
	var all []interval
	for _, s := range sets {
		all = append(all, s...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].lo < all[j].lo })
	var out []interval
	for _, iv := range all {
		if n := len(out); n > 0 && (iv.lo <= out[n-1].hi || iv.lo == out[n-1].hi+1) {
			out[n-1].hi = max(out[n-1].hi, iv.hi)
			continue
		}
		out = append(out, iv)
	}
	return out
}
