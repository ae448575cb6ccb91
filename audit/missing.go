package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sysfence/sysfence/profile"
)

// Addition is what a profile lacks on one set of architectures: the
// names of the calls seen on exactly those, and their record count.
type Addition struct {
	Arches  []string
	Names   []string
	Records int
}

// Missing returns the syscalls of non-ALLOW groups on the resolved
// profile's architectures that it does not allow unconditionally, grouped
// by the set of architectures each was seen on, and a sentence for each
// group it leaves out (another architecture, a number without a name).
func Missing(res *profile.Resolved, groups []Group) ([]Addition, []string) {
	arches := map[string]bool{}
	for _, a := range res.Arches {
		arches[a.Name] = true
	}
	allowed := map[string]bool{}
	for _, r := range res.Rules {
		if r.Action.Kind == profile.Allow && len(r.Args) == 0 {
			allowed[r.Name] = true
		}
	}
	seenOn := map[string][]string{}
	count := map[string]int{}
	var names, skipped []string
	for _, g := range groups {
		switch {
		case g.Action == "ALLOW" || allowed[g.Syscall]:
			continue
		case !arches[g.Arch]:
			skipped = append(skipped, fmt.Sprintf("%s on %s not added: the profile does not cover %s", g.Syscall, g.Arch, g.Arch))
			continue
		case strings.HasPrefix(g.Syscall, "#"):
			skipped = append(skipped, fmt.Sprintf("syscall %s on %s not added: no name in the %s table", g.Syscall, g.Arch, g.Arch))
			continue
		}
		if _, ok := seenOn[g.Syscall]; !ok {
			names = append(names, g.Syscall)
		}
		if !slices.Contains(seenOn[g.Syscall], g.Arch) {
			seenOn[g.Syscall] = append(seenOn[g.Syscall], g.Arch)
		}
		count[g.Syscall] += g.Count
	}
	var out []Addition
	index := map[string]int{}
	slices.Sort(names)
	for _, n := range names {
		set := slices.Sorted(slices.Values(seenOn[n]))
		key := strings.Join(set, ",")
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, Addition{Arches: set})
		}
		out[i].Names = append(out[i].Names, n)
		out[i].Records += count[n]
	}
	return out, slices.Compact(skipped)
}
