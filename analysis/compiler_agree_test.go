package analysis

import (
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
)

// TestCompilerAgrees runs every TestEvaluate row through the compiled
// filter too: the reference semantics and the compiler must give the same
// action (the compiler may refuse a profile, never differ silently).
func TestCompilerAgrees(t *testing.T) {
	for _, c := range allEvalCases() {
		t.Run(c.name, func(t *testing.T) {
			prog, err := compiler.Compile(c.res, compiler.Options{})
			if err != nil {
				t.Skipf("compiler refuses the profile: %v", err)
			}
			big := false
			for _, a := range c.res.Arches {
				if a.Audit == c.token {
					big = a.BigEndian
				}
			}
			d := bpf.Data{Arch: c.token, Nr: int32(c.nr), Args: c.args}
			got, err := bpf.Run(prog.Instructions, d, big)
			if err != nil {
				t.Fatal(err)
			}
			if want := Evaluate(c.res, c.token, c.nr, c.args); got != want.Action.Value() {
				t.Errorf("compiled filter returns %#x, Evaluate %v", got, want)
			}
		})
	}
}
