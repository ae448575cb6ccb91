package bpf

import (
	"fmt"
	"strings"
)

// Trace is the path of one evaluation: every instruction index executed, in
// order, and the verdict.
type Trace struct {
	PCs    []int
	Result uint32
}

type traceRecorder struct{ pcs []int }

func (t *traceRecorder) visit(pc int)         { t.pcs = append(t.pcs, pc) }
func (t *traceRecorder) branch(int, bool)     {}
func (c *Coverage) visit(pc int)              { c.visits[pc]++ }
func (c *Coverage) branch(pc int, taken bool) { c.taken[pc][b2i(taken)]++ }

// Trace evaluates the program on d and records its path.
func (p *Program) Trace(d Data, bigEndian bool) Trace {
	var r traceRecorder
	v, _ := p.exec(&d, bigEndian, &r)
	return Trace{PCs: r.pcs, Result: v}
}

// String lists the path as "0 1 3 7 -> ALLOW".
func (t Trace) String() string {
	var b strings.Builder
	for _, pc := range t.PCs {
		fmt.Fprintf(&b, "%d ", pc)
	}
	b.WriteString("-> ")
	b.WriteString(ActionString(t.Result))
	return b.String()
}

// Coverage counts, across many evaluations of one program, how often each
// instruction ran and how often each conditional jump went each way.
type Coverage struct {
	prog   *Program
	visits []uint64
	taken  [][2]uint64 // per instruction: [false, true] counts
	runs   uint64
}

// NewCoverage starts an empty coverage record for p.
func NewCoverage(p *Program) *Coverage {
	return &Coverage{prog: p, visits: make([]uint64, p.Len()), taken: make([][2]uint64, p.Len())}
}

// Run evaluates the program on d, recording coverage, and returns the
// verdict.
func (c *Coverage) Run(d Data, bigEndian bool) uint32 {
	c.runs++
	v, _ := c.prog.exec(&d, bigEndian, c)
	return v
}

// Runs is the number of evaluations recorded.
func (c *Coverage) Runs() uint64 { return c.runs }

// Visits is how many times instruction pc ran.
func (c *Coverage) Visits(pc int) uint64 {
	if pc < 0 || pc >= len(c.visits) {
		return 0
	}
	return c.visits[pc]
}

// Branch reports how many times the conditional jump at pc went to its
// true and to its false target.
func (c *Coverage) Branch(pc int) (taken, notTaken uint64) {
	if pc < 0 || pc >= len(c.taken) {
		return 0, 0
	}
	return c.taken[pc][1], c.taken[pc][0]
}

// Merge adds the counts of o, which must record the same program.
func (c *Coverage) Merge(o *Coverage) error {
	if len(o.visits) != len(c.visits) {
		return fmt.Errorf("merge coverage: programs of %d and %d instructions", len(c.visits), len(o.visits))
	}
	c.runs += o.runs
	for i := range c.visits {
		c.visits[i] += o.visits[i]
		c.taken[i][0] += o.taken[i][0]
		c.taken[i][1] += o.taken[i][1]
	}
	return nil
}

// Branches returns how many conditional-jump directions were taken at least
// once, out of how many exist (two per conditional jump).
func (c *Coverage) Branches() (covered, total int) {
	for pc, ins := range c.prog.insns {
		if !ins.IsConditionalJump() {
			continue
		}
		total += 2
		covered += int(min(c.taken[pc][0], 1) + min(c.taken[pc][1], 1))
	}
	return covered, total
}

// Missing lists every conditional-jump direction never taken and every
// instruction never run, e.g. "instruction 5 (jeq #0x3b, 6, 9): true
// branch never taken".
func (c *Coverage) Missing() []string {
	var out []string
	for pc, ins := range c.prog.insns {
		what := fmt.Sprintf("instruction %d (%s)", pc, mnemonic(pc, ins))
		if c.visits[pc] == 0 {
			out = append(out, what+": never run")
			continue
		}
		if !ins.IsConditionalJump() {
			continue
		}
		if c.taken[pc][1] == 0 {
			out = append(out, what+": true branch never taken")
		}
		if c.taken[pc][0] == 0 {
			out = append(out, what+": false branch never taken")
		}
	}
	return out
}

// Complete reports whether every instruction ran and every conditional
// jump went both ways.
func (c *Coverage) Complete() bool { return len(c.Missing()) == 0 }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
