package analysis

import (
	"fmt"
	"slices"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// Change is one system call whose verdict differs between two resolved
// profiles, with an argument vector that shows it.
type Change struct {
	Arch    string    `json:"arch"`
	Syscall string    `json:"syscall"` // name, or "#NR" for a number no table names
	Nr      uint32    `json:"nr"`
	Args    [6]uint64 `json:"args"`    // a call that gets A and B
	A       string    `json:"a"`       // verdict of the first profile for Args
	B       string    `json:"b"`       // verdict of the second
	Partial bool      `json:"partial"` // the verdicts agree for other argument values
}

// Diff lists the calls whose verdict differs between a and b, per arch of
// either filter. It compares, for every number of each arch's table (and
// the numbers just past it, where runc's ENOSYS stub answers), the
// verdicts for argument vectors built from every condition either profile
// has on that call: each condition's boundary values and a vector that
// satisfies each rule, plus all-zero, all-ones and an unrelated value. The
// verdict is constant between those boundaries for the comparisons Docker
// profiles use, so a difference anywhere shows on one of them.
func Diff(a, b *profile.Resolved) []Change {
	var out []Change
	for _, arch := range unionArches(a.Arches, b.Arches) {
		for _, nr := range numbersOf(arch) {
			if c, ok := compareCall(a, b, arch, nr, func(va, vb Verdict) bool { return va.Action != vb.Action }); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

// Within reports whether p allows nothing that baseline denies, for every
// arch, call and argument value (by the same argument vectors as Diff), and
// otherwise returns the first counter-example.
func Within(p, baseline *profile.Resolved) (Change, bool) {
	for _, arch := range unionArches(p.Arches, baseline.Arches) {
		for _, nr := range numbersOf(arch) {
			looser := func(vp, vb Verdict) bool { return allows(vp.Action) && !allows(vb.Action) }
			if c, ok := compareCall(p, baseline, arch, nr, looser); ok {
				return c, false
			}
		}
	}
	return Change{}, true
}

// compareCall returns the first argument vector for which differ holds.
func compareCall(a, b *profile.Resolved, arch *syscalls.Arch, nr uint32, differ func(va, vb Verdict) bool) (Change, bool) {
	samples := argSamples(arch, nr, a, b)
	found, agree := -1, false
	var va, vb Verdict
	for i, args := range samples {
		x, y := Evaluate(a, arch.Audit, nr, args), Evaluate(b, arch.Audit, nr, args)
		if differ(x, y) {
			if found < 0 {
				found, va, vb = i, x, y
			}
		} else {
			agree = true
		}
	}
	if found < 0 {
		return Change{}, false
	}
	name, ok := arch.SyscallName(nr)
	if !ok {
		name = fmt.Sprintf("#%d", nr)
	}
	return Change{Arch: arch.Name, Syscall: name, Nr: nr, Args: samples[found], A: va.Action.String(), B: vb.Action.String(), Partial: agree}, true
}

// argSamples builds the argument vectors compareCall tries for call nr.
func argSamples(arch *syscalls.Arch, nr uint32, profiles ...*profile.Resolved) [][6]uint64 {
	const ones, odd = ^uint64(0), 0x5a5a5a5a5a5a5a5a
	samples := [][6]uint64{{}, {ones, ones, ones, ones, ones, ones}, {odd, odd, odd, odd, odd, odd}}
	add := func(s [6]uint64) {
		if !slices.Contains(samples, s) {
			samples = append(samples, s)
		}
	}
	for _, res := range profiles {
		for i := range res.Rules {
			conds, ok := ruleOn(arch, &res.Rules[i], nr)
			if !ok || len(conds) == 0 {
				continue
			}
			add(satisfying(conds))
			for _, c := range conds {
				for _, v := range boundaries(c) {
					var s [6]uint64
					s[c.Index] = v
					add(s)
					base := satisfying(conds)
					base[c.Index] = v
					add(base)
				}
			}
		}
	}
	return samples
}

// boundaries are the values around which condition c changes its answer.
func boundaries(c profile.Arg) []uint64 {
	if c.Op == profile.OpMaskedEqual {
		d := c.ValueTwo & c.Value
		return []uint64{d, d ^ c.Value, d | ^c.Value, (d ^ c.Value) | ^c.Value}
	}
	return []uint64{c.Value - 1, c.Value, c.Value + 1}
}

// numbersOf lists the numbers Diff compares for arch: every number its
// table names, and the four past the largest, where runc's stub answers.
func numbersOf(arch *syscalls.Arch) []uint32 {
	var nrs []uint32
	for _, name := range arch.Names() {
		if nr, ok := arch.Number(name); ok {
			nrs = append(nrs, nr)
		}
	}
	slices.Sort(nrs)
	nrs = slices.Compact(nrs)
	if n := len(nrs); n > 0 {
		for i := uint32(1); i <= 4; i++ {
			nrs = append(nrs, nrs[n-1]+i)
		}
	}
	return nrs
}

func unionArches(a, b []*syscalls.Arch) []*syscalls.Arch {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
