package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// Reason names the part of Docker's semantics that decided a verdict.
type Reason string

// The reasons a verdict can have.
const (
	ByBadArch  Reason = "architecture not in the filter (libseccomp's bad-arch action)"
	ByX32Guard Reason = "x32 number on an x86_64 filter without x32 (libseccomp's x32 guard)"
	ByENOSYS   Reason = "runc's ENOSYS stub: number above every syscall the profile names"
	ByRule     Reason = "profile entry"
	ByDefault  Reason = "default action: no entry matches"
)

// Verdict is the action the Docker pipeline takes for one call, and why.
type Verdict struct {
	Action profile.Action
	Reason Reason
	Arch   *syscalls.Arch // the ABI the call belongs to; nil for a bad arch
	Rule   *profile.Rule  // the deciding rule when Reason is ByRule
}

func (v Verdict) String() string {
	if v.Rule != nil {
		return fmt.Sprintf("%v: %s syscalls[%d] (%s%s)", v.Action, v.Reason, v.Rule.Entry, v.Rule.Name, FormatArgs(v.Rule.Args))
	}
	return fmt.Sprintf("%v: %s", v.Action, v.Reason)
}

// Evaluate is the reference semantics, written from DESIGN.md's rules and
// not from the compiler: the verdict of a resolved profile for a call with
// audit-arch token, number nr (as the kernel sees it) and arguments.
//
// Order: libseccomp's arch check; runc's ENOSYS stub (which tells x32 from
// x86_64 by the x32 bit alone); libseccomp's x32 guard (numbers ≥ the x32
// bit, except -1, on an x86_64 filter without x32); the rules of every
// filter ABI under the token, by exact number; the default action.
func Evaluate(res *profile.Resolved, token uint32, nr uint32, args [6]uint64) Verdict {
	kill := profile.Action{Kind: profile.KillThread}
	var abis []*syscalls.Arch
	for _, a := range res.Arches {
		if a.Audit == token {
			abis = append(abis, a)
		}
	}
	if len(abis) == 0 {
		return Verdict{Action: kill, Reason: ByBadArch}
	}
	hasX32 := slices.Contains(abis, syscalls.X32)
	hasX86_64 := slices.Contains(abis, syscalls.X86_64)
	// runc's stub: per ABI, numbers above the largest named one. Under
	// x86_64's token it picks the ABI by the x32 bit alone, and has no
	// bound for x32 numbers when x32 is not in the filter.
	stubABI := abis[0]
	if hasX86_64 {
		stubABI = syscalls.X86_64
		if nr&syscalls.X32Bit != 0 {
			stubABI = nil
			if hasX32 {
				stubABI = syscalls.X32
			}
		}
	}
	if stubABI != nil && stubApplies(res.DefaultAction) && nr > maxNamed(res, stubABI) {
		return Verdict{Action: profile.Action{Kind: profile.Errno, Data: profile.ENOSYS}, Reason: ByENOSYS, Arch: stubABI}
	}
	if hasX86_64 && !hasX32 && nr >= syscalls.X32Bit && nr != 0xffffffff {
		return Verdict{Action: kill, Reason: ByX32Guard, Arch: syscalls.X32}
	}
	for _, arch := range abis {
		if v, ok := evaluateRules(res, arch, nr, args); ok {
			return v
		}
	}
	return Verdict{Action: res.DefaultAction, Reason: ByDefault, Arch: syscalls.ForNumber(token, nr)}
}

// evaluateRules applies the rules naming number nr on arch: the first
// unconditional one decides; else the first whose conditions all hold.
func evaluateRules(res *profile.Resolved, arch *syscalls.Arch, nr uint32, args [6]uint64) (Verdict, bool) {
	var matching []*profile.Rule
	for i := range res.Rules {
		r := &res.Rules[i]
		if n, ok := arch.Number(r.Name); !ok || n != nr {
			continue
		}
		if len(r.Args) == 0 {
			return Verdict{Action: r.Action, Reason: ByRule, Arch: arch, Rule: r}, true
		}
		if argsMatch(arch, r.Args, args) {
			matching = append(matching, r)
		}
	}
	if len(matching) > 0 {
		return Verdict{Action: matching[0].Action, Reason: ByRule, Arch: arch, Rule: matching[0]}, true
	}
	return Verdict{}, false
}

func inFilter(res *profile.Resolved, a *syscalls.Arch) bool {
	for _, x := range res.Arches {
		if x == a {
			return true
		}
	}
	return false
}

// stubApplies mirrors runc: no ENOSYS stub when the default lets calls run.
func stubApplies(def profile.Action) bool {
	switch def.Kind {
	case profile.Allow, profile.Log, profile.Trace:
		return false
	}
	return true
}

// maxNamed is the largest number, on arch, of any syscall the profile names.
func maxNamed(res *profile.Resolved, arch *syscalls.Arch) uint32 {
	var m uint32
	for _, name := range res.Named {
		if n, ok := arch.Number(name); ok && n > m {
			m = n
		}
	}
	return m
}

// argsMatch reports whether every condition holds; 32-bit ABIs compare only
// the low 32 bits of argument and datum.
func argsMatch(arch *syscalls.Arch, conds []profile.Arg, args [6]uint64) bool {
	mask := ^uint64(0)
	if arch.Bits == 32 {
		mask = 0xffffffff
	}
	for _, c := range conds {
		v, a, b := args[c.Index]&mask, c.Value&mask, c.ValueTwo&mask
		var ok bool
		switch c.Op {
		case profile.OpNotEqual:
			ok = v != a
		case profile.OpLessThan:
			ok = v < a
		case profile.OpLessEqual:
			ok = v <= a
		case profile.OpEqualTo:
			ok = v == a
		case profile.OpGreaterEqual:
			ok = v >= a
		case profile.OpGreaterThan:
			ok = v > a
		case profile.OpMaskedEqual:
			ok = v&a == b
		}
		if !ok {
			return false
		}
	}
	return true
}

// FormatArgs renders argument conditions like "; a0 == 0x1, a1 & 0xff == 0".
func FormatArgs(args []profile.Arg) string {
	if len(args) == 0 {
		return ""
	}
	var parts []string
	for _, a := range args {
		parts = append(parts, formatArg(a))
	}
	return ": " + strings.Join(parts, " && ")
}

func formatArg(a profile.Arg) string {
	ops := map[profile.Operator]string{
		profile.OpNotEqual: "!=", profile.OpLessThan: "<", profile.OpLessEqual: "<=",
		profile.OpEqualTo: "==", profile.OpGreaterEqual: ">=", profile.OpGreaterThan: ">",
	}
	if a.Op == profile.OpMaskedEqual {
		return fmt.Sprintf("a%d & %#x == %#x", a.Index, a.Value, a.ValueTwo)
	}
	return fmt.Sprintf("a%d %s %#x", a.Index, ops[a.Op], a.Value)
}
