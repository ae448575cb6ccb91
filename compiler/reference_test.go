package compiler_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/analysis"
	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// genProfile builds a random resolved profile from r: few names so that
// rules overlap, values with high-word variants, every operator and action.
func genProfile(r *rand.Rand) *profile.Resolved {
	names := []string{"personality", "socket", "getcpu", "kcmp", "acct", "read", "write",
		"socketcall", "clone", "mseal", "listmount", "setxattrat"}
	values := []uint64{0, 1, 2, 8, 0xff, 0x80000000, 0xffffffff, 1 << 32, 1<<32 | 5, ^uint64(0), 0x7e020000}
	actions := []profile.Action{
		{Kind: profile.Allow}, {Kind: profile.Errno, Data: 1}, {Kind: profile.Errno, Data: 38},
		{Kind: profile.KillThread}, {Kind: profile.KillProcess}, {Kind: profile.Trap},
		{Kind: profile.Trace, Data: 3}, {Kind: profile.Log},
	}
	pick := func(n int) int { return r.IntN(n) }
	res := &profile.Resolved{DefaultAction: actions[pick(len(actions))]}
	res.Arches = []*syscalls.Arch{syscalls.X86_64}
	if pick(3) > 0 {
		res.Arches = append(res.Arches, syscalls.X86)
	}
	if pick(2) == 0 {
		res.Arches = append(res.Arches, syscalls.X32)
	}
	switch res.DefaultAction.Kind {
	case profile.Allow, profile.Log, profile.Trace:
	default:
		for _, a := range res.Arches {
			if pick(4) > 0 {
				res.StubArches = append(res.StubArches, a)
			}
		}
	}
	for e := range 1 + pick(12) {
		rule := profile.Rule{Entry: e, Name: names[pick(len(names))], Action: actions[pick(len(actions))]}
		res.Named = append(res.Named, rule.Name)
		if rule.Action == res.DefaultAction {
			continue // runc drops it
		}
		used := map[uint]bool{}
		for range pick(3) {
			idx := uint(pick(3))
			if used[idx] {
				continue
			}
			used[idx] = true
			a := profile.Arg{Index: idx, Op: profile.Operator(1 + pick(7)), Value: values[pick(len(values))]}
			if a.Op == profile.OpMaskedEqual {
				a.ValueTwo = values[pick(len(values))] & a.Value
				if pick(4) == 0 {
					a.ValueTwo = values[pick(len(values))]
				}
			}
			rule.Args = append(rule.Args, a)
		}
		res.Rules = append(res.Rules, rule)
	}
	return res
}

// checkAgainstReference compiles res and compares the program's verdicts
// with the reference evaluator's on every input; it also checks that the
// optimizer changed no verdict and reports branch coverage.
func checkAgainstReference(t *testing.T, res *profile.Resolved) (covered, total int, ok bool) {
	t.Helper()
	prog, err := compiler.Compile(res, compiler.Options{})
	if err != nil {
		if strings.Contains(err.Error(), "different actions") || strings.Contains(err.Error(), "inexactly") {
			return 0, 0, false // refused: libseccomp's answer would depend on its tree order
		}
		t.Fatalf("compile: %v", err)
	}
	naive, err := compiler.Compile(res, compiler.Options{NoOptimize: true})
	if err != nil {
		t.Fatalf("compile unoptimized: %v", err)
	}
	p, err := bpf.NewProgram(prog.Instructions)
	if err != nil {
		t.Fatal(err)
	}
	cov := bpf.NewCoverage(p)
	inputs := inputsFor(res, syscalls.X86_64, syscalls.X86, syscalls.X32, syscalls.AARCH64)
	bad := 0
	for _, in := range inputs {
		got := cov.Run(in.data, in.arch.BigEndian)
		want := analysis.Evaluate(res, in.data.Arch, uint32(in.data.Nr), in.data.Args)
		unopt, _ := bpf.Run(naive.Instructions, in.data, in.arch.BigEndian)
		if got != want.Action.Value() || unopt != got {
			bad++
			if bad <= 10 {
				t.Errorf("%v: program %s, unoptimized %s, reference %v", in, profile.FormatRet(got), profile.FormatRet(unopt), want)
			}
		}
	}
	if bad > 0 {
		t.Logf("rules: %+v\n%s", res.Rules, bpf.Disassemble(prog.Instructions))
	}
	covered, total = cov.Branches()
	return covered, total, true
}

func TestMatchesReferenceOnGeneratedProfiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var covered, total, refused int
	for i := range 300 {
		res := genProfile(r)
		c, n, ok := checkAgainstReference(t, res)
		if !ok {
			refused++
			continue
		}
		covered += c
		total += n
		if t.Failed() {
			t.Fatalf("profile %d differs", i)
		}
	}
	t.Logf("300 profiles (%d refused as order-dependent); branch coverage %d/%d", refused, covered, total)
	if refused > 150 {
		t.Errorf("%d of 300 generated profiles refused: the conflict check is too coarse", refused)
	}
}

func FuzzCompile(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(7), uint64(99))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		checkAgainstReference(t, genProfile(rand.New(rand.NewPCG(a, b))))
	})
}

func TestRefusesOrderDependentRules(t *testing.T) {
	res := &profile.Resolved{
		DefaultAction: profile.Action{Kind: profile.Errno, Data: 1},
		Arches:        []*syscalls.Arch{syscalls.X86_64},
		Named:         []string{"personality"},
		Rules: []profile.Rule{
			{Entry: 3, Name: "personality", Action: profile.Action{Kind: profile.Allow}, Args: []profile.Arg{{Index: 0, Op: profile.OpEqualTo, Value: 1}}},
			{Entry: 5, Name: "personality", Action: profile.Action{Kind: profile.Trap}, Args: []profile.Arg{{Index: 1, Op: profile.OpEqualTo, Value: 1}}},
		},
	}
	_, err := compiler.Compile(res, compiler.Options{})
	if err == nil || !strings.Contains(err.Error(), "syscalls[3]") || !strings.Contains(err.Error(), "syscalls[5]") {
		t.Fatalf("want an error naming syscalls[3] and syscalls[5], got %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	res := &profile.Resolved{
		DefaultAction: profile.Action{Kind: profile.Errno, Data: 1},
		Arches:        []*syscalls.Arch{syscalls.X86_64},
		Named:         []string{"personality"},
	}
	for i := range 2000 {
		res.Rules = append(res.Rules, profile.Rule{Entry: i, Name: "personality", Action: profile.Action{Kind: profile.Allow},
			Args: []profile.Arg{{Index: 0, Op: profile.OpMaskedEqual, Value: uint64(i) | 1<<40, ValueTwo: uint64(i)}}})
	}
	_, err := compiler.Compile(res, compiler.Options{})
	if !errors.Is(err, compiler.ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
}

func TestRefusesInexactMerges(t *testing.T) {
	ge := func(i uint, v uint64) profile.Arg { return profile.Arg{Index: i, Op: profile.OpGreaterThan, Value: v} }
	lt := func(i uint, v uint64) profile.Arg { return profile.Arg{Index: i, Op: profile.OpLessThan, Value: v} }
	masked := func(i uint, m uint64) profile.Arg { return profile.Arg{Index: i, Op: profile.OpMaskedEqual, Value: m} }
	eq := func(i uint, v uint64) profile.Arg { return profile.Arg{Index: i, Op: profile.OpEqualTo, Value: v} }
	allow := profile.Action{Kind: profile.Allow}
	tests := []struct {
		name   string
		arches []*syscalls.Arch
		rules  [][]profile.Arg
		refuse string
	}{
		{"two range rules on one argument", []*syscalls.Arch{syscalls.X86_64},
			[][]profile.Arg{{lt(3, 1<<32)}, {ge(3, 1)}}, "argument 3 has 2 range"},
		{"range rule with several conditions", []*syscalls.Arch{syscalls.X86_64},
			[][]profile.Arg{{lt(0, 2), ge(1, 5)}, {eq(0, 1)}}, "NE/LT/LE/GT/GE"},
		{"masked multi-condition rules with x86 and x86_64", []*syscalls.Arch{syscalls.X86_64, syscalls.X86},
			[][]profile.Arg{{masked(0, 0xdf0036), masked(2, 0xffffffff00000000)}, {masked(0, 2)}}, "MASKED_EQ in a filter with both"},
		{"masked multi-condition rules, x86_64 alone", []*syscalls.Arch{syscalls.X86_64},
			[][]profile.Arg{{masked(0, 0xdf0036), masked(2, 0xffffffff00000000)}, {masked(0, 2)}}, ""},
		{"one range rule among equalities (Docker's socket shape)", []*syscalls.Arch{syscalls.X86_64, syscalls.X86},
			[][]profile.Arg{{lt(0, 3)}, {eq(0, 10)}, {eq(0, 16)}}, ""},
		{"range rules on different arguments", []*syscalls.Arch{syscalls.X86_64},
			[][]profile.Arg{{lt(0, 3)}, {ge(1, 10)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &profile.Resolved{DefaultAction: profile.Action{Kind: profile.Errno, Data: 1}, Arches: tt.arches, Named: []string{"read"}}
			for i, args := range tt.rules {
				res.Rules = append(res.Rules, profile.Rule{Entry: i, Name: "read", Action: allow, Args: args})
			}
			_, err := compiler.Compile(res, compiler.Options{})
			switch {
			case tt.refuse == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.refuse != "" && (err == nil || !strings.Contains(err.Error(), tt.refuse)):
				t.Fatalf("want a refusal mentioning %q, got %v", tt.refuse, err)
			}
		})
	}
}
