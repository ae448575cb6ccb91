package compiler_test

import (
	"fmt"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// TestOptimizerKeepsVerdictsWithFullCoverage compiles every corpus profile
// with and without the optimizer and runs both on inputs that take every
// branch of both programs: agreement on such inputs means every path of
// each program was compared.
func TestOptimizerKeepsVerdictsWithFullCoverage(t *testing.T) {
	cases := append([]corpusCase{{name: "docker-default"}}, corpus()...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := resolveCase(t, c, corpusJSON(c), false)
			opt, err := compiler.Compile(res, compiler.Options{})
			if err != nil {
				t.Fatal(err)
			}
			naive, err := compiler.Compile(res, compiler.Options{NoOptimize: true})
			if err != nil {
				t.Fatal(err)
			}
			po, pn := mustProgram(t, opt.Instructions), mustProgram(t, naive.Instructions)
			co, cn := bpf.NewCoverage(po), bpf.NewCoverage(pn)
			inputs := append(inputsFor(res, syscalls.X86_64, syscalls.X86, syscalls.X32), otherArchInputs()...)
			for _, in := range inputs {
				if a, b := co.Run(in.data, in.arch.BigEndian), cn.Run(in.data, in.arch.BigEndian); a != b {
					t.Fatalf("%v: optimized %s, unoptimized %s", in, profile.FormatRet(a), profile.FormatRet(b))
				}
			}
			if missing := co.Missing(); len(missing) > 0 {
				t.Errorf("optimized program: %d branches never taken, e.g. %v", len(missing), missing[:min(5, len(missing))])
			}
			// The naive program has code after unconditional jumps by
			// construction (dead-code removal is an optimizer pass); every
			// reachable instruction and branch must still be covered.
			if missing := uncoveredReachable(naive.Instructions, cn); len(missing) > 0 {
				t.Errorf("unoptimized program: %d reachable branches never taken, e.g. %v", len(missing), missing[:min(5, len(missing))])
			}
		})
	}
}

// otherArchInputs reaches the bad-arch branch of every program.
func otherArchInputs() []input {
	a := syscalls.AARCH64
	return []input{{arch: a, data: bpf.Data{Nr: 0, Arch: a.Audit}}}
}

func mustProgram(t *testing.T, insns []bpf.Instruction) *bpf.Program {
	t.Helper()
	p, err := bpf.NewProgram(insns)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// uncoveredReachable lists instructions reachable in prog's control-flow
// graph that never ran, and conditional jumps with a side never taken.
func uncoveredReachable(prog []bpf.Instruction, cov *bpf.Coverage) []string {
	reach := make([]bool, len(prog))
	var visit func(pc int)
	visit = func(pc int) {
		for pc < len(prog) && !reach[pc] {
			reach[pc] = true
			in := prog[pc]
			switch {
			case in.IsRet():
				return
			case in.IsJa():
				pc += 1 + int(in.K)
			case in.IsConditionalJump():
				visit(pc + 1 + int(in.Jt))
				pc += 1 + int(in.Jf)
			default:
				pc++
			}
		}
	}
	visit(0)
	var out []string
	for pc, in := range prog {
		if !reach[pc] {
			continue
		}
		if cov.Visits(pc) == 0 {
			out = append(out, fmt.Sprintf("instruction %d never run", pc))
			continue
		}
		if in.IsConditionalJump() && in.Jt != in.Jf {
			if taken, notTaken := cov.Branch(pc); taken == 0 || notTaken == 0 {
				out = append(out, fmt.Sprintf("instruction %d: a branch never taken", pc))
			}
		}
	}
	return out
}
