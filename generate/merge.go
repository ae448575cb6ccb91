package generate

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// Input is one profile given to Merge, named for errors and comments.
type Input struct {
	Name    string
	Profile *profile.Profile
}

// Merge returns the semantic union of profiles recorded from several runs or
// replicas: a call one input allows without conditions is allowed without
// conditions; argument-conditional ALLOW rules of a call are united (the
// same condition list once); the architectures are united. It is never
// wider than the union: inputs it cannot unite exactly (different default
// actions or flags, Docker's includes/excludes, conditional rules with other
// actions than ALLOW) are refused with the input and JSON path named.
func Merge(inputs []Input) (*profile.Profile, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("merge: no profiles given")
	}
	out := inputs[0].Profile.Clone()
	out.Syscalls = nil
	m := &merger{n: len(inputs), calls: map[string]*mergedCall{}}
	for _, in := range inputs {
		if err := m.check(in, inputs[0]); err != nil {
			return nil, err
		}
		out.Architectures = unionArches(out.Architectures, in.Profile.Architectures)
		if err := m.add(in); err != nil {
			return nil, err
		}
	}
	sortArches(out.Architectures)
	out.Syscalls = m.entries()
	return out, out.Validate()
}

type merger struct {
	n     int
	seen  int // inputs added so far
	calls map[string]*mergedCall
}

// mergedCall is what the inputs say of one call name.
type mergedCall struct {
	inputs map[int]bool // inputs that allow it in some form
	free   bool         // some input allows it without conditions
	conds  [][]profile.Arg
	deny   *profile.Syscall // first unconditional non-ALLOW entry, for calls nobody allows freely
}

func (m *merger) call(name string) *mergedCall {
	c := m.calls[name]
	if c == nil {
		c = &mergedCall{inputs: map[int]bool{}}
		m.calls[name] = c
	}
	return c
}

// check refuses inputs whose union cannot be written exactly.
func (m *merger) check(in, first Input) error {
	p, f := in.Profile, first.Profile
	if p.DefaultAction != f.DefaultAction || errnoOf(p.DefaultErrnoRet) != errnoOf(f.DefaultErrnoRet) {
		return fmt.Errorf("merge: %s: defaultAction %s differs from %s's %s: the union of different defaults is not a profile",
			in.Name, describe(p.DefaultAction, p.DefaultErrnoRet), first.Name, describe(f.DefaultAction, f.DefaultErrnoRet))
	}
	if !slices.Equal(sortedCopy(p.Flags), sortedCopy(f.Flags)) {
		return fmt.Errorf("merge: %s: flags %v differ from %s's %v", in.Name, p.Flags, first.Name, f.Flags)
	}
	if len(p.ArchMap) > 0 || p.ListenerPath != "" {
		return fmt.Errorf("merge: %s: archMap and listenerPath are not merged; give flattened profiles (`sysfence default --format oci` flattens)", in.Name)
	}
	return nil
}

func (m *merger) add(in Input) error {
	m.seen++
	id := m.seen
	for i, e := range in.Profile.Syscalls {
		path := fmt.Sprintf("%s: syscalls[%d]", in.Name, i)
		if e.Includes != nil || e.Excludes != nil {
			return fmt.Errorf("merge: %s: includes/excludes are not merged; flatten the profile first (`sysfence default --format oci` shows the form)", path)
		}
		for _, name := range e.Names {
			c := m.call(name)
			switch {
			case e.Action == profile.Allow && len(e.Args) == 0:
				c.free = true
				c.inputs[id] = true
			case e.Action == profile.Allow:
				c.inputs[id] = true
				if !slices.ContainsFunc(c.conds, func(a []profile.Arg) bool { return sameArgs(a, e.Args) }) {
					c.conds = append(c.conds, slices.Clone(e.Args))
				}
			case len(e.Args) > 0:
				return fmt.Errorf("merge: %s: conditional %s rules are not merged, only conditional SCMP_ACT_ALLOW", path, e.Action)
			default:
				if c.deny == nil {
					d := e
					d.Names, d.Comment = nil, ""
					c.deny = &d
				}
			}
		}
	}
	return nil
}

// entries writes the merged calls: unconditional ALLOW entries grouped by
// how many inputs allowed the call, then conditional ALLOW entries per
// call, then the denials nobody lifted.
func (m *merger) entries() []profile.Syscall {
	var out []profile.Syscall
	byInputs := map[int][]string{}
	names := slices.Sorted(maps.Keys(m.calls))
	for _, name := range names {
		if c := m.calls[name]; c.free {
			byInputs[len(c.inputs)] = append(byInputs[len(c.inputs)], name)
		}
	}
	for k := m.n; k >= 1; k-- {
		if len(byInputs[k]) > 0 {
			out = append(out, profile.Syscall{Names: byInputs[k], Action: profile.Allow,
				Comment: fmt.Sprintf("allowed in %d of %d merged profiles", k, m.n)})
		}
	}
	for _, name := range names {
		c := m.calls[name]
		if c.free || len(c.conds) == 0 {
			continue
		}
		slices.SortFunc(c.conds, compareArgs)
		for i, args := range c.conds {
			e := profile.Syscall{Names: []string{name}, Action: profile.Allow, Args: args}
			if i == 0 {
				e.Comment = fmt.Sprintf("allowed in %d of %d merged profiles, only with these %d argument conditions", len(c.inputs), m.n, len(c.conds))
			}
			out = append(out, e)
		}
	}
	type denyKey struct {
		action profile.ActionKind
		errno  int
	}
	denied := map[denyKey][]string{}
	for _, name := range names {
		if c := m.calls[name]; !c.free && c.deny != nil {
			k := denyKey{c.deny.Action, errnoOf(c.deny.ErrnoRet)}
			denied[k] = append(denied[k], name)
		}
	}
	keys := make([]denyKey, 0, len(denied))
	for k := range denied {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].action != keys[j].action {
			return keys[i].action < keys[j].action
		}
		return keys[i].errno < keys[j].errno
	})
	for _, k := range keys {
		e := *m.calls[denied[k][0]].deny
		e.Names = denied[k]
		e.Comment = "denied explicitly by the merged profiles (none allowed these)"
		out = append(out, e)
	}
	return out
}

func errnoOf(p *uint16) int {
	if p == nil {
		return -1
	}
	return int(*p)
}

func describe(a profile.ActionKind, errno *uint16) string {
	if errno != nil {
		return fmt.Sprintf("%s(%d)", a, *errno)
	}
	return a.String()
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

func sameArgs(a, b []profile.Arg) bool { return compareArgs(a, b) == 0 }

func compareArgs(a, b []profile.Arg) int {
	for i := range min(len(a), len(b)) {
		x, y := a[i], b[i]
		for _, d := range []int{int(x.Index) - int(y.Index), int(x.Op) - int(y.Op)} {
			if d != 0 {
				return d
			}
		}
		if c := cmpU64(x.Value, y.Value); c != 0 {
			return c
		}
		if c := cmpU64(x.ValueTwo, y.ValueTwo); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func unionArches(a, b []*syscalls.Arch) []*syscalls.Arch {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}
