package cli_test

import (
	"os"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/internal/cli"
)

// evalCase is one line of eval input and the line it must print.
type evalCase struct{ in, want string }

func evalInput(cases []evalCase) (in, want string) {
	var i, w strings.Builder
	for _, c := range cases {
		i.WriteString(c.in + "\n")
		w.WriteString(c.want + "\n")
	}
	return i.String(), w.String()
}

// TestEvalVerdicts checks that every kind of verdict eval prints comes out
// of a crafted profile, and that blank lines and comments are echoed.
func TestEvalVerdicts(t *testing.T) {
	cases := []evalCase{
		{"# every verdict of testdata/verdicts.json", "# every verdict of testdata/verdicts.json"},
		{"x86_64 read", "ALLOW"},
		{"x86_64 close", "ERRNO(5)"},
		{"x86_64 getpid", "KILL_THREAD"},
		{"x86_64 gettid", "KILL_PROCESS"},
		{"x86_64 kill", "TRAP(0)"},
		{"x86_64 ptrace", "TRACE(7)"},
		{"x86_64 mkdir", "LOG"},
		{"x86_64 unlink", "NOTIFY"},
		{"", ""},
		{"   # indented comment", "   # indented comment"},
		{"x86_64 open", "ERRNO(1)"},
		{"aarch64 read", "KILL_THREAD"},
		{"x86_64 400", "ERRNO(38)"},
		{"SCMP_ARCH_X86 read", "ALLOW"},
		{"x86 3", "ALLOW"},
		{"x86_64 personality 8", "ALLOW"},
		{"x86_64 personality 0x100000008", "ERRNO(1)"},
		{"x86 personality 0x100000008", "ALLOW"},
		{"x86_64 personality 9 0 0 0 0 0", "ERRNO(1)"},
		{"x86_64 personality -1", "ERRNO(1)"},
	}
	in, want := evalInput(cases)
	r := mustRun(t, in, withTarget("eval", "testdata/verdicts.json")...)
	if r.stdout != want {
		t.Errorf("eval output:\n%s\nwant:\n%s", r.stdout, want)
	}
}

// TestEvalX32Bit checks that x32 numbers below 0x40000000 get the x32 bit:
// on a filter without x32, they then meet libseccomp's x32 guard.
func TestEvalX32Bit(t *testing.T) {
	cases := []evalCase{
		{"x32 0", "KILL_THREAD"},
		{"x32 read", "KILL_THREAD"},
		{"x32 1073741824", "KILL_THREAD"},
		{"x86_64 0", "ALLOW"},
		{"x86_64 1073741824", "KILL_THREAD"},
		{"x86_64 -1", "ERRNO(1)"},
		{"x32 -1", "ERRNO(1)"},
	}
	in, want := evalInput(cases)
	r := mustRun(t, in, withTarget("eval", "testdata/x86_64only.json")...)
	if r.stdout != want {
		t.Errorf("eval output:\n%s\nwant:\n%s", r.stdout, want)
	}
	// With x32 in the filter, x32 read is allowed by its own rule.
	if r := mustRun(t, "x32 0\n", withTarget("eval", "testdata/verdicts.json")...); r.stdout != "ALLOW\n" {
		t.Errorf("x32 0 on a filter with x32 = %q, want ALLOW", r.stdout)
	}
}

// TestEvalBadLines checks that a bad line prints an error with its line
// number, the other lines are still evaluated, and the exit status is 1.
func TestEvalBadLines(t *testing.T) {
	lines := []struct {
		in   string
		want string // prefix of the output line
	}{
		{"x86_64 read", "ALLOW"},
		{"vax read", "ERROR: line 2: "},
		{"x86_64 no_such_call", "ERROR: line 3: "},
		{"x86_64 read 0xZZ", "ERROR: line 4: "},
		{"x86_64", "ERROR: line 5: "},
		{"x86_64 read 1 2 3 4 5 6 7", "ERROR: line 6: "},
		{"x86 accept", "ERROR: line 7: "},
		{"x86_64 read 18446744073709551616", "ERROR: line 8: "},
		{"x86_64 4294967296", "ERROR: line 9: "},
		{"# still going", "# still going"},
		{"x86_64 write", "ALLOW"},
	}
	var in strings.Builder
	for _, l := range lines {
		in.WriteString(l.in + "\n")
	}
	r := run(t, in.String(), withTarget("eval", "testdata/verdicts.json")...)
	wantFail(t, r, cli.ExitFailure, "8 bad input line(s)")
	got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("%d output lines for %d input lines:\n%s", len(got), len(lines), r.stdout)
	}
	for i, l := range lines {
		if !strings.HasPrefix(got[i], l.want) {
			t.Errorf("line %d (%q) printed %q, want prefix %q", i+1, l.in, got[i], l.want)
		}
	}
	for i, want := range map[int]string{6: "does not exist on x86", 1: "unknown architecture", 3: "argument 0"} {
		if !strings.Contains(got[i], want) {
			t.Errorf("line %d printed %q, want it to mention %q", i+1, got[i], want)
		}
	}
}

// TestEvalBPF checks eval --bpf on a compiled file gives what eval on the
// profile gives.
func TestEvalBPF(t *testing.T) {
	path := tmp(t, "v.bpf")
	mustRun(t, "", withTarget("compile", "testdata/verdicts.json", "-o", path)...)
	in := "x86_64 read\nx86_64 gettid\nx86 personality 0x100000008\naarch64 read\nx86_64 999\n"
	want := mustRun(t, in, withTarget("eval", "testdata/verdicts.json")...).stdout
	if got := mustRun(t, in, "eval", "--bpf", path).stdout; got != want {
		t.Errorf("eval --bpf:\n%s\nwant (eval PROFILE):\n%s", got, want)
	}
}

func TestEvalErrors(t *testing.T) {
	good := tmp(t, "good.bpf")
	mustRun(t, "", withTarget("compile", "default", "-o", good)...)
	truncated := tmp(t, "trunc.bpf")
	if err := os.WriteFile(truncated, readFile(t, good)[:20], 0o644); err != nil {
		t.Fatal(err)
	}
	empty := tmp(t, "empty.bpf")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	invalid := tmp(t, "invalid.bpf")
	// ld [4] with no return: the kernel refuses it.
	if err := os.WriteFile(invalid, []byte{0x20, 0, 0, 0, 4, 0, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"truncated", []string{"eval", "--bpf", truncated}, cli.ExitFailure, []string{truncated, "20 bytes is not a multiple of 8"}},
		{"empty", []string{"eval", "--bpf", empty}, cli.ExitFailure, []string{"empty"}},
		{"invalid", []string{"eval", "--bpf", invalid}, cli.ExitFailure, []string{"invalid filter"}},
		{"missing", []string{"eval", "--bpf", tmp(t, "none.bpf")}, cli.ExitFailure, []string{"read filter"}},
		{"both", []string{"eval", "default", "--bpf", good}, cli.ExitUsage, []string{"not both"}},
		{"neither", []string{"eval"}, cli.ExitUsage, []string{"missing PROFILE"}},
		{"invalid profile", withTarget("eval", "testdata/invalid.json"), cli.ExitFailure, []string{"syscalls[1].action"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "x86_64 read\n", tt.args...)
			wantFail(t, r, tt.code, tt.want...)
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}
