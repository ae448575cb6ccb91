package analysis

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// Severity orders findings; --fail-on compares against it.
type Severity int

// The severities, least first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string { return severityNames[s] }

// ParseSeverity reads a severity name.
func ParseSeverity(name string) (Severity, error) {
	if i := slices.Index(severityNames, strings.ToLower(name)); i >= 0 {
		return Severity(i), nil
	}
	return 0, fmt.Errorf("unknown severity %q (want %s)", name, strings.Join(severityNames, ", "))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Finding is one thing a person should know about a profile. IDs are
// stable: SF1xx dangerous calls allowed, SF2xx bypasses, SF3xx mistakes,
// SF4xx future-proofing.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Arches   []string `json:"arches,omitempty"`
	Syscalls []string `json:"syscalls,omitempty"`
	Reason   string   `json:"reason"`
	Fix      string   `json:"fix"`
	CVEs     []string `json:"cves,omitempty"`
	Sources  []string `json:"sources,omitempty"`
}

// ArchSummary counts, for one ABI of the filter, the system calls the
// profile allows whatever the arguments, allows for some arguments, and
// blocks, out of all the ABI has.
type ArchSummary struct {
	Arch        string `json:"arch"`
	Total       int    `json:"total"`
	Allowed     int    `json:"allowed"`
	Conditional int    `json:"conditional"`
	Blocked     int    `json:"blocked"`
}

// AuditReport is what Audit found.
type AuditReport struct {
	Findings []Finding     `json:"findings"`
	Summary  []ArchSummary `json:"summary"`
}

// Max is the highest severity among the findings, and false when there are
// none.
func (r *AuditReport) Max() (Severity, bool) {
	if len(r.Findings) == 0 {
		return 0, false
	}
	m := Info
	for _, f := range r.Findings {
		m = max(m, f.Severity)
	}
	return m, true
}

// FallbackProbes are calls that glibc, musl or Go try first and replace with
// an older call only when the kernel answers ENOSYS.
var FallbackProbes = []string{"clone3", "close_range", "faccessat2", "fchmodat2", "openat2", "statx"}

//go:embed data/dangerous.json
var dangerousJSON []byte

// DangerGroup is one entry of the catalogue in data/dangerous.json: calls
// that reach kernel attack surface containers rarely need.
type DangerGroup struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Syscalls []string `json:"syscalls"`
	Why      string   `json:"why"`
	CVEs     []string `json:"cves"`
	Sources  []string `json:"sources"`
}

// Dangerous is the catalogue of risky calls, loaded from the embedded data
// file.
func Dangerous() []DangerGroup {
	var doc struct {
		Groups []DangerGroup `json:"groups"`
	}
	if err := json.Unmarshal(dangerousJSON, &doc); err != nil {
		panic("analysis: data/dangerous.json: " + err.Error()) // embedded at build time; a test reads it
	}
	return doc.Groups
}

// Audit looks at profile p as resolved for one target (res) and returns the
// findings, most severe first, and the per-arch summary.
func Audit(p *profile.Profile, res *profile.Resolved) *AuditReport {
	a := &auditor{p: p, res: res, arches: res.Arches, class: map[*syscalls.Arch]map[string]Class{},
		classify: func(arch *syscalls.Arch, nr uint32) Class { return Classify(res, arch, nr) },
		allowsCall: func(arch *syscalls.Arch, nr uint32, args [6]uint64) bool {
			return allows(Evaluate(res, arch.Audit, nr, args).Action)
		}}
	return a.run()
}

// run makes every check that applies and sorts the findings.
func (a *auditor) run() *AuditReport {
	r := &AuditReport{Summary: a.summary()}
	r.Findings = append(r.Findings, a.extra...)
	for _, check := range []func() []Finding{a.dangerous, a.socketcall, a.compatABIs, a.sidesteps, a.unknownNames, a.noEffect, a.shadowed, a.repeatedIndex, a.futureCalls} {
		r.Findings = append(r.Findings, check()...)
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		if r.Findings[i].Severity != r.Findings[j].Severity {
			return r.Findings[i].Severity > r.Findings[j].Severity
		}
		return r.Findings[i].ID < r.Findings[j].ID
	})
	return r
}

// auditor holds what the checks ask of a filter. p and res are nil when
// it is a raw filter; the checks of a profile's entries then do nothing.
type auditor struct {
	p          *profile.Profile
	res        *profile.Resolved
	arches     []*syscalls.Arch // native first
	classify   func(arch *syscalls.Arch, nr uint32) Class
	allowsCall func(arch *syscalls.Arch, nr uint32, args [6]uint64) bool
	class      map[*syscalls.Arch]map[string]Class
	extra      []Finding // found while building the auditor (raw filters)
}

// classes classifies every call of arch once.
func (a *auditor) classes(arch *syscalls.Arch) map[string]Class {
	if c, ok := a.class[arch]; ok {
		return c
	}
	c := map[string]Class{}
	for _, name := range arch.Names() {
		nr, _ := arch.Number(name)
		c[name] = a.classify(arch, nr)
	}
	a.class[arch] = c
	return c
}

func (a *auditor) summary() []ArchSummary {
	var out []ArchSummary
	for _, arch := range a.arches {
		s := ArchSummary{Arch: arch.Name}
		for _, c := range a.classes(arch) {
			s.Total++
			switch c {
			case Allowed:
				s.Allowed++
			case Conditional:
				s.Conditional++
			default:
				s.Blocked++
			}
		}
		out = append(out, s)
	}
	return out
}

// native is the target's own ABI, the first of the filter.
func (a *auditor) native() *syscalls.Arch { return a.arches[0] }

func (a *auditor) hasArch(arch *syscalls.Arch) bool { return slices.Contains(a.arches, arch) }

// dangerous raises one finding per catalogue group some of whose calls the
// profile allows whatever the arguments, on any ABI of the filter.
func (a *auditor) dangerous() []Finding {
	var out []Finding
	for _, g := range Dangerous() {
		var arches, names []string
		for _, arch := range a.arches {
			hit := false
			for _, name := range g.Syscalls {
				if a.classes(arch)[name] == Allowed {
					hit = true
					if !slices.Contains(names, name) {
						names = append(names, name)
					}
				}
			}
			if hit {
				arches = append(arches, arch.Name)
			}
		}
		if len(names) == 0 {
			continue
		}
		out = append(out, Finding{ID: g.ID, Severity: g.Severity, Title: g.Title + " allowed without argument limits",
			Arches: arches, Syscalls: names, Reason: g.Why, CVEs: g.CVEs, Sources: g.Sources,
			Fix: fmt.Sprintf("remove %s from the ALLOW entries, or allow only the argument values the workload needs (sysfence record --args shows them)", strings.Join(names, ", "))})
	}
	return out
}

// socketcall: on i386, socket calls also go through socketcall(call,
// args), whose socket arguments sit in user memory a filter cannot read. A
// profile that limits socket's address families and allows
// socketcall(SYS_SOCKET) has the limit only on paper there.
func (a *auditor) socketcall() []Finding {
	x86 := syscalls.X86
	if !a.hasArch(x86) || a.classes(a.native())["socket"] == Allowed {
		return nil
	}
	nr, ok := x86.Number("socketcall")
	if !ok || !a.allowsCall(x86, nr, [6]uint64{1}) {
		return nil
	}
	return []Finding{{ID: "SF201", Severity: High, Title: "socket argument rules bypassed through i386 socketcall",
		Arches: []string{x86.Name}, Syscalls: []string{"socket", "socketcall"},
		Reason: "the profile limits socket(2) by its arguments, but on the i386 ABI socketcall(SYS_SOCKET, args) is allowed, and its family and type are in user memory the filter cannot read: any address family is reachable there (the Docker default's AF_VSOCK rule among them)",
		Fix:    "remove SCMP_ARCH_X86 from architectures if no 32-bit program runs, or deny socketcall on x86 (glibc since 2.23 calls socket directly)"}}
}

// compatABIs: the i386 and x32 entry points are separate kernel code with
// their own history of bugs; an x86_64 workload rarely needs them.
func (a *auditor) compatABIs() []Finding {
	if a.native() != syscalls.X86_64 {
		return nil
	}
	var out []Finding
	for _, c := range []struct {
		arch *syscalls.Arch
		id   string
		cve  string
	}{{syscalls.X86, "SF202", "CVE-2010-3081"}, {syscalls.X32, "SF203", "CVE-2014-0038"}} {
		if !a.hasArch(c.arch) {
			continue
		}
		n := 0
		for _, cl := range a.classes(c.arch) {
			if cl != Blocked {
				n++
			}
		}
		if n == 0 {
			continue
		}
		out = append(out, Finding{ID: c.id, Severity: Medium, Title: "the " + c.arch.Name + " ABI is open on an x86_64 profile",
			Arches: []string{c.arch.Name}, CVEs: []string{c.cve},
			Reason: fmt.Sprintf("%d %s system calls are allowed; the compat entry points are a separate kernel attack surface that 64-bit programs never use", n, c.arch.Name),
			Fix:    fmt.Sprintf("remove %s from architectures unless the container runs %s programs", c.arch.OCI, c.arch.Name)})
	}
	return out
}

// limits reports whether the profile means to limit call (class c): it has
// argument rules for it, or an entry that names it. A call that is merely
// absent, as in a recorded profile whose workload uses openat, is not a
// limit that its twin sidesteps.
func (a *auditor) limits(call string, c Class) bool {
	if c == Conditional {
		return true
	}
	return a.res != nil && slices.Contains(a.res.Named, call)
}

// sidesteps: a limit on one call is moot when its twin is allowed freely.
func (a *auditor) sidesteps() []Finding {
	var out []Finding
	cl := a.classes(a.native())
	for _, s := range []struct {
		id, call string
		twins    []string
	}{{"SF204", "open", []string{"openat", "openat2"}}, {"SF205", "execve", []string{"execveat"}}, {"SF206", "clone", []string{"clone3"}}} {
		c, ok := cl[s.call]
		if !ok || c == Allowed || !a.limits(s.call, c) {
			continue
		}
		var open []string
		for _, t := range s.twins {
			if cl[t] == Allowed {
				open = append(open, t)
			}
		}
		if len(open) == 0 {
			continue
		}
		out = append(out, Finding{ID: s.id, Severity: Medium, Title: s.call + " is limited but " + strings.Join(open, " and ") + " is not",
			Arches: []string{a.native().Name}, Syscalls: append([]string{s.call}, open...),
			Reason: fmt.Sprintf("%s is %s, but %s does the same work and is allowed whatever its arguments", s.call, c, strings.Join(open, " and ")),
			Fix:    fmt.Sprintf("give %s the same limits as %s (for clone3, whose flags a filter cannot read: ERRNO with errnoRet 38 so libc falls back to clone)", strings.Join(open, " and "), s.call)})
	}
	return out
}

// unknownNames: runc silently ignores names libseccomp does not know, so a
// typo weakens a deny rule or breaks an allow rule without a word.
func (a *auditor) unknownNames() []Finding {
	if a.p == nil {
		return nil
	}
	var out []Finding
	for i, e := range a.p.Syscalls {
		for _, name := range e.Names {
			if syscalls.Known(name) {
				continue
			}
			out = append(out, Finding{ID: "SF301", Severity: Low, Title: "unknown system call name", Syscalls: []string{name},
				Reason: fmt.Sprintf("syscalls[%d]: %q is a system call of no architecture (table %s); runc ignores it without a word", i, name, syscalls.TableVersion),
				Fix:    "check the spelling"})
		}
	}
	return out
}

// noEffect: an entry whose action is the default action changes nothing
// (runc drops it), which usually means its author expected otherwise.
func (a *auditor) noEffect() []Finding {
	if a.p == nil {
		return nil
	}
	var out []Finding
	def := a.res.DefaultAction
	for i, e := range a.p.Syscalls {
		act := profile.Action{Kind: e.Action}
		if e.Action.TakesData() {
			act.Data = profile.EPERM
			if e.ErrnoRet != nil {
				act.Data = *e.ErrnoRet
			}
		}
		if act != def || len(e.Names) == 0 {
			continue
		}
		out = append(out, Finding{ID: "SF302", Severity: Info, Title: "entry with no effect", Syscalls: e.Names,
			Reason: fmt.Sprintf("syscalls[%d] has the default action %s: runc drops it, and it changes no verdict", i, def),
			Fix:    "remove the entry, or give it the action that was meant"})
	}
	return out
}

// shadowed: once a call has an unconditional rule, libseccomp lets it decide
// alone; every other entry for that call is dead.
func (a *auditor) shadowed() []Finding {
	if a.res == nil {
		return nil
	}
	byName := map[string][]profile.Rule{}
	for _, r := range a.res.Rules {
		byName[r.Name] = append(byName[r.Name], r)
	}
	var out []Finding
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		rules := byName[name]
		i := slices.IndexFunc(rules, func(r profile.Rule) bool { return len(r.Args) == 0 })
		if i < 0 {
			continue
		}
		var dead []string
		for _, r := range rules {
			if r.Entry != rules[i].Entry && !slices.Contains(dead, fmt.Sprintf("syscalls[%d]", r.Entry)) {
				dead = append(dead, fmt.Sprintf("syscalls[%d]", r.Entry))
			}
		}
		if len(dead) == 0 {
			continue
		}
		out = append(out, Finding{ID: "SF303", Severity: Low, Title: "rules shadowed by an unconditional rule", Syscalls: []string{name},
			Reason: fmt.Sprintf("syscalls[%d] decides %s whatever the arguments (%s); the rules of %s never apply", rules[i].Entry, name, rules[i].Action, strings.Join(dead, ", ")),
			Fix:    "merge the entries, or make the unconditional one conditional"})
	}
	return out
}

// repeatedIndex: runc turns an entry with several conditions on the same
// argument into separate rules, ORed, not ANDed: "a1 >= 3 && a1 <= 10"
// becomes "a1 >= 3 || a1 <= 10", which lets every value through. A
// condition no value satisfies (< 0, > the maximum) makes its rule dead.
func (a *auditor) repeatedIndex() []Finding {
	if a.p == nil {
		return nil
	}
	var out []Finding
	for i, e := range a.p.Syscalls {
		seen := map[uint]int{}
		for _, c := range e.Args {
			seen[c.Index]++
		}
		for idx, n := range seen {
			if n < 2 {
				continue
			}
			out = append(out, Finding{ID: "SF305", Severity: Medium, Title: "conditions on one argument are ORed, not ANDed", Syscalls: e.Names,
				Reason: fmt.Sprintf("syscalls[%d] has %d conditions on argument %d; runc makes each a rule of its own, so a call matching any one of them matches the entry%s", i, n, idx, FormatArgs(e.Args)),
				Fix:    "express the range with one condition (SCMP_CMP_MASKED_EQ, or one bound), or list the allowed values in separate entries with SCMP_CMP_EQ"})
			break
		}
		for _, c := range e.Args {
			if (c.Op == profile.OpLessThan && c.Value == 0) || (c.Op == profile.OpGreaterThan && c.Value == ^uint64(0)) {
				out = append(out, Finding{ID: "SF306", Severity: Low, Title: "condition no value satisfies", Syscalls: e.Names,
					Reason: fmt.Sprintf("syscalls[%d]: argument %d %s %#x never holds (arguments are unsigned), so the rule never applies", i, c.Index, c.Op, c.Value),
					Fix:    "fix the value or the operator"})
			}
		}
	}
	return out
}

// futureCalls: with EPERM as the default, a call newer than the profile
// fails with EPERM, and libcs fall back to the older call only on ENOSYS.
func (a *auditor) futureCalls() []Finding {
	if a.res == nil {
		return nil
	}
	def := a.res.DefaultAction
	if def.Kind != profile.Errno || def.Data == profile.ENOSYS {
		return nil
	}
	var missing []string
	for _, n := range FallbackProbes {
		if !slices.Contains(a.res.Named, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []Finding{{ID: "SF401", Severity: Info, Title: "newer calls fail with EPERM, not ENOSYS", Syscalls: missing,
		Reason: fmt.Sprintf("the default is ERRNO(%d): %s, which glibc, musl and Go try before their older equivalents, fail with it instead of ENOSYS, and the fallback never happens (runc's ENOSYS stub covers only numbers above the largest named call)", def.Data, strings.Join(missing, ", ")),
		Fix:    "add an entry for them with SCMP_ACT_ERRNO and errnoRet 38 (ENOSYS), as sysfence generate does"}}
}
