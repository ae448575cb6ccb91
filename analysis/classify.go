package analysis

import (
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// Class is how a profile treats one system call of one ABI.
type Class int

const (
	// Blocked: no argument values are allowed.
	Blocked Class = iota
	// Conditional: some argument values are allowed, others not.
	Conditional
	// Allowed: every argument value is allowed.
	Allowed
)

func (c Class) String() string {
	return [...]string{"blocked", "conditional", "allowed"}[c]
}

// allows reports whether an action lets the call run.
func allows(a profile.Action) bool { return a.Kind == profile.Allow || a.Kind == profile.Log }

// Classify tells whether res allows the call nr of arch for all, some or no
// argument values. It evaluates the reference semantics on argument
// vectors that reach every rule: all zero, all ones, a value no profile
// names, and for each rule naming the call one vector that satisfies all
// its conditions.
func Classify(res *profile.Resolved, arch *syscalls.Arch, nr uint32) Class {
	const ones, odd = ^uint64(0), 0x5a5a5a5a5a5a5a5a
	samples := [][6]uint64{{}, {ones, ones, ones, ones, ones, ones}, {odd, odd, odd, odd, odd, odd}}
	for i := range res.Rules {
		if conds, ok := ruleOn(arch, &res.Rules[i], nr); ok && len(conds) > 0 {
			samples = append(samples, satisfying(conds))
		}
	}
	return classOf(samples, func(args [6]uint64) bool { return allows(Evaluate(res, arch.Audit, nr, args).Action) })
}

// classOf is Allowed when every sample is allowed, Conditional when some
// are, Blocked when none is.
func classOf(samples [][6]uint64, allowed func([6]uint64) bool) Class {
	some, all := false, true
	for _, args := range samples {
		if allowed(args) {
			some = true
		} else {
			all = false
		}
	}
	switch {
	case all:
		return Allowed
	case some:
		return Conditional
	}
	return Blocked
}

// satisfying returns arguments for which every condition holds, when the
// conditions allow it (contradictory ones simply fail to).
func satisfying(conds []profile.Arg) [6]uint64 {
	var args [6]uint64
	for _, c := range conds {
		switch c.Op {
		case profile.OpEqualTo, profile.OpGreaterEqual, profile.OpLessEqual:
			args[c.Index] = c.Value
		case profile.OpNotEqual, profile.OpGreaterThan:
			args[c.Index] = c.Value + 1
		case profile.OpLessThan:
			args[c.Index] = c.Value - 1
		case profile.OpMaskedEqual:
			args[c.Index] = args[c.Index]&^c.Value | c.ValueTwo&c.Value
		}
	}
	return args
}
