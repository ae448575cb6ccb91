package compiler

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

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
	name     string // the syscall, for argument checks (hot values)
}

func (d *decision) constant() bool { return len(d.rules) == 0 }

// archTable is the per-number decisions of one architecture: numbers the
// rules name get their own decision, every other number gets rest.
type archTable struct {
	arch    *syscalls.Arch
	named   map[uint32]*decision
	numbers []uint32 // the keys of named, ascending
	max     uint32   // largest number named by the profile (ENOSYS stub bound)
	stub    bool     // runc's ENOSYS stub covers this architecture
}

// archRule is a runc rule as libseccomp stores it for one ABI: a number and
// conditions narrowed to the ABI.
type archRule struct {
	nr     uint32
	entry  int
	action profile.Action
	conds  []cond
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
	both := slices.Contains(res.Arches, syscalls.X86) && slices.Contains(res.Arches, syscalls.X86_64)
	for _, a := range res.Arches {
		rules := expandRules(a, res.Rules, number)
		t := &archTable{arch: a, named: make(map[uint32]*decision, len(rules)), max: stubBound(a, res.Named, number)}
		t.stub = t.max > 0 && slices.Contains(res.StubArches, a)
		// Chain the rules of each number in runc's order: head[nr-min] is
		// one past the first, next[i] one past the one after rules[i].
		// Every number comes from the table, so it lies in [Min, Max].
		base := a.Min()
		head := make([]int32, a.Max()-base+1)
		next := make([]int32, len(rules))
		for i := len(rules) - 1; i >= 0; i-- {
			slot := rules[i].nr - base
			next[i] = head[slot]
			head[slot] = int32(i + 1)
		}
		var group []archRule
		for slot, h := range head { // ascending numbers: a deterministic error order
			if h == 0 {
				continue
			}
			nr := base + uint32(slot)
			group = group[:0]
			for i := h; i > 0; i = next[i-1] {
				group = append(group, rules[i-1])
			}
			d, err := merge(a, nr, group, res.DefaultAction, both)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			t.named[nr] = d
			t.numbers = append(t.numbers, nr)
		}
		tables = append(tables, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return tables, nil
}

// stubBound is runc's "last syscall" of an ABI: the largest number of any
// name the profile mentions. Socket and SysV IPC names resolve to negative
// pseudo numbers where libseccomp multiplexes them, so they never count.
func stubBound(a *syscalls.Arch, named []string, number func(*syscalls.Arch, string) (uint32, bool)) uint32 {
	var m uint32
	for _, name := range named {
		if _, _, mux := a.Multiplexed(name); mux {
			continue
		}
		if nr, ok := number(a, name); ok {
			m = max(m, nr)
		}
	}
	return m
}

// expandRules maps runc's rules to one ABI's numbers, in order. Where
// libseccomp multiplexes, a socket or SysV IPC rule also becomes a rule on
// socketcall/ipc whose argument 0 condition is replaced by the call number
// (libseccomp drops the original one and keeps the others in place).
func expandRules(a *syscalls.Arch, rules []profile.Rule, number func(*syscalls.Arch, string) (uint32, bool)) []archRule {
	out := make([]archRule, 0, len(rules)+len(rules)/8)
	for _, r := range rules {
		conds := narrowAll(a, r.Args)
		if nr, ok := number(a, r.Name); ok {
			out = append(out, archRule{nr: nr, entry: r.Entry, action: r.Action, conds: conds})
		}
		mux, call, ok := a.Multiplexed(r.Name)
		if !ok {
			continue
		}
		muxNr, ok := number(a, mux)
		if !ok {
			continue
		}
		mconds := []cond{{arg: 0, op: profile.OpEqualTo, value: call}}
		for _, c := range conds {
			if c.arg != 0 {
				mconds = append(mconds, c)
			}
		}
		out = append(out, archRule{nr: muxNr, entry: r.Entry, action: r.Action, conds: mconds})
	}
	return out
}

// merge combines the rules of one (arch, number) as libseccomp does: the
// first unconditional rule decides alone (it swallows later rules and
// replaces earlier conditional ones); otherwise conditional rules are ORed,
// which holds exactly only for the shapes checkMergeable accepts, and rules
// with different actions must not overlap.
func merge(a *syscalls.Arch, nr uint32, rules []archRule, def profile.Action, x86AndX86_64 bool) (*decision, error) {
	for _, r := range rules {
		if len(r.conds) == 0 {
			return &decision{fallback: r.action}, nil
		}
	}
	name, _ := a.SyscallName(nr)
	d := &decision{fallback: def, name: name}
	for _, r := range rules {
		ir := irRule{entry: r.entry, action: r.action, conds: slices.Clone(r.conds)}
		sort.SliceStable(ir.conds, func(i, j int) bool { return ir.conds[i].arg < ir.conds[j].arg })
		d.rules = append(d.rules, ir)
	}
	if err := checkMergeable(a, nr, d.rules, x86AndX86_64); err != nil {
		return nil, err
	}
	if err := checkConflicts(a, nr, d.rules); err != nil {
		return nil, err
	}
	return d, nil
}

// narrowAll narrows every condition of a rule to the ABI, dropping the
// MASKED_EQ conditions libseccomp treats as always true.
func narrowAll(a *syscalls.Arch, args []profile.Arg) []cond {
	var out []cond
	for _, arg := range args {
		if c, keep := narrow(a, arg); keep {
			out = append(out, c)
		}
	}
	return out
}

// narrow converts a profile argument to a comparison of the ABI's width: on
// 32-bit ABIs libseccomp compares only the low 32 bits of argument and datum.
// A MASKED_EQ datum is masked ((v & m) == (d & m)); with a mask of zero
// (after narrowing) libseccomp drops the condition: keep is false.
func narrow(a *syscalls.Arch, arg profile.Arg) (c cond, keep bool) {
	c = cond{arg: int(arg.Index), op: arg.Op, value: arg.Value, valueTwo: arg.ValueTwo}
	if a.Bits == 32 {
		c.value &= 0xffffffff
		c.valueTwo &= 0xffffffff
	}
	if c.op == profile.OpMaskedEqual {
		c.valueTwo &= c.value
		return c, c.value != 0
	}
	return c, true
}

// checkMergeable refuses several conditional rules on one call whose merge
// libseccomp 2.5 gets wrong (found by differential fuzzing against it):
// with range operators its tree can match more or less than the OR of the
// rules, or hang. The OR is exact, and accepted, when
//   - there is one rule;
//   - every rule is a single condition and no argument has two range
//     (LT/LE/GT/GE) conditions — Docker's socket rules have this shape;
//   - every condition is EQ or MASKED_EQ, except that libseccomp can share
//     a masked test between the x86 and x86_64 sections of one filter and
//     enter it with the wrong word loaded, so rules with several
//     conditions including a MASKED_EQ are refused when both are present.
func checkMergeable(a *syscalls.Arch, nr uint32, rules []irRule, x86AndX86_64 bool) error {
	if len(rules) < 2 {
		return nil
	}
	single, eqOnly, multiMasked := true, true, false
	ranges := map[int]int{}
	for _, r := range rules {
		single = single && len(r.conds) == 1
		for _, c := range r.conds {
			switch c.op {
			case profile.OpEqualTo:
			case profile.OpMaskedEqual:
				multiMasked = multiMasked || len(r.conds) > 1
			case profile.OpNotEqual:
				eqOnly = false
			default:
				eqOnly = false
				ranges[c.arg]++
			}
		}
	}
	why := ""
	switch {
	case single:
		for arg, n := range ranges {
			if n > 1 {
				why = fmt.Sprintf("argument %d has %d range (LT/LE/GT/GE) conditions in separate rules", arg, n)
			}
		}
	case !eqOnly:
		why = "rules with several conditions use NE/LT/LE/GT/GE"
	case multiMasked && x86AndX86_64:
		why = "rules with several conditions use MASKED_EQ in a filter with both x86 and x86_64"
	}
	if why == "" {
		return nil
	}
	name, _ := a.SyscallName(nr)
	var entries []string
	for _, r := range rules {
		if e := fmt.Sprintf("syscalls[%d]", r.entry); !slices.Contains(entries, e) {
			entries = append(entries, e)
		}
	}
	return fmt.Errorf("%s: %s on %s: %s; libseccomp 2.5 merges such rules inexactly (the filter may match more or less than their union, or hang at container start), so the profile is refused; merge them into one rule, or use one condition per rule",
		strings.Join(entries, ", "), name, a.Name, why)
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
