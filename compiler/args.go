package compiler

import (
	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// emitter turns decisions into instructions for one program.
type emitter struct {
	b     bpf.Builder
	arch  *syscalls.Arch // the ABI whose arguments are being checked
	owner func(nr uint32) *syscalls.Arch
	// hot, hotLow and hotHigh are the hot values of the interval test
	// being emitted: all of them, and their low and high words.
	hot, hotLow, hotHigh []uint32
	rets                 map[uint32]bpf.Label
	retOrder             []uint32
}

// emitArgChecks emits a leaf whose verdict depends on arguments: rules in
// order, first match wins, else the fallback.
func (e *emitter) emitArgChecks(d *decision) {
	if set, arg, ok := singleArgSet(d, e.arch.Bits); ok {
		e.emitSetTest(arg, set, hotValues[d.name][arg], e.ret(d.rules[0].action), e.ret(d.fallback))
		return
	}
	for _, r := range d.rules {
		next := e.b.NewLabel()
		for _, c := range r.conds {
			e.emitCond(c, next)
		}
		e.b.Goto(e.ret(r.action))
		e.b.Place(next)
	}
	e.b.Goto(e.ret(d.fallback))
}

// singleArgSet recognises the common shape "one action, every rule a single
// interval-like condition on the same argument" (Docker's socket and
// personality rules) and returns the union of the values it allows.
func singleArgSet(d *decision, bits int) ([]interval, int, bool) {
	var sets [][]interval
	arg := -1
	for _, r := range d.rules {
		if len(r.conds) != 1 || r.action != d.rules[0].action {
			return nil, 0, false
		}
		c := r.conds[0]
		if arg >= 0 && c.arg != arg {
			return nil, 0, false
		}
		arg = c.arg
		s, ok := intervals(c, bits)
		if !ok {
			return nil, 0, false
		}
		sets = append(sets, s)
	}
	return union(sets...), arg, true
}

// load emits `ld` of one 32-bit half of argument i.
func (e *emitter) load(i int, high bool) {
	lo, hi := e.arch.ArgOffsets(i)
	if high {
		e.b.Emit(bpf.LoadAbs(hi))
	} else {
		e.b.Emit(bpf.LoadAbs(lo))
	}
}

// emitCond emits a test of c that falls through when it holds and jumps to
// fail when it does not: MASKED_EQ word by word, every other operator as
// the interval set of values it accepts, so comparisons that cannot fail
// (a0 >= 0) or cannot hold (a0 > 2⁶⁴-1) cost nothing.
func (e *emitter) emitCond(c cond, fail bpf.Label) {
	if c.op == profile.OpMaskedEqual {
		e.emitMasked(c, fail)
		return
	}
	set, _ := intervals(c, e.arch.Bits)
	switch {
	case len(set) == 0:
		e.b.Goto(fail)
	case len(set) == 1 && set[0].lo == 0 && set[0].hi == domainMax(e.arch.Bits):
		// always true
	default:
		pass := e.b.NewLabel()
		e.emitSetTest(c.arg, set, nil, pass, fail)
		e.b.Place(pass)
	}
}

// emitMasked tests (arg & mask) == datum word by word, skipping words the
// mask does not cover and using jset when the datum word is zero.
func (e *emitter) emitMasked(c cond, fail bpf.Label) {
	type word struct {
		high       bool
		mask, want uint32
	}
	words := []word{{false, uint32(c.value), uint32(c.valueTwo)}}
	if e.arch.Bits == 64 {
		words = append([]word{{true, uint32(c.value >> 32), uint32(c.valueTwo >> 32)}}, words...)
	}
	for _, w := range words {
		switch {
		case w.want&^w.mask != 0:
			e.b.Goto(fail) // datum has bits outside the mask: never equal
			return
		case w.mask == 0:
			continue // always (0 == 0)
		case w.want == 0:
			e.load(c.arg, w.high)
			e.b.IfTrue(bpf.JmpJSET, w.mask, fail)
		case w.mask == 0xffffffff:
			e.load(c.arg, w.high)
			e.b.IfFalse(bpf.JmpJEQ, w.want, fail)
		default:
			e.load(c.arg, w.high)
			e.b.Emit(bpf.AndK(w.mask))
			e.b.IfFalse(bpf.JmpJEQ, w.want, fail)
		}
	}
}
