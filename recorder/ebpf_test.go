package recorder_test

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/cli"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/internal/unix"
	"github.com/sysfence/sysfence/recorder"
)

func init() {
	testutil.RegisterChild("many-prctl", func([]string) error {
		// 40 distinct invalid prctl options: more than MaxValues.
		for i := range 40 {
			unix.PrctlRet(1000+i, 0)
		}
		return nil
	})
	// sysfence-cli runs the CLI in a child, for commands that exec (run).
	// The command it starts is the workload: the child selector is set
	// for it before the CLI execs.
	testutil.RegisterChild("sysfence-cli", func(args []string) error {
		os.Setenv(childSelector, "workload")
		if code := cli.Run(args, os.Stdin, os.Stdout, os.Stderr); code != 0 {
			os.Exit(code)
		}
		return nil
	})
}

// recordEBPF runs RecordEBPF, skipping the test (failing it in CI) where
// eBPF recording cannot run.
func recordEBPF(t *testing.T, ctx context.Context, cmd *exec.Cmd, opts recorder.Options) (*recorder.Observation, recorder.Exit, error) {
	t.Helper()
	testutil.RequireRoot(t)
	o, exit, err := recorder.RecordEBPF(ctx, cmd, opts)
	if err != nil && strings.Contains(err.Error(), "BTF") {
		testutil.Unavailable(t, "eBPF recording: %v", err)
	}
	return o, exit, err
}

// TestBackendsAgree records the same deterministic process tree (a
// pipeline of single-threaded C programs) with both back ends: the sets of
// calls must be equal.
func TestBackendsAgree(t *testing.T) {
	script := "cat /etc/passwd /etc/group | sort | uniq -c | wc -l > /dev/null; ls -l / > /dev/null"
	e, _, err := recordEBPF(t, t.Context(), exec.Command("/bin/sh", "-c", script), recorder.Options{Args: true})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := recordPtrace(t, t.Context(), exec.Command("/bin/sh", "-c", script), recorder.Options{Args: true})
	if err != nil {
		t.Fatal(err)
	}
	en, pn := e.Names("x86_64"), p.Names("x86_64")
	if !slices.Equal(en, pn) {
		t.Errorf("the back ends saw different calls:\n  eBPF only:   %v\n  ptrace only: %v", minus(en, pn), minus(pn, en))
	}
	if len(en) < 20 {
		t.Errorf("only %d calls: %v", len(en), en)
	}
	for _, name := range []string{"execve", "pipe2", "wait4", "getdents64"} {
		if !slices.Contains(en, name) {
			t.Errorf("%s missing from %v", name, en)
		}
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func TestEBPFValueOverflow(t *testing.T) {
	o, _, err := recordEBPF(t, t.Context(), testutil.Child(t, "many-prctl"), recorder.Options{Args: true})
	if err != nil {
		t.Fatal(err)
	}
	c := call(o, "x86_64", "prctl")
	if c == nil {
		t.Fatal("no prctl recorded")
	}
	for _, as := range c.Args {
		if as.Capture != "prctl.option" {
			continue
		}
		if !as.Overflow || len(as.Values) > recorder.MaxValues {
			t.Errorf("prctl.option: overflow %v with %d values, want overflow with at most %d", as.Overflow, len(as.Values), recorder.MaxValues)
		}
		return
	}
	t.Errorf("prctl has no prctl.option values: %+v", c)
}

// TestEBPFWaitsForDescendants: the command exits at once, a background
// grandchild goes on for a while; the recording must include it.
func TestEBPFWaitsForDescendants(t *testing.T) {
	start := time.Now()
	o, exit, err := recordEBPF(t, t.Context(), exec.Command("/bin/sh", "-c", "(sleep 0.3; uname > /dev/null) & exit 7"), recorder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if exit.Code != 7 {
		t.Errorf("exit %v, want status 7", exit)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("returned after %v, before the background process ended", time.Since(start))
	}
	if call(o, "x86_64", "uname") == nil {
		t.Errorf("uname of the background grandchild is missing: %v", o.Names("x86_64"))
	}
}

func TestEBPFExitAndErrors(t *testing.T) {
	_, exit, err := recordEBPF(t, t.Context(), testutil.Child(t, "killself", "15"), recorder.Options{})
	if err != nil || exit.Signal != 15 {
		t.Errorf("killed child: exit %v, err %v; want signal 15", exit, err)
	}
	_, _, err = recordEBPF(t, t.Context(), exec.Command("/nonexistent/sysfence-test-cmd"), recorder.Options{})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/sysfence-test-cmd") {
		t.Errorf("missing command: err = %v, want it named", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = recordEBPF(t, ctx, exec.Command("sleep", "100"), recorder.Options{})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled recording: err %v after %v", err, time.Since(start))
	}
}

// TestGeneratedProfileRunsWorkload is the whole loop without Docker:
// `sysfence record --args` records the multi-threaded, forking workload and
// writes its profile, and `sysfence run` runs the workload under it.
func TestGeneratedProfileRunsWorkload(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireSeccomp(t)
	workload, _ := workloadCmd(t)
	prof := t.TempDir() + "/workload.json"
	rec := testutil.Child(t, "sysfence-cli", append([]string{"record", "--backend", "ebpf", "--args", "-o", prof, "--"}, workload.Args...)...)
	if out, err := rec.CombinedOutput(); err != nil || !strings.Contains(string(out), "with ebpf") {
		t.Fatalf("sysfence record: %v\n%s", err, out)
	}
	data, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"defaultAction": "SCMP_ACT_ERRNO"`, `"defaultErrnoRet": 1`, `"sysinfo"`, `"times"`, `"SCMP_CMP_MASKED_EQ"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the profile lacks %s:\n%s", want, data)
		}
	}
	run := testutil.Child(t, "sysfence-cli", append([]string{"run", "--profile", prof, "--"}, workload.Args...)...)
	out, err := run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), workloadGrandchildOutput) {
		t.Fatalf("the workload under its generated profile: %v\n%s\nprofile:\n%s", err, out, data)
	}
}
