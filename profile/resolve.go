package profile

import (
	"errors"
	"fmt"
	"slices"

	"github.com/sysfence/sysfence/syscalls"
)

// Resolve turns p into the filter runc would build for t under
// `docker run --security-opt seccomp=…`: first moby's setupSeccomp
// (archMap, includes and excludes; see Flatten), then runc's conversion
// (one rule per name, rules equal to the default dropped, unknown names
// ignored, repeated argument indexes split into ORed rules, default flags).
// It never looks at the running machine: t says everything.
//
// Resolve fails where Docker would refuse to start the container and the
// filter cannot be built as Docker's (SCMP_ACT_NOTIFY on write or without
// a listenerPath); where Docker would refuse but a filter can still be
// built (flags or architectures runc does not know), it warns.
func Resolve(p *Profile, t Target) (*Resolved, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("resolve profile: %w", err)
	}
	if t.Arch == nil {
		return nil, errors.New("resolve profile: target has no architecture")
	}
	r := &Resolved{Target: t, DefaultAction: p.defaultAction()}
	w := &walker{}
	moby := mobyName(t.Arch)
	if moby == "" {
		w.warn("", "Docker never runs with native architecture %s: archMap and includes/excludes.arches match nothing", t.Arch)
	}
	listed := p.listedArches(t.Arch, moby, w)
	r.Arches = dedupArches(append([]*syscalls.Arch{t.Arch}, listed...))
	if stubs(r.DefaultAction) {
		r.StubArches = dedupArches(listed)
		if !t.LegacyRunc {
			r.StubArches = dedupArches(append([]*syscalls.Arch{t.Arch}, listed...))
		}
	}
	entries := p.included(t, moby)
	for _, i := range entries {
		r.addEntry(p, i, w)
	}
	r.Flags = p.runcFlags(entries, w)
	r.Warnings = w.warns
	if len(w.errs) > 0 {
		return nil, fmt.Errorf("resolve profile: %w", errors.Join(w.errs...))
	}
	return r, nil
}

// mobyName is the name moby gives native architecture a in archMap and
// includes/excludes ("amd64"), or "" if Docker cannot run there natively.
func mobyName(a *syscalls.Arch) string {
	if slices.Contains(mobyNative, a.Moby) {
		return a.Moby
	}
	return ""
}

// stubs reports whether runc prepends its ENOSYS stub for default action
// d: not for ALLOW, LOG or TRACE, which it treats as permissive.
func stubs(d Action) bool {
	return d.Kind != Allow && d.Kind != Log && d.Kind != Trace
}

// actionFor is runc's getAction: ERRNO and TRACE carry errnoRet, or EPERM
// when it is absent.
func actionFor(k ActionKind, errnoRet *uint16) Action {
	a := Action{Kind: k}
	if k.TakesData() {
		a.Data = EPERM
		if errnoRet != nil {
			a.Data = *errnoRet
		}
	}
	return a
}

func (p *Profile) defaultAction() Action { return actionFor(p.DefaultAction, p.DefaultErrnoRet) }

// listedArches is the architectures list Docker hands runc: the profile's
// own, or the archMap entry of the native architecture and its
// subarchitectures. It warns about those runc refuses.
func (p *Profile) listedArches(native *syscalls.Arch, moby string, w *walker) []*syscalls.Arch {
	type named struct {
		arch *syscalls.Arch
		path string
	}
	var list []named
	for i, a := range p.Architectures {
		list = append(list, named{a, index("architectures", i)})
	}
	if moby != "" {
		for k, m := range p.ArchMap {
			if m.Arch.OCI != native.OCI {
				continue
			}
			path := index("archMap", k)
			list = append(list, named{m.Arch, join(path, "architecture")})
			for j, s := range m.SubArches {
				list = append(list, named{s, index(join(path, "subArchitectures"), j)})
			}
			break
		}
	}
	var out []*syscalls.Arch
	for _, n := range list {
		if !slices.Contains(runcArches, n.arch.OCI) {
			w.warn(n.path, "runc does not know %s: Docker refuses this profile", n.arch.OCI)
		}
		out = append(out, n.arch)
	}
	return out
}

func dedupArches(as []*syscalls.Arch) []*syscalls.Arch {
	var out []*syscalls.Arch
	for _, a := range as {
		if !slices.ContainsFunc(out, func(b *syscalls.Arch) bool { return b.OCI == a.OCI }) {
			out = append(out, a)
		}
	}
	return out
}

// included lists the indexes of the entries moby keeps for t: an entry is
// dropped if any excludes condition holds or any includes condition fails.
func (p *Profile) included(t Target, moby string) []int {
	var out []int
	for i := range p.Syscalls {
		s := &p.Syscalls[i]
		if excluded(s.Excludes, t, moby) || !includedBy(s.Includes, t, moby) {
			continue
		}
		out = append(out, i)
	}
	return out
}

func excluded(f *Filter, t Target, moby string) bool {
	if f == nil {
		return false
	}
	if slices.Contains(f.Arches, moby) && moby != "" {
		return true
	}
	for _, c := range f.Caps {
		if slices.Contains(t.Caps, c) {
			return true
		}
	}
	return f.MinKernel != nil && t.Kernel.AtLeast(*f.MinKernel)
}

func includedBy(f *Filter, t Target, moby string) bool {
	if f == nil {
		return true
	}
	if len(f.Arches) > 0 && (moby == "" || !slices.Contains(f.Arches, moby)) {
		return false
	}
	for _, c := range f.Caps {
		if !slices.Contains(t.Caps, c) {
			return false
		}
	}
	return f.MinKernel == nil || t.Kernel.AtLeast(*f.MinKernel)
}

// addEntry adds the rules runc makes of entry i, one name at a time.
func (r *Resolved) addEntry(p *Profile, i int, w *walker) {
	s := &p.Syscalls[i]
	path := index("syscalls", i)
	act := actionFor(s.Action, s.ErrnoRet)
	if s.Action == Notify && p.ListenerPath == "" {
		w.fail(join(path, "action"), "SCMP_ACT_NOTIFY needs a listenerPath (runc refuses it without one)")
	}
	for j, name := range s.Names {
		namePath := index(join(path, "names"), j)
		if s.UsedName {
			namePath = join(path, "name")
		}
		if !slices.Contains(r.Named, name) {
			r.Named = append(r.Named, name)
		}
		if s.Action == Notify && name == "write" {
			w.fail(namePath, "SCMP_ACT_NOTIFY cannot be used for write (runc refuses it)")
		}
		switch {
		case act == r.DefaultAction:
			continue // runc skips it silently; the name still counts for the stub
		case !syscalls.Known(name):
			w.warn(namePath, "unknown system call %q ignored", name)
			continue
		}
		r.Rules = append(r.Rules, rulesFor(i, name, act, s.Args)...)
	}
}

// rulesFor is runc's matchCall for one name: all args in one rule, or,
// when an argument index repeats, one rule per arg (ORed).
func rulesFor(entry int, name string, act Action, args []Arg) []Rule {
	if len(args) == 0 || !repeatsIndex(args) {
		return []Rule{{Entry: entry, Name: name, Action: act, Args: slices.Clone(args)}}
	}
	out := make([]Rule, 0, len(args))
	for _, a := range args {
		out = append(out, Rule{Entry: entry, Name: name, Action: act, Args: []Arg{a}})
	}
	return out
}

func repeatsIndex(args []Arg) bool {
	var seen [MaxArgs]bool
	for _, a := range args {
		if seen[a.Index] {
			return true
		}
		seen[a.Index] = true
	}
	return false
}

// runcFlags is the filter flags runc passes to seccomp(2): SPEC_ALLOW when
// the profile sets none (runc ≥ 1.2; Docker drops an empty list, so it
// counts as none), TSYNC never (runc ignores it), NEW_LISTENER when an
// entry notifies.
func (p *Profile) runcFlags(entries []int, w *walker) []string {
	var out []string
	if len(p.Flags) == 0 {
		out = append(out, FlagSpecAllow)
	}
	for i, f := range p.Flags {
		if f == FlagTSync {
			w.warn(index("flags", i), "runc ignores %s", f)
			continue
		}
		if f == FlagWaitKillableRecv {
			w.warn(index("flags", i), "runc does not know %s: Docker refuses this profile", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, i := range entries {
		if p.Syscalls[i].Action == Notify {
			out = append(out, FlagNewListener)
			break
		}
	}
	return out
}

// Flatten is moby's setupSeccomp alone: the OCI profile Docker hands runc
// for t, with the archMap entry of the native architecture turned into
// architectures and only the entries whose includes/excludes hold for t,
// without their conditions and comments. Encode(…, FormatOCI) accepts it.
func Flatten(p *Profile, t Target) (*Profile, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("flatten profile: %w", err)
	}
	if t.Arch == nil {
		return nil, errors.New("flatten profile: target has no architecture")
	}
	moby := mobyName(t.Arch)
	out := &Profile{
		DefaultAction:    p.DefaultAction,
		DefaultErrnoRet:  clonePtr(p.DefaultErrnoRet),
		Architectures:    p.listedArches(t.Arch, moby, &walker{}),
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
		Flags:            slices.Clone(p.Flags),
	}
	for _, i := range p.included(t, moby) {
		s := &p.Syscalls[i]
		out.Syscalls = append(out.Syscalls, Syscall{
			Names:    slices.Clone(s.Names),
			Action:   s.Action,
			ErrnoRet: clonePtr(s.ErrnoRet),
			Args:     slices.Clone(s.Args),
		})
	}
	return out, nil
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
