package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bench"
	"github.com/sysfence/sysfence/internal/cli"
	"github.com/sysfence/sysfence/internal/testutil"
)

// buildSysfence builds the sysfence binary: bench re-executes its own
// executable, which in-process tests cannot provide.
func buildSysfence(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "sysfence")
	out, err := exec.Command("go", "build", "-o", exe, "github.com/sysfence/sysfence/cmd/sysfence").CombinedOutput()
	if err != nil {
		t.Fatalf("build sysfence: %v\n%s", err, out)
	}
	return exe
}

// runExe runs the built binary and returns its output and exit code.
func runExe(t *testing.T, exe string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	c := exec.CommandContext(t.Context(), exe, args...)
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestBench(t *testing.T) {
	testutil.RequireSeccomp(t)
	exe := buildSysfence(t)
	raw := tmp(t, "default.bpf")
	if r := runExe(t, exe, "compile", "default", "-o", raw); r.code != 0 {
		t.Fatalf("compile: exit %d: %s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		name    string
		extra   []string
		configs int
	}{
		{"default", nil, 2},
		{"vs-bpf", []string{"--vs-bpf", raw}, 3},
		{"vs", []string{"--vs", "default", "--syscall", "getppid", "--syscall", "personality:0xffffffff"}, 3},
		{"both", []string{"--vs", "default", "--vs-bpf", raw, "--syscall", "getppid"}, 4},
		{"floor", []string{"--floor", "--vs-bpf", raw, "--syscall", "personality:0xffffffff"}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"bench", "default", "--runs", "3", "--iterations", "20000", "--format", "json"}, tc.extra...)
			r := runExe(t, exe, args...)
			if r.code != 0 {
				t.Fatalf("sysfence %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
			}
			var res bench.Result
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatalf("decode output: %v\n%s", err, r.stdout)
			}
			checkBench(t, &res, tc.configs)
		})
	}
	r := runExe(t, exe, "bench", "default", "--runs", "1", "--iterations", "1000")
	for _, want := range []string{"none", "default", "getppid()", "personality(0xffffffff)", "overhead"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("text output (exit %d) lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
		}
	}
}

// checkBench checks the shape of a result: a baseline, and a positive
// median for every configuration and probe. It never compares timings.
func checkBench(t *testing.T, res *bench.Result, configs int) {
	t.Helper()
	if len(res.Configs) != configs || res.Baseline < 0 || res.Baseline >= len(res.Configs) {
		t.Fatalf("%d configurations, baseline %d; want %d configurations", len(res.Configs), res.Baseline, configs)
	}
	if base := res.Configs[res.Baseline]; base.Instructions != 0 || base.Name != "none" {
		t.Errorf("baseline %+v, want the no-filter configuration", base)
	}
	for _, c := range res.Configs {
		if len(c.Probes) != len(res.Probes) {
			t.Fatalf("%s: %d probes, want %d", c.Name, len(c.Probes), len(res.Probes))
		}
		for _, p := range c.Probes {
			if p.MedianNs <= 0 || len(p.Samples) != res.Runs || p.Skipped != "" {
				t.Errorf("%s %s: median %v, %d samples, skipped %q", c.Name, p.Probe, p.MedianNs, len(p.Samples), p.Skipped)
			}
		}
	}
	filters := 0
	for _, c := range res.Configs {
		if c.Floor == "" && c.Instructions > 0 {
			filters++
		}
	}
	if want := (filters - 1) * len(res.Probes); len(res.Ratios) != want {
		t.Errorf("%d ratios, want %d: PROFILE over each other filter, per probe", len(res.Ratios), want)
	}
}

func TestBenchErrors(t *testing.T) {
	bad := tmp(t, "bad.bpf")
	if err := os.WriteFile(bad, []byte("not a filter"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		parts []string
	}{
		{"unknown syscall", []string{"--syscall", "nosuch"}, cli.ExitUsage, []string{"--syscall", `"nosuch"`}},
		{"bad argument", []string{"--syscall", "getppid:zz"}, cli.ExitUsage, []string{"argument 0"}},
		{"missing file", []string{"--vs-bpf", tmp(t, "missing.bpf")}, cli.ExitFailure, []string{"missing.bpf"}},
		{"bad file", []string{"--vs-bpf", bad}, cli.ExitFailure, []string{"bad.bpf"}},
		{"runs", []string{"--runs", "0"}, cli.ExitUsage, []string{"--runs"}},
		{"format", []string{"--format", "yaml"}, cli.ExitUsage, []string{"--format"}},
		{"foreign arch", []string{"--arch", "aarch64"}, cli.ExitUsage, []string{"--arch"}},
		{"bad profile", []string{"--vs", bad}, cli.ExitFailure, []string{"bad.bpf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFail(t, run(t, "", append([]string{"bench", "default"}, tc.args...)...), tc.code, tc.parts...)
		})
	}
}
