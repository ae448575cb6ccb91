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
	if stubABI != nil && inStub(res, stubABI, nr) {
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
		conds, ok := ruleOn(arch, r, nr)
		if !ok {
			continue
		}
		if len(conds) == 0 {
			return Verdict{Action: r.Action, Reason: ByRule, Arch: arch, Rule: r}, true
		}
		if argsMatch(arch, conds, args) {
			matching = append(matching, r)
		}
	}
	if len(matching) > 0 {
		return Verdict{Action: matching[0].Action, Reason: ByRule, Arch: arch, Rule: matching[0]}, true
	}
	return Verdict{}, false
}

// ruleOn returns the conditions rule r has on number nr of arch, as
// libseccomp stores them: MASKED_EQ conditions whose mask is zero on the
// ABI's width are dropped; where libseccomp multiplexes socket and SysV IPC
// calls, the rule also applies to socketcall/ipc with argument 0 required
// to be the call number instead of its own argument-0 condition.
func ruleOn(arch *syscalls.Arch, r *profile.Rule, nr uint32) ([]profile.Arg, bool) {
	width := widthMask(arch)
	var conds []profile.Arg
	for _, c := range r.Args {
		if c.Op == profile.OpMaskedEqual && c.Value&width == 0 {
			continue
		}
		conds = append(conds, c)
	}
	if n, ok := arch.Number(r.Name); ok && n == nr {
		return conds, true
	}
	mux, call, ok := arch.Multiplexed(r.Name)
	if !ok {
		return nil, false
	}
	if n, ok := arch.Number(mux); !ok || n != nr {
		return nil, false
	}
	out := []profile.Arg{{Index: 0, Op: profile.OpEqualTo, Value: call}}
	for _, c := range conds {
		if c.Index != 0 {
			out = append(out, c)
		}
	}
	return out, true
}

func widthMask(arch *syscalls.Arch) uint64 {
	if arch.Bits == 32 {
		return 0xffffffff
	}
	return ^uint64(0)
}

// inStub reports whether runc's ENOSYS stub answers nr for abi: the ABI is
// covered, has a "last syscall" (names that resolve to libseccomp's
// negative multiplexer numbers do not count), and nr is above it; on s390
// the stub also answers number 0.
func inStub(res *profile.Resolved, abi *syscalls.Arch, nr uint32) bool {
	if !slices.Contains(res.StubArches, abi) {
		return false
	}
	var last uint32
	for _, name := range res.Named {
		if _, _, mux := abi.Multiplexed(name); mux {
			continue
		}
		if n, ok := abi.Number(name); ok && n > last {
			last = n
		}
	}
	if last == 0 {
		return false
	}
	return nr > last || nr == 0 && (abi.Name == "s390" || abi.Name == "s390x")
}

// argsMatch reports whether every condition holds; 32-bit ABIs compare only
// the low 32 bits of argument and datum.
func argsMatch(arch *syscalls.Arch, conds []profile.Arg, args [6]uint64) bool {
	mask := widthMask(arch)
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
			ok = v&a == b&a
		}
		if !ok {
			return false
		}
	}
	return true
}

// FormatArgs renders argument conditions like ": a0 == 0x1 && a1 & 0xff == 0x0".
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
