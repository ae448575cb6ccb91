// Package generate turns recorded Observations into the tightest Docker
// seccomp profile that allows what was seen, and merges such profiles.
package generate

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/sysfence/sysfence/analysis"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/recorder"
	"github.com/sysfence/sysfence/syscalls"
)

// DefaultErrno is the errno of every call the profile does not allow: EPERM.
// ENOSYS would let libc fall back from calls it probes, but EPERM is what
// Docker Engine before 23.0 enforces whatever defaultErrnoRet says (it drops
// the field), what runc returns for a plain SCMP_ACT_ERRNO, and what people
// and tools expect from a call a policy forbids. The calls that libcs probe
// and fall back from get ENOSYS explicitly (analysis.FallbackProbes).
const DefaultErrno = profile.EPERM

// Options controls what Profile writes.
type Options struct {
	// Args builds argument-conditional entries from the captured values
	// (socket only for the families seen, clone without namespace flags…).
	Args bool
}

// Profile writes the tightest Docker profile that allows what o saw.
func Profile(o *recorder.Observation, opts Options) (*profile.Profile, error) {
	if len(o.ABIs) == 0 {
		return nil, fmt.Errorf("the observation has no system calls: nothing was recorded")
	}
	errno := uint16(DefaultErrno)
	p := &profile.Profile{DefaultAction: profile.Errno, DefaultErrnoRet: &errno}
	seen := map[string]*callSummary{}
	for _, abi := range o.ABIs {
		arch, err := syscalls.Lookup(abi.Arch)
		if err != nil {
			return nil, err
		}
		p.Architectures = append(p.Architectures, arch)
		for _, c := range abi.Calls {
			if c.Name == "" {
				return nil, fmt.Errorf("%s call number %d is not in sysfence's table (%s): a profile cannot name it", abi.Arch, c.Nr, syscalls.TableVersion)
			}
			s := seen[c.Name]
			if s == nil {
				s = &callSummary{name: c.Name}
				seen[c.Name] = s
			}
			s.add(c, opts.Args)
		}
	}
	sortArches(p.Architectures)

	var free []*callSummary
	var conditional []profile.Syscall
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		s := seen[name]
		if entries := s.conditionalEntries(); entries != nil {
			conditional = append(conditional, entries...)
			continue
		}
		free = append(free, s)
	}
	if len(free) > 0 {
		p.Syscalls = append(p.Syscalls, allowEntry(free, o))
	}
	p.Syscalls = append(p.Syscalls, conditional...)
	// Calls libcs probe (analysis.FallbackProbes) that the recording did not
	// see fail with ENOSYS rather than EPERM, so that another libc or kernel
	// than the recorded one still falls back to the older call.
	if probes := missing(analysis.FallbackProbes, seen); len(probes) > 0 {
		enosys := uint16(profile.ENOSYS)
		p.Syscalls = append(p.Syscalls, profile.Syscall{Names: probes, Action: profile.Errno, ErrnoRet: &enosys,
			Comment: "not observed; ENOSYS rather than EPERM so that a libc that probes these falls back to the older call"})
	}
	return p, p.Validate()
}

// allowEntry is the one entry of unconditionally allowed calls.
func allowEntry(free []*callSummary, o *recorder.Observation) profile.Syscall {
	var names, counts []string
	var total uint64
	for _, s := range free {
		names = append(names, s.name)
		counts = append(counts, fmt.Sprintf("%s %d", s.name, s.count))
		total += s.count
	}
	comment := fmt.Sprintf("observed by sysfence record (%s back end, %s): %d calls of %d syscalls: %s",
		o.Backend, o.Target, total, len(free), strings.Join(counts, ", "))
	if o.Lost.Total() > 0 {
		comment = fmt.Sprintf("WARNING: the recording lost data (%s), so this profile may miss calls. ", o.Lost) + comment
	}
	return profile.Syscall{Names: names, Action: profile.Allow, Comment: comment}
}

// callSummary is one call name over all ABIs of an observation.
type callSummary struct {
	name  string
	count uint64
	// rule is the capture conditions are built from, and its tuples; nil
	// when the call is allowed without conditions.
	rule   *recorder.Capture
	tuples [][]uint64
	open   bool // some ABI or capture rules out conditions
}

func (s *callSummary) add(c recorder.Call, withArgs bool) {
	s.count += c.Count
	if !withArgs || s.open {
		s.open = true
		return
	}
	rule, set := ruleSet(c)
	if rule == nil || set.Overflow || (s.rule != nil && s.rule.ID != rule.ID) {
		s.open = true
		return
	}
	s.rule = rule
	for _, v := range set.Values {
		if !slices.ContainsFunc(s.tuples, func(t []uint64) bool { return slices.Equal(t, v) }) {
			s.tuples = append(s.tuples, v)
		}
	}
}

// ruleSet finds the first rule capture of c with its values.
func ruleSet(c recorder.Call) (*recorder.Capture, recorder.ArgSet) {
	for _, set := range c.Args {
		for i := range recorder.Captures {
			if capt := &recorder.Captures[i]; capt.ID == set.Capture && capt.Rule {
				return capt, set
			}
		}
	}
	return nil, recorder.ArgSet{}
}

// conditionalEntries are the ALLOW entries that admit exactly the captured
// tuples, or nil when the call is allowed without conditions.
func (s *callSummary) conditionalEntries() []profile.Syscall {
	if s.open || s.rule == nil || len(s.tuples) == 0 {
		return nil
	}
	mask := s.rule.RuleMask
	tuples := s.tuples
	if mask != 0 { // only the masked bits decide: rules on their values
		tuples = nil
		for _, t := range s.tuples {
			v := []uint64{t[0] & mask}
			if !slices.ContainsFunc(tuples, func(u []uint64) bool { return slices.Equal(u, v) }) {
				tuples = append(tuples, v)
			}
		}
		if coversMask(tuples, mask) {
			return nil // every combination of the masked bits was seen: no condition left
		}
	}
	slices.SortFunc(tuples, slices.Compare)
	var out []profile.Syscall
	var shown []string
	for _, t := range tuples {
		var args []profile.Arg
		for i, idx := range s.rule.Args {
			a := profile.Arg{Index: uint(idx), Value: t[i], Op: profile.OpEqualTo}
			if mask != 0 {
				a = profile.Arg{Index: uint(idx), Value: mask, ValueTwo: t[i], Op: profile.OpMaskedEqual}
			}
			args = append(args, a)
		}
		out = append(out, profile.Syscall{Names: []string{s.name}, Action: profile.Allow, Args: args})
		shown = append(shown, formatTuple(t))
	}
	what := s.rule.ID
	if mask != 0 {
		what = fmt.Sprintf("%s & %#x", s.rule.ID, mask)
	}
	out[0].Comment = fmt.Sprintf("%s: %d calls observed, all with %s %s (%s)", s.name, s.count, what, strings.Join(shown, ", "), s.rule.Why)
	return out
}

// coversMask reports whether the tuples hold every value of a one-bit mask
// (the only masks the captures use are single bits or a set of flags that
// must stay zero).
func coversMask(tuples [][]uint64, mask uint64) bool {
	if mask&(mask-1) != 0 {
		return false
	}
	has := map[uint64]bool{}
	for _, t := range tuples {
		has[t[0]] = true
	}
	return has[0] && has[mask]
}

func formatTuple(t []uint64) string {
	var parts []string
	for _, v := range t {
		parts = append(parts, fmt.Sprintf("%#x", v))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// missing returns the names of list not in seen, sorted.
func missing(list []string, seen map[string]*callSummary) []string {
	var out []string
	for _, n := range list {
		if seen[n] == nil && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// sortArches orders architectures as Docker's default lists them: the
// native 64-bit ABI first.
func sortArches(arches []*syscalls.Arch) {
	order := func(a *syscalls.Arch) int {
		switch a.Name {
		case "x86_64":
			return 0
		case "x86":
			return 1
		case "x32":
			return 2
		}
		return 3
	}
	slices.SortStableFunc(arches, func(a, b *syscalls.Arch) int {
		if d := order(a) - order(b); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
}
