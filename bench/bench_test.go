package bench_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bench"
	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/syscalls"
)

func TestMain(m *testing.M) {
	testutil.RegisterChild("bench", func([]string) error { return bench.ServeChild(os.Stdin, os.Stdout) })
	testutil.Main(m)
}

var amd64 = syscalls.MustLookup("x86_64")

func TestParseProbe(t *testing.T) {
	for _, tc := range []struct {
		spec, want, err string
	}{
		{"getppid", "getppid()", ""},
		{"personality:0xffffffff", "personality(0xffffffff)", ""},
		{" swapon : 0 , 4294967295 ", "swapon(0x0, 0xffffffff)", ""},
		{"ioctl:1,2,3,4,5,6", "ioctl(0x1, 0x2, 0x3, 0x4, 0x5, 0x6)", ""},
		{"ioctl:1,2,3,4,5,6,7", "", "at most 6"},
		{"nosuch", "", `unknown system call "nosuch" on x86_64`},
		{"getppid:-1", "", "argument 0"},
		{"getppid:1,x", "", "argument 1"},
		{"getppid:", "", "argument 0"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			p, err := bench.ParseProbe(tc.spec, amd64)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseProbe(%q) = %v, %v; want error with %q", tc.spec, p, err, tc.err)
				}
				return
			}
			if err != nil || p.String() != tc.want {
				t.Fatalf("ParseProbe(%q) = %q, %v; want %q", tc.spec, p, err, tc.want)
			}
		})
	}
}

func TestDefaultProbes(t *testing.T) {
	ps, err := bench.ParseProbes(nil, amd64)
	if err != nil || len(ps) != len(bench.DefaultSpecs) {
		t.Fatalf("ParseProbes(nil) = %v, %v", ps, err)
	}
	if nr, _ := amd64.Number("getppid"); ps[0].Nr != nr {
		t.Errorf("first default probe %v, want getppid (%d)", ps[0], nr)
	}
}

// filter returns a small filter: ERRNO(EPERM) for swapon, KILL_PROCESS for
// reboot, ALLOW for the rest.
func filter(t *testing.T) []bpf.Instruction {
	t.Helper()
	swapon, _ := amd64.Number("swapon")
	reboot, _ := amd64.Number("reboot")
	return []bpf.Instruction{
		bpf.LoadAbs(0),
		bpf.Jump(bpf.JmpJEQ, swapon, 2, 0),
		bpf.Jump(bpf.JmpJEQ, reboot, 2, 0),
		bpf.Ret(bpf.RetAllow),
		bpf.Ret(bpf.RetErrno | 1),
		bpf.Ret(bpf.RetKillProcess),
	}
}

func TestRun(t *testing.T) {
	testutil.RequireSeccomp(t)
	probes, err := bench.ParseProbes([]string{"getppid", "swapon:0,0xffffffff", "reboot:0,0,0"}, amd64)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := testutil.Child(t, "bench")
	configs := []bench.Config{{Name: "none"}, {Name: "small", Filter: filter(t)}}
	var progress bytes.Buffer
	res, err := bench.Run(configs, probes, bench.Options{
		Runs: 2, Iterations: 1000, Arch: amd64, Progress: &progress,
		Command: append([]string{exe}, cmd.Args[1:]...), Env: cmd.Env,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Baseline != 0 || len(res.Configs) != 2 || strings.Count(progress.String(), "done") != 2 {
		t.Fatalf("result %+v, progress %q", res, progress.String())
	}
	for _, c := range res.Configs {
		for pi, pr := range c.Probes {
			if pi == 2 && c.Name == "small" {
				if pr.Skipped == "" || pr.Verdict != "KILL_PROCESS" || len(pr.Samples) != 0 {
					t.Errorf("reboot under small: %+v, want skipped as KILL_PROCESS", pr)
				}
				continue
			}
			if pr.MedianNs <= 0 || len(pr.Samples) != 2 {
				t.Errorf("%s %s: median %v, samples %v", c.Name, pr.Probe, pr.MedianNs, pr.Samples)
			}
		}
	}
	if got := res.Configs[1].Probes[1].Verdict; got != "ERRNO(1)" {
		t.Errorf("swapon verdict %q, want ERRNO(1)", got)
	}
	var out bytes.Buffer
	if err := bench.WriteText(&out, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"getppid()", "swapon(0x0, 0xffffffff)", "skipped", "KILL_PROCESS", "ERRNO(1)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunErrors(t *testing.T) {
	probes, _ := bench.ParseProbes(nil, amd64)
	opts := bench.Options{Command: []string{"/bin/false"}, Arch: amd64, Runs: 1, Iterations: 1}
	for _, tc := range []struct {
		name    string
		configs []bench.Config
		probes  []bench.Probe
		opts    bench.Options
		want    string
	}{
		{"no baseline", []bench.Config{{Name: "f", Filter: filter(t)}}, probes, opts, "no baseline"},
		{"no probes", []bench.Config{{Name: "none"}}, nil, opts, "no probes"},
		{"no command", []bench.Config{{Name: "none"}}, probes, bench.Options{Arch: amd64}, "required"},
		{"invalid filter", []bench.Config{{Name: "none"}, {Name: "bad", Filter: []bpf.Instruction{{Op: 0xffff}}}}, probes, opts, "filter bad"},
		{"child fails", []bench.Config{{Name: "none"}}, probes, opts, "child for none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bench.Run(tc.configs, tc.probes, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run: %v, want error with %q", err, tc.want)
			}
		})
	}
}

func TestFloors(t *testing.T) {
	getppid, _ := amd64.Number("getppid")
	for i, want := range []bool{true, false} {
		f := bench.Floors()[i]
		if got := bpf.ConstantAllow(f.Filter, amd64.Audit, getppid); got != want {
			t.Errorf("%s: cached %v, want %v", f.Name, got, want)
		}
		if v, err := bpf.Run(f.Filter, bpf.Data{Nr: int32(getppid), Arch: amd64.Audit}, false); err != nil || v != bpf.RetAllow {
			t.Errorf("%s: verdict %#x, %v; want ALLOW", f.Name, v, err)
		}
	}
}
