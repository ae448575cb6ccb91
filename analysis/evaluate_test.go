package analysis

import (
	"strings"
	"testing"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

var (
	allow    = profile.Action{Kind: profile.Allow}
	eperm    = profile.Action{Kind: profile.Errno, Data: profile.EPERM}
	enosys   = profile.Action{Kind: profile.Errno, Data: profile.ENOSYS}
	kill     = profile.Action{Kind: profile.KillThread}
	x86      = syscalls.X86
	x86_64   = syscalls.X86_64
	x32      = syscalls.X32
	s390x    = syscalls.MustLookup("s390x")
	aarch64  = syscalls.AARCH64
	errnoOf  = func(n uint16) profile.Action { return profile.Action{Kind: profile.Errno, Data: n} }
	archList = func(as ...*syscalls.Arch) []*syscalls.Arch { return as }
)

func eq(i uint, v uint64) profile.Arg { return profile.Arg{Index: i, Op: profile.OpEqualTo, Value: v} }

func op(i uint, o profile.Operator, v uint64) profile.Arg {
	return profile.Arg{Index: i, Op: o, Value: v}
}

func masked(i uint, mask, datum uint64) profile.Arg {
	return profile.Arg{Index: i, Op: profile.OpMaskedEqual, Value: mask, ValueTwo: datum}
}

func rule(entry int, name string, act profile.Action, args ...profile.Arg) profile.Rule {
	return profile.Rule{Entry: entry, Name: name, Action: act, Args: args}
}

// resolved builds a profile.Resolved by hand. Named is every rule's name
// plus extra (names of rules dropped because their action is the default).
func resolved(def profile.Action, arches, stub []*syscalls.Arch, rules []profile.Rule, extra ...string) *profile.Resolved {
	r := &profile.Resolved{
		Target:        profile.Target{Arch: arches[0]},
		DefaultAction: def,
		Arches:        arches,
		StubArches:    stub,
		Rules:         rules,
	}
	for _, ru := range rules {
		r.Named = append(r.Named, ru.Name)
	}
	r.Named = append(r.Named, extra...)
	return r
}

func nr(a *syscalls.Arch, name string) uint32 {
	n, ok := a.Number(name)
	if !ok {
		panic(a.Name + " has no " + name)
	}
	return n
}

type evalCase struct {
	name   string
	res    *profile.Resolved
	token  uint32
	nr     uint32
	args   [6]uint64
	want   profile.Action
	reason Reason
	entry  int            // deciding entry when reason is ByRule
	arch   *syscalls.Arch // expected Verdict.Arch; nil: not checked
}

// allEvalCases lists every row, grouped by the DESIGN semantics rule it
// exercises.
func allEvalCases() []evalCase {
	var cases []evalCase
	for _, rule := range [][]evalCase{rule2Cases(), rule3Cases(), rule4Cases(), rule5Cases(), rule5MultiplexCases(), rule6Cases()} {
		cases = append(cases, rule...)
	}
	return cases
}

func TestEvaluate(t *testing.T) {
	for _, c := range allEvalCases() {
		t.Run(c.name, func(t *testing.T) {
			v := Evaluate(c.res, c.token, c.nr, c.args)
			if v.Action != c.want || v.Reason != c.reason {
				t.Fatalf("Evaluate(%#x, %#x, %#x) = %v (%s), want %v (%s)", c.token, c.nr, c.args, v.Action, v.Reason, c.want, c.reason)
			}
			if c.reason == ByRule {
				if v.Rule == nil || v.Rule.Entry != c.entry {
					t.Errorf("deciding rule = %+v, want entry %d", v.Rule, c.entry)
				}
			} else if v.Rule != nil {
				t.Errorf("Rule = %+v, want none for %s", v.Rule, c.reason)
			}
			if c.arch != nil && v.Arch != c.arch {
				t.Errorf("Arch = %v, want %v", v.Arch, c.arch)
			}
			if c.reason == ByBadArch && v.Arch != nil {
				t.Errorf("Arch = %v, want nil for a bad arch", v.Arch)
			}
		})
	}
}

func rule2Cases() []evalCase {
	ored := resolved(eperm, archList(x86_64), nil, []profile.Rule{
		rule(0, "read", allow, eq(0, 1)),
		rule(1, "read", allow, eq(1, 2)),
	})
	split := resolved(eperm, archList(x86_64), nil, []profile.Rule{
		// an entry with a repeated index becomes one rule per condition
		rule(0, "ioctl", allow, eq(1, 0x5401)),
		rule(0, "ioctl", allow, eq(1, 0x5402)),
	})
	data := resolved(eperm, archList(x86_64), nil, []profile.Rule{rule(0, "mkdir", errnoOf(13))})
	tok := x86_64.Audit
	return []evalCase{
		{name: "rule 2: separate entries are ORed (first)", res: ored, token: tok, nr: nr(x86_64, "read"), args: [6]uint64{1, 0}, want: allow, reason: ByRule, entry: 0},
		{name: "rule 2: separate entries are ORed (second)", res: ored, token: tok, nr: nr(x86_64, "read"), args: [6]uint64{0, 2}, want: allow, reason: ByRule, entry: 1},
		{name: "rule 2: separate entries are ORed (neither)", res: ored, token: tok, nr: nr(x86_64, "read"), args: [6]uint64{0, 0}, want: eperm, reason: ByDefault, arch: x86_64},
		{name: "rule 2: repeated index ORed (a)", res: split, token: tok, nr: nr(x86_64, "ioctl"), args: [6]uint64{3, 0x5401}, want: allow, reason: ByRule, entry: 0},
		{name: "rule 2: repeated index ORed (b)", res: split, token: tok, nr: nr(x86_64, "ioctl"), args: [6]uint64{3, 0x5402}, want: allow, reason: ByRule, entry: 0},
		{name: "rule 2: repeated index ORed (neither)", res: split, token: tok, nr: nr(x86_64, "ioctl"), args: [6]uint64{3, 0x5403}, want: eperm, reason: ByDefault},
		{name: "rule 2: errno data is returned", res: data, token: tok, nr: nr(x86_64, "mkdir"), want: errnoOf(13), reason: ByRule, entry: 0},
		{name: "rule 2: unnamed syscall gets the default", res: data, token: tok, nr: nr(x86_64, "rmdir"), want: eperm, reason: ByDefault},
	}
}

func rule3Cases() []evalCase {
	tok := x86_64.Audit
	read := nr(x86_64, "read")
	first := resolved(eperm, archList(x86_64), nil, []profile.Rule{
		rule(0, "read", allow),
		rule(1, "read", errnoOf(5)),
	})
	replaces := resolved(eperm, archList(x86_64), nil, []profile.Rule{
		rule(0, "read", errnoOf(5), eq(0, 1)),
		rule(1, "read", allow),
	})
	swallows := resolved(eperm, archList(x86_64), nil, []profile.Rule{
		rule(0, "read", allow),
		rule(1, "read", errnoOf(5), eq(0, 1)),
	})
	disjoint := resolved(eperm, archList(x86_64), nil, []profile.Rule{
		rule(0, "read", errnoOf(5), eq(0, 1)),
		rule(1, "read", errnoOf(6), eq(0, 2)),
	})
	return []evalCase{
		{name: "rule 3: first unconditional rule wins", res: first, token: tok, nr: read, want: allow, reason: ByRule, entry: 0},
		{name: "rule 3: unconditional rule replaces earlier conditional ones", res: replaces, token: tok, nr: read, args: [6]uint64{1}, want: allow, reason: ByRule, entry: 1},
		{name: "rule 3: earlier unconditional rule drops later conditional ones", res: swallows, token: tok, nr: read, args: [6]uint64{1}, want: allow, reason: ByRule, entry: 0},
		{name: "rule 3: disjoint conditional rules (first)", res: disjoint, token: tok, nr: read, args: [6]uint64{1}, want: errnoOf(5), reason: ByRule, entry: 0},
		{name: "rule 3: disjoint conditional rules (second)", res: disjoint, token: tok, nr: read, args: [6]uint64{2}, want: errnoOf(6), reason: ByRule, entry: 1},
		{name: "rule 3: disjoint conditional rules (none)", res: disjoint, token: tok, nr: read, args: [6]uint64{3}, want: eperm, reason: ByDefault},
	}
}

func rule4Cases() []evalCase {
	both := archList(x86_64, x86)
	eq1 := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, eq(0, 1))})
	eqBig := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, eq(0, 0x100000001))})
	gt := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, op(0, profile.OpGreaterThan, 0xffffffff))})
	ne := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, op(0, profile.OpNotEqual, 5))})
	lt := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, op(0, profile.OpLessThan, 5))})
	le := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, op(2, profile.OpLessEqual, 5))})
	ge := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, op(5, profile.OpGreaterEqual, 5))})
	datum := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, masked(0, 0xff, 0x1ff))})
	hiMask := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, masked(0, 0xff00000000, 0x100000000))})
	zeroMask := resolved(eperm, both, nil, []profile.Rule{rule(0, "read", allow, masked(1, 0, 7))})
	r64, r32 := nr(x86_64, "read"), nr(x86, "read")
	t64, t32 := x86_64.Audit, x86.Audit
	return []evalCase{
		{name: "rule 4: x86_64 compares the high word", res: eq1, token: t64, nr: r64, args: [6]uint64{0x100000001}, want: eperm, reason: ByDefault},
		{name: "rule 4: x86_64 equal", res: eq1, token: t64, nr: r64, args: [6]uint64{1}, want: allow, reason: ByRule},
		{name: "rule 4: x86 compares only the low word of the argument", res: eq1, token: t32, nr: r32, args: [6]uint64{0x100000001}, want: allow, reason: ByRule, arch: x86},
		{name: "rule 4: x86 compares only the low word of the value", res: eqBig, token: t32, nr: r32, args: [6]uint64{1}, want: allow, reason: ByRule},
		{name: "rule 4: x86_64 full value differs", res: eqBig, token: t64, nr: r64, args: [6]uint64{1}, want: eperm, reason: ByDefault},
		{name: "rule 4: x86_64 GT above 32 bits", res: gt, token: t64, nr: r64, args: [6]uint64{0x100000000}, want: allow, reason: ByRule},
		{name: "rule 4: x86_64 GT not above", res: gt, token: t64, nr: r64, args: [6]uint64{0xffffffff}, want: eperm, reason: ByDefault},
		{name: "rule 4: x86 GT on the low word (value 0xffffffff)", res: gt, token: t32, nr: r32, args: [6]uint64{0x1ffffffff}, want: eperm, reason: ByDefault},
		{name: "rule 4: NE equal", res: ne, token: t64, nr: r64, args: [6]uint64{5}, want: eperm, reason: ByDefault},
		{name: "rule 4: NE differs", res: ne, token: t64, nr: r64, args: [6]uint64{6}, want: allow, reason: ByRule},
		{name: "rule 4: x86 NE differs only in the high word", res: ne, token: t32, nr: r32, args: [6]uint64{0x500000005}, want: eperm, reason: ByDefault},
		{name: "rule 4: LT is unsigned", res: lt, token: t64, nr: r64, args: [6]uint64{^uint64(0)}, want: eperm, reason: ByDefault},
		{name: "rule 4: LT below", res: lt, token: t64, nr: r64, args: [6]uint64{4}, want: allow, reason: ByRule},
		{name: "rule 4: LE equal on arg 2", res: le, token: t64, nr: r64, args: [6]uint64{0, 0, 5}, want: allow, reason: ByRule},
		{name: "rule 4: LE above on arg 2", res: le, token: t64, nr: r64, args: [6]uint64{0, 0, 6}, want: eperm, reason: ByDefault},
		{name: "rule 4: GE on arg 5", res: ge, token: t64, nr: r64, args: [6]uint64{0, 0, 0, 0, 0, 5}, want: allow, reason: ByRule},
		{name: "rule 4: GE below on arg 5", res: ge, token: t64, nr: r64, args: [6]uint64{5, 5, 5, 5, 5, 4}, want: eperm, reason: ByDefault},
		{name: "rule 4: MASKED_EQ datum is masked (0xff)", res: datum, token: t64, nr: r64, args: [6]uint64{0xff}, want: allow, reason: ByRule},
		{name: "rule 4: MASKED_EQ datum is masked (0x7ff)", res: datum, token: t64, nr: r64, args: [6]uint64{0x7ff}, want: allow, reason: ByRule},
		{name: "rule 4: MASKED_EQ masked bits differ", res: datum, token: t64, nr: r64, args: [6]uint64{0x1fe}, want: eperm, reason: ByDefault},
		{name: "rule 4: MASKED_EQ zero low mask is dropped on x86", res: hiMask, token: t32, nr: r32, args: [6]uint64{0}, want: allow, reason: ByRule},
		{name: "rule 4: MASKED_EQ high mask tested on x86_64 (miss)", res: hiMask, token: t64, nr: r64, args: [6]uint64{0}, want: eperm, reason: ByDefault},
		{name: "rule 4: MASKED_EQ high mask tested on x86_64 (hit)", res: hiMask, token: t64, nr: r64, args: [6]uint64{0x1000000ff}, want: allow, reason: ByRule},
		{name: "rule 4: MASKED_EQ zero mask is dropped on x86_64", res: zeroMask, token: t64, nr: r64, args: [6]uint64{0, 3}, want: allow, reason: ByRule},
	}
}

func rule5Cases() []evalCase {
	only64 := resolved(eperm, archList(x86_64), nil, []profile.Rule{rule(0, "read", allow)})
	with32 := resolved(eperm, archList(x86_64, x32), nil, []profile.Rule{rule(0, "read", allow)})
	t64 := x86_64.Audit
	return []evalCase{
		{name: "rule 5: arch not in the filter (aarch64)", res: only64, token: aarch64.Audit, nr: 63, want: kill, reason: ByBadArch},
		{name: "rule 5: arch not in the filter (x86)", res: only64, token: x86.Audit, nr: 3, want: kill, reason: ByBadArch},
		{name: "rule 5: unknown token", res: only64, token: 0xdeadbeef, nr: 0, want: kill, reason: ByBadArch},
		{name: "rule 5: x32 guard on x86_64 without x32", res: only64, token: t64, nr: 0x40000005, want: kill, reason: ByX32Guard},
		{name: "rule 5: x32 guard covers x32 read", res: only64, token: t64, nr: 0x40000000, want: kill, reason: ByX32Guard},
		{name: "rule 5: x32 guard spares -1", res: only64, token: t64, nr: 0xffffffff, want: eperm, reason: ByDefault},
		{name: "rule 5: x32 guard spares numbers below the bit", res: only64, token: t64, nr: 0x3fffffff, want: eperm, reason: ByDefault},
		{name: "rule 5: native rule", res: only64, token: t64, nr: 0, want: allow, reason: ByRule, arch: x86_64},
		{name: "rule 5: x32 in the filter: no guard", res: with32, token: t64, nr: 0x40000005, want: eperm, reason: ByDefault, arch: x32},
		{name: "rule 5: x32 rule by its own number", res: with32, token: t64, nr: 0x40000000, want: allow, reason: ByRule, arch: x32},
		{name: "rule 5: x32 -1 gets the default", res: with32, token: t64, nr: 0xffffffff, want: eperm, reason: ByDefault},
	}
}

func rule5MultiplexCases() []evalCase {
	both := archList(x86_64, x86)
	domain := resolved(eperm, both, nil, []profile.Rule{rule(0, "socket", allow, eq(0, 2))})
	typ := resolved(eperm, both, nil, []profile.Rule{rule(0, "socket", allow, eq(1, 1))})
	ipc := resolved(eperm, both, nil, []profile.Rule{rule(0, "semop", allow)})
	swallow := resolved(eperm, both, nil, []profile.Rule{
		rule(0, "socketcall", errnoOf(5)),
		rule(1, "socket", allow, eq(0, 2)),
	})
	replace := resolved(eperm, both, nil, []profile.Rule{
		rule(0, "socket", allow, eq(0, 2)),
		rule(1, "socketcall", errnoOf(5)),
	})
	sc, t32 := nr(x86, "socketcall"), x86.Audit
	return []evalCase{
		{name: "rule 5: socket rule applies to socketcall(1), its arg0 condition dropped", res: domain, token: t32, nr: sc, args: [6]uint64{1, 0xdead}, want: allow, reason: ByRule},
		{name: "rule 5: socketcall with another call number", res: domain, token: t32, nr: sc, args: [6]uint64{2}, want: eperm, reason: ByDefault},
		{name: "rule 5: direct x86 socket keeps its condition (hit)", res: domain, token: t32, nr: nr(x86, "socket"), args: [6]uint64{2}, want: allow, reason: ByRule},
		{name: "rule 5: direct x86 socket keeps its condition (miss)", res: domain, token: t32, nr: nr(x86, "socket"), args: [6]uint64{10}, want: eperm, reason: ByDefault},
		{name: "rule 5: x86_64 socket is not multiplexed", res: domain, token: x86_64.Audit, nr: nr(x86_64, "socket"), args: [6]uint64{2}, want: allow, reason: ByRule},
		{name: "rule 5: socketcall keeps arg1 conditions (hit)", res: typ, token: t32, nr: sc, args: [6]uint64{1, 1}, want: allow, reason: ByRule},
		{name: "rule 5: socketcall keeps arg1 conditions (miss)", res: typ, token: t32, nr: sc, args: [6]uint64{1, 0}, want: eperm, reason: ByDefault},
		{name: "rule 5: semop through ipc(1)", res: ipc, token: t32, nr: nr(x86, "ipc"), args: [6]uint64{1}, want: allow, reason: ByRule},
		{name: "rule 5: ipc(2) is semget", res: ipc, token: t32, nr: nr(x86, "ipc"), args: [6]uint64{2}, want: eperm, reason: ByDefault},
		{name: "rule 5: earlier unconditional socketcall swallows socket", res: swallow, token: t32, nr: sc, args: [6]uint64{1}, want: errnoOf(5), reason: ByRule, entry: 0},
		{name: "rule 5: later unconditional socketcall replaces socket", res: replace, token: t32, nr: sc, args: [6]uint64{1}, want: errnoOf(5), reason: ByRule, entry: 1},
	}
}

func rule6Cases() []evalCase {
	t64, t32 := x86_64.Audit, x86.Audit
	stub := resolved(eperm, archList(x86_64, x86), archList(x86_64), []profile.Rule{rule(0, "write", allow)}, "close")
	permissive := resolved(allow, archList(x86_64), nil, []profile.Rule{rule(0, "write", errnoOf(5))})
	only64 := resolved(eperm, archList(x86_64, x32), archList(x86_64), []profile.Rule{rule(0, "write", allow)})
	with32 := resolved(eperm, archList(x86_64, x32), archList(x86_64, x32), []profile.Rule{rule(0, "write", allow)})
	guard := resolved(eperm, archList(x86_64), archList(x86_64), []profile.Rule{rule(0, "write", allow)})
	i386 := resolved(eperm, archList(x86_64, x86), archList(x86_64, x86), []profile.Rule{rule(0, "write", allow)})
	s390 := resolved(eperm, archList(s390x), archList(s390x), []profile.Rule{rule(0, "read", allow)})
	readOnly := resolved(eperm, archList(x86_64), archList(x86_64), []profile.Rule{rule(0, "read", allow)})
	sock := resolved(eperm, archList(x86_64, x86), archList(x86_64, x86), []profile.Rule{rule(0, "read", allow), rule(1, "socket", allow)})
	return []evalCase{
		{name: "rule 6: above the last named syscall", res: stub, token: t64, nr: nr(x86_64, "close") + 1, want: enosys, reason: ByENOSYS, arch: x86_64},
		{name: "rule 6: a name dropped as the default still counts", res: stub, token: t64, nr: nr(x86_64, "close"), want: eperm, reason: ByDefault},
		{name: "rule 6: below the bound, no rule", res: stub, token: t64, nr: nr(x86_64, "read"), want: eperm, reason: ByDefault},
		{name: "rule 6: stub applies before rules of named calls", res: stub, token: t64, nr: nr(x86_64, "write"), want: allow, reason: ByRule},
		{name: "rule 6: arch not in StubArches has no stub", res: stub, token: t32, nr: 400, want: eperm, reason: ByDefault, arch: x86},
		{name: "rule 6: permissive default has no stub", res: permissive, token: t64, nr: 400, want: allow, reason: ByDefault},
		{name: "rule 6: x86_64 stub skips x32 numbers when x32 is not covered", res: only64, token: t64, nr: 0x40000005, want: eperm, reason: ByDefault},
		{name: "rule 6: x86_64 stub without x32 still covers x86_64", res: only64, token: t64, nr: 400, want: enosys, reason: ByENOSYS},
		{name: "rule 6: x32 stub above x32 write", res: with32, token: t64, nr: 0x40000005, want: enosys, reason: ByENOSYS, arch: x32},
		{name: "rule 6: x32 stub catches -1", res: with32, token: t64, nr: 0xffffffff, want: enosys, reason: ByENOSYS},
		{name: "rule 6: x32 write allowed", res: with32, token: t64, nr: 0x40000001, want: allow, reason: ByRule},
		{name: "rule 6: x86_64 stub alone leaves x32 numbers to the guard", res: guard, token: t64, nr: 0x40000005, want: kill, reason: ByX32Guard},
		{name: "rule 6: x86_64 stub alone leaves -1 to the default", res: guard, token: t64, nr: 0xffffffff, want: eperm, reason: ByDefault},
		{name: "rule 6: i386 stub catches -1", res: i386, token: t32, nr: 0xffffffff, want: enosys, reason: ByENOSYS, arch: x86},
		{name: "rule 6: i386 bound is its own write", res: i386, token: t32, nr: nr(x86, "write") + 1, want: enosys, reason: ByENOSYS},
		{name: "rule 6: s390x number 0 gets ENOSYS", res: s390, token: s390x.Audit, nr: 0, want: enosys, reason: ByENOSYS},
		{name: "rule 6: s390x read allowed", res: s390, token: s390x.Audit, nr: nr(s390x, "read"), want: allow, reason: ByRule},
		{name: "rule 6: s390x above read", res: s390, token: s390x.Audit, nr: nr(s390x, "read") + 1, want: enosys, reason: ByENOSYS},
		{name: "rule 6: last syscall 0 (only read on x86_64) gives no stub", res: readOnly, token: t64, nr: 400, want: eperm, reason: ByDefault},
		{name: "rule 6: socket does not raise x86's bound (socket)", res: sock, token: t32, nr: nr(x86, "socket"), want: enosys, reason: ByENOSYS},
		{name: "rule 6: socket does not raise x86's bound (socketcall)", res: sock, token: t32, nr: nr(x86, "socketcall"), args: [6]uint64{1}, want: enosys, reason: ByENOSYS},
		{name: "rule 6: x86 read below the bound", res: sock, token: t32, nr: nr(x86, "read"), want: allow, reason: ByRule},
		{name: "rule 6: socket raises x86_64's bound", res: sock, token: t64, nr: nr(x86_64, "socket"), want: allow, reason: ByRule, entry: 1},
		{name: "rule 6: above socket on x86_64", res: sock, token: t64, nr: nr(x86_64, "socket") + 1, want: enosys, reason: ByENOSYS},
	}
}

// TestEvaluateResolvedProfile runs Evaluate on a profile resolved by
// package profile: rule 5's native arch and rule 6's dropped names.
func TestEvaluateResolvedProfile(t *testing.T) {
	p, err := profile.Decode([]byte(`{
		"defaultAction": "SCMP_ACT_ERRNO",
		"architectures": ["SCMP_ARCH_X86"],
		"syscalls": [
			{"names": ["close"], "action": "SCMP_ACT_ERRNO"},
			{"names": ["write"], "action": "SCMP_ACT_ALLOW"}
		]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := profile.Resolve(p, profile.Target{Arch: x86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 1}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		token  uint32
		nr     uint32
		want   profile.Action
		reason Reason
	}{
		{"rule 5: native arch is in the filter", x86_64.Audit, nr(x86_64, "write"), allow, ByRule},
		{"rule 5: listed arch", x86.Audit, nr(x86, "write"), allow, ByRule},
		{"rule 5: other arch", aarch64.Audit, 64, kill, ByBadArch},
		{"rule 2: rule equal to the default is dropped", x86_64.Audit, nr(x86_64, "close"), eperm, ByDefault},
		{"rule 6: dropped close bounds x86_64", x86_64.Audit, nr(x86_64, "close") + 1, enosys, ByENOSYS},
		{"rule 6: dropped close bounds x86", x86.Audit, nr(x86, "close") + 1, enosys, ByENOSYS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Evaluate(res, tt.token, tt.nr, [6]uint64{})
			if v.Action != tt.want || v.Reason != tt.reason {
				t.Errorf("Evaluate = %v (%s), want %v (%s)", v.Action, v.Reason, tt.want, tt.reason)
			}
		})
	}
}

func TestVerdictString(t *testing.T) {
	r := rule(3, "read", allow, eq(0, 1), masked(1, 0xff, 0))
	tests := []struct {
		v    Verdict
		want string
	}{
		{Verdict{Action: allow, Reason: ByRule, Rule: &r}, "ALLOW: profile entry syscalls[3] (read: a0 == 0x1 && a1 & 0xff == 0x0)"},
		{Verdict{Action: eperm, Reason: ByDefault}, "ERRNO(1): " + string(ByDefault)},
		{Verdict{Action: kill, Reason: ByBadArch}, "KILL_THREAD: " + string(ByBadArch)},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestFormatArgs(t *testing.T) {
	tests := []struct {
		args []profile.Arg
		want string
	}{
		{nil, ""},
		{[]profile.Arg{eq(0, 1)}, ": a0 == 0x1"},
		{[]profile.Arg{op(1, profile.OpNotEqual, 0), op(2, profile.OpLessThan, 16)}, ": a1 != 0x0 && a2 < 0x10"},
		{[]profile.Arg{op(3, profile.OpLessEqual, 1), op(4, profile.OpGreaterEqual, 2), op(5, profile.OpGreaterThan, 3)}, ": a3 <= 0x1 && a4 >= 0x2 && a5 > 0x3"},
		{[]profile.Arg{masked(0, 0xff00, 0x100)}, ": a0 & 0xff00 == 0x100"},
	}
	for _, tt := range tests {
		if got := FormatArgs(tt.args); got != tt.want {
			t.Errorf("FormatArgs(%v) = %q, want %q", tt.args, got, tt.want)
		}
		if tt.args != nil && !strings.HasPrefix(FormatArgs(tt.args), ": ") {
			t.Errorf("FormatArgs(%v) lacks the \": \" prefix", tt.args)
		}
	}
}
