package compiler

import (
	"fmt"
	"sort"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// cond is one argument comparison, already narrowed to the ABI's width.
type cond struct {
	arg      int
	op       profile.Operator
	value    uint64 // datum, or mask for MASKED_EQ
	valueTwo uint64 // datum for MASKED_EQ
}

// irRule is a rule for one (arch, number): all conds must hold.
type irRule struct {
	entry  int
	action profile.Action
	conds  []cond
}

// decision is what the filter does for one (arch, number): the first
// matching rule's action, else fallback. With no rules it is constant.
type decision struct {
	rules    []irRule
	fallback profile.Action
	// reason says why a constant decision was taken, for explain and stats.
	reason Reason
	entry  int // deciding entry of an unconditional rule, else -1
}

// Reason tells which part of Docker's semantics decided a verdict.
type Reason uint8

// The reasons a verdict can have.
const (
	ReasonDefault  Reason = iota // no rule names the call: the default action
	ReasonRule                   // a profile entry decided it
	ReasonBadArch                // the architecture is not in the filter
	ReasonENOSYS                 // runc's stub: a number above every named call
	ReasonX32Guard               // x86_64 filter without x32: x32 numbers are killed
)

func (r Reason) String() string {
	switch r {
	case ReasonDefault:
		return "default action"
	case ReasonRule:
		return "rule"
	case ReasonBadArch:
		return "architecture not in filter"
	case ReasonENOSYS:
		return "ENOSYS stub (number above every syscall the profile names)"
	case ReasonX32Guard:
		return "x32 guard (x32 ABI not in filter)"
	}
	return fmt.Sprintf("reason(%d)", r)
}

func (d *decision) constant() bool { return len(d.rules) == 0 }

// archTable is the per-number decisions of one architecture: numbers the
// rules name get their own decision, every other number gets rest.
type archTable struct {
	arch  *syscalls.Arch
	named map[uint32]*decision
	max   uint32 // largest number named by the profile (ENOSYS stub bound)
}

// buildTables applies libseccomp's per-syscall merging to the resolved rules
// for every architecture of the filter.
func buildTables(res *profile.Resolved, known func(*syscalls.Arch, string) bool) ([]*archTable, error) {
	number := func(a *syscalls.Arch, name string) (uint32, bool) {
		if known != nil && !known(a, name) {
			return 0, false
		}
		return a.Number(name)
	}
	var tables []*archTable
	var errs []error
	for _, a := range res.Arches {
		t := &archTable{arch: a, named: map[uint32]*decision{}}
		for _, name := range res.Named {
			if nr, ok := number(a, name); ok {
				t.max = max(t.max, nr)
			}
		}
		byNr := map[uint32][]profile.Rule{}
		var order []uint32
		for _, r := range res.Rules {
			for _, nr := range ruleNumbers(a, r.Name, number) {
				if _, seen := byNr[nr]; !seen {
					order = append(order, nr)
				}
				byNr[nr] = append(byNr[nr], r)
			}
		}
		sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
		for _, nr := range order {
			d, err := merge(a, nr, byNr[nr], res.DefaultAction)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			t.named[nr] = d
		}
		tables = append(tables, t)
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return tables, nil
}

// ruleNumbers is the numbers a rule on name applies to on arch.
func ruleNumbers(a *syscalls.Arch, name string, number func(*syscalls.Arch, string) (uint32, bool)) []uint32 {
	nr, ok := number(a, name)
	if !ok {
		return nil
	}
	return []uint32{nr}
}

// merge combines the rules of one (arch, number) as libseccomp does: the
// first unconditional rule decides alone; otherwise conditional rules are
// ORed per action, and rules with different actions must not overlap.
func merge(a *syscalls.Arch, nr uint32, rules []profile.Rule, def profile.Action) (*decision, error) {
	for _, r := range rules {
		if len(r.Args) == 0 {
			return &decision{fallback: r.Action, reason: ReasonRule, entry: r.Entry}, nil
		}
	}
	d := &decision{fallback: def, reason: ReasonDefault, entry: -1}
	for _, r := range rules {
		ir := irRule{entry: r.Entry, action: r.Action}
		for _, arg := range r.Args {
			ir.conds = append(ir.conds, narrow(a, arg))
		}
		sort.SliceStable(ir.conds, func(i, j int) bool { return ir.conds[i].arg < ir.conds[j].arg })
		d.rules = append(d.rules, ir)
	}
	if err := checkConflicts(a, nr, d.rules); err != nil {
		return nil, err
	}
	return d, nil
}

// narrow converts a profile argument to a comparison of the ABI's width: on
// 32-bit ABIs libseccomp compares only the low 32 bits of argument and datum.
func narrow(a *syscalls.Arch, arg profile.Arg) cond {
	c := cond{arg: int(arg.Index), op: arg.Op, value: arg.Value, valueTwo: arg.ValueTwo}
	if a.Bits == 32 {
		c.value &= 0xffffffff
		c.valueTwo &= 0xffffffff
	}
	return c
}

// checkConflicts refuses rules with different actions that could match the
// same arguments: libseccomp's answer would then depend on its internal
// tree order, and we never differ from it silently.
func checkConflicts(a *syscalls.Arch, nr uint32, rules []irRule) error {
	for i := range rules {
		for j := i + 1; j < len(rules); j++ {
			ri, rj := rules[i], rules[j]
			if ri.action == rj.action || disjoint(ri, rj, a.Bits) {
				continue
			}
			name, _ := a.SyscallName(nr)
			return fmt.Errorf("syscalls[%d] and syscalls[%d]: %s on %s: conditional rules with different actions (%v, %v) can match the same arguments; libseccomp's result would depend on its internal rule order, so the profile is refused",
				ri.entry, rj.entry, name, a.Name, ri.action, rj.action)
		}
	}
	return nil
}

// disjoint reports whether no argument values satisfy both rules: some
// argument has conditions in both whose value sets do not intersect.
func disjoint(a, b irRule, bits int) bool {
	for _, ca := range a.conds {
		for _, cb := range b.conds {
			if ca.arg == cb.arg && !intersects(ca, cb, bits) {
				return true
			}
		}
	}
	return false
}
