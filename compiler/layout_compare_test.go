//go:build libseccomp

package compiler_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/internal/libseccomptest"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// layout is one filter for Docker's default profile.
type layout struct {
	name  string
	insns []bpf.Instruction
}

// TestLayoutComparison builds three filters for Docker's default profile
// (x86_64, default capabilities, kernel 6.18): (a) what Docker 20.10 with
// runc 1.1.5 loads, libseccomp's linear layout behind runc's ENOSYS stub;
// (b) what runc ≥ 1.2 loads, libseccomp's binary tree behind the same
// stub; (c) ours. It checks that they agree, then logs their size and the
// instructions they execute per syscall. With SYSFENCE_LAYOUT_TABLE set,
// the table is also written to that file.
//
// libseccomp 2.5.4 predates some syscalls the default profile allows; runc
// ignores rules on them. A second build of ours, restricted to the names
// libseccomp knows, must agree with (a) everywhere; our plain build may
// differ only on numbers of those syscalls or between the two ENOSYS-stub
// bounds.
func TestLayoutComparison(t *testing.T) {
	res, err := profile.Resolve(profile.MustDefault(), profile.Target{
		Arch: syscalls.X86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 18}, Caps: profile.DefaultCaps(),
	})
	if err != nil {
		t.Fatal(err)
	}
	linear := mustLibseccomp(t, res, libseccomptest.Linear)
	tree := mustLibseccomp(t, res, libseccomptest.BinaryTree)
	ours := mustCompile(t, res, compiler.Options{})
	restricted := mustCompile(t, res, compiler.Options{KnownName: libseccomptest.Known})

	inputs := layoutInputs(res)
	expectSame(t, "binary tree", linear, tree, inputs)
	expectSame(t, "ours restricted to libseccomp's names", linear, restricted.Instructions, inputs)
	diffs, err := compare(linear, ours.Instructions, inputs)
	if err != nil {
		t.Fatal(err)
	}
	var unexplained []difference
	for _, d := range diffs {
		if !newerThanLibseccomp(res, d.in) {
			unexplained = append(unexplained, d)
		}
	}
	reportDiffs(t, "ours, unexplained", unexplained, linear, ours.Instructions)
	t.Logf("%d inputs; ours differs from libseccomp on %d, all on syscalls libseccomp 2.5.4 does not know", len(inputs), len(diffs))

	layouts := []layout{
		{"(a) Docker 20.10, runc 1.1.5: libseccomp 2.5.4 linear + ENOSYS stub", linear},
		{"(b) runc ≥ 1.2: libseccomp 2.5.4 binary tree + ENOSYS stub", tree},
		{"(c) sysfence", ours.Instructions},
		{"(c′) sysfence, libseccomp 2.5.4's syscall names", restricted.Instructions},
	}
	table := layoutTable(t, layouts)
	checkAgainstStats(t, ours, layouts[2])
	t.Logf("Docker's default profile, x86_64 target, default capabilities:\n%s", table)
	if path := os.Getenv("SYSFENCE_LAYOUT_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustLibseccomp(t *testing.T, res *profile.Resolved, level int) []bpf.Instruction {
	t.Helper()
	prog, err := libseccomptest.BuildRunc(res, level)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func mustCompile(t *testing.T, res *profile.Resolved, opts compiler.Options) *compiler.Program {
	t.Helper()
	prog, err := compiler.Compile(res, opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return prog
}

// layoutInputs is the usual comparison inputs on x86_64, x86 and x32, plus
// every number with each probe's arguments.
func layoutInputs(res *profile.Resolved) []input {
	arches := []*syscalls.Arch{syscalls.X86_64, syscalls.X86, syscalls.X32}
	inputs := inputsFor(res, arches...)
	for _, a := range arches {
		for _, nr := range numbersFor(a) {
			for _, p := range compiler.ProbeCalls {
				inputs = append(inputs, input{arch: a, data: bpf.Data{Nr: int32(nr), Arch: a.Audit, Args: p.Args}})
			}
		}
	}
	return inputs
}

func expectSame(t *testing.T, what string, want, got []bpf.Instruction, inputs []input) {
	t.Helper()
	diffs, err := compare(want, got, inputs)
	if err != nil {
		t.Fatal(err)
	}
	reportDiffs(t, what, diffs, want, got)
}

// newerThanLibseccomp reports whether a difference between libseccomp's
// filter and ours comes from libseccomp's older table.
func newerThanLibseccomp(res *profile.Resolved, in input) bool {
	return olderTableExplains(res, in, libseccomptest.Known)
}

// pathStats is what the table reports for one ABI: the mean and maximum
// number of instructions run over every number from the ABI's first to its
// last syscall, all arguments zero (compiler.Stats' definition).
type pathStats struct {
	mean float64
	max  int
}

func measure(vm *bpf.Program, a *syscalls.Arch) pathStats {
	var s pathStats
	total, n := 0, 0
	for nr := a.Min(); nr <= a.Max(); nr++ {
		l := vm.PathLength(bpf.Data{Nr: int32(nr), Arch: a.Audit}, a.BigEndian)
		total += l
		n++
		s.max = max(s.max, l)
	}
	s.mean = float64(total) / float64(n)
	return s
}

// cacheable counts the x86_64 numbers the kernel's action cache treats as
// constant ALLOW under prog.
func cacheable(prog []bpf.Instruction) int {
	a := syscalls.X86_64
	n := 0
	for nr := a.Min(); nr <= a.Max(); nr++ {
		if bpf.ConstantAllow(prog, a.Audit, nr) {
			n++
		}
	}
	return n
}

func layoutTable(t *testing.T, layouts []layout) string {
	t.Helper()
	arches := []*syscalls.Arch{syscalls.X86_64, syscalls.X86, syscalls.X32}
	var b strings.Builder
	b.WriteString("| layout | instructions |")
	for _, a := range arches {
		fmt.Fprintf(&b, " %s mean | %s max |", a.Name, a.Name)
	}
	for _, p := range compiler.ProbeCalls {
		fmt.Fprintf(&b, " %s |", probeLabel(p.Name, p.Args))
	}
	b.WriteString(" x86_64 cacheable |\n|---|--:|")
	b.WriteString(strings.Repeat("--:|", 2*len(arches)+len(compiler.ProbeCalls)+1) + "\n")
	for _, l := range layouts {
		vm, err := bpf.NewProgram(l.insns)
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		fmt.Fprintf(&b, "| %s | %d |", l.name, len(l.insns))
		for _, a := range arches {
			s := measure(vm, a)
			fmt.Fprintf(&b, " %.1f | %d |", s.mean, s.max)
		}
		for _, p := range compiler.ProbeCalls {
			nr, _ := syscalls.X86_64.Number(p.Name)
			d := bpf.Data{Nr: int32(nr), Arch: syscalls.X86_64.Audit, Args: p.Args}
			fmt.Fprintf(&b, " %d (%s) |", vm.PathLength(d, false), profile.FormatRet(vm.Run(d, false)))
		}
		fmt.Fprintf(&b, " %d |\n", cacheable(l.insns))
	}
	return b.String()
}

func probeLabel(name string, args [6]uint64) string {
	switch name {
	case "socket":
		return "socket(AF_INET)"
	}
	return fmt.Sprintf("%s(%#x)", name, args[0])
}

// checkAgainstStats makes sure the table measures our program the way
// compiler.Stats (and so `sysfence compile --stats`) does.
func checkAgainstStats(t *testing.T, prog *compiler.Program, l layout) {
	t.Helper()
	vm, err := bpf.NewProgram(l.insns)
	if err != nil {
		t.Fatal(err)
	}
	for _, as := range prog.Stats().Arches {
		a := syscalls.MustLookup(as.Arch)
		if s := measure(vm, a); s.mean != as.MeanPath || s.max != as.MaxPath {
			t.Errorf("%s: table says mean %.3f max %d, Stats says mean %.3f max %d", a, s.mean, s.max, as.MeanPath, as.MaxPath)
		}
	}
}
