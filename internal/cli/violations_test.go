package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysfence/sysfence/audit"
	"github.com/sysfence/sysfence/internal/dockertest"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/profile"
)

func init() {
	// violations-workload makes a directory and removes it: mkdirat and
	// unlinkat, which violationsProfile lacks.
	testutil.RegisterChild("violations-workload", func(args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("want DIR, got %q", args)
		}
		if err := os.Mkdir(args[0], 0o700); err != nil {
			return err
		}
		return os.Remove(args[0])
	})
}

// seccompLine is an audit.log record of comm "app" (pid, arch token,
// number) at t.
func seccompLine(t time.Time, pid int, arch string, nr int, code string) string {
	return fmt.Sprintf(`type=SECCOMP msg=audit(%d.%03d:%d): auid=0 uid=0 gid=0 ses=1 subj=unconfined pid=%d comm="app" exe="/usr/bin/app" sig=0 arch=%s syscall=%d compat=%d ip=0x7f00 code=%s`,
		t.Unix(), t.Nanosecond()/1e6, pid, pid, arch, nr, map[bool]int{true: 1}[arch == "40000003"], code)
}

// writeAuditLog writes a log: three recent LOG records of pid 100
// (x86_64 mkdir twice, i386 rmdir), an x32 mkdir of pid 200, and one
// record two hours old.
func writeAuditLog(t *testing.T) string {
	t.Helper()
	now := time.Now()
	lines := []string{
		seccompLine(now.Add(-2*time.Hour), 100, "c000003e", 165, "0x7ffc0000"), // mount, old
		seccompLine(now.Add(-3*time.Second), 100, "c000003e", 83, "0x7ffc0000"),
		`type=SYSCALL msg=audit(1764240000.100:1): arch=c000003e syscall=83 success=yes`,
		seccompLine(now.Add(-2*time.Second), 100, "c000003e", 83, "0x7ffc0000"),
		seccompLine(now.Add(-2*time.Second), 100, "40000003", 40, "0x7ffc0000"),
		seccompLine(now.Add(-time.Second), 200, "c000003e", 0x40000000|83, "0x50001"),
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// violationsJSON runs violations with args and --format json.
func violationsJSON(t *testing.T, args ...string) violationsReport {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Run(append([]string{"violations", "--format", "json"}, args...), nil, &out, &errb); code != ExitOK {
		t.Fatalf("violations %q: exit %d: %s", args, code, errb.String())
	}
	var rep violationsReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out.String())
	}
	return rep
}

// groupNames lists "arch syscall action count" for each group.
func groupNames(rep violationsReport) []string {
	var out []string
	for _, g := range rep.Groups {
		out = append(out, fmt.Sprintf("%s %s %s %d", g.Arch, g.Syscall, g.Action, g.Count))
	}
	return out
}

func TestViolationsAuditLog(t *testing.T) {
	log := writeAuditLog(t)
	src := []string{"--source", "audit", "--audit-log", log}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"all", nil, []string{"x86_64 mount LOG 1", "x86_64 mkdir LOG 2", "x86 rmdir LOG 1", "x32 mkdir ERRNO(1) 1"}},
		{"since", []string{"--since", "1m"}, []string{"x86_64 mkdir LOG 2", "x86 rmdir LOG 1", "x32 mkdir ERRNO(1) 1"}},
		{"pid", []string{"--since", "1m", "--pid", "200"}, []string{"x32 mkdir ERRNO(1) 1"}},
		{"by pid", []string{"--by-pid", "--pid", "100", "--since", "1h"}, []string{"x86_64 mkdir LOG 2", "x86 rmdir LOG 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := violationsJSON(t, append(slices.Clone(src), tt.args...)...)
			if got := groupNames(rep); !slices.Equal(got, tt.want) {
				t.Errorf("groups %q\nwant   %q", got, tt.want)
			}
			if rep.Source != log {
				t.Errorf("source %q, want %q", rep.Source, log)
			}
		})
	}
}

func TestViolationsText(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Run([]string{"violations", "--source", "audit", "--audit-log", writeAuditLog(t), "--since", "1m"}, nil, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"(--source audit)", "4 records, 3 groups", "COUNT", "x86     rmdir", "/usr/bin/app", "ERRNO(1)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestViolationsUpdate(t *testing.T) {
	in := writeRunProfile(t, map[string]any{"defaultAction": "SCMP_ACT_ERRNO",
		"architectures": []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"},
		"syscalls":      []any{map[string]any{"names": []string{"read"}, "action": "SCMP_ACT_ALLOW"}}})
	out := filepath.Join(t.TempDir(), "out.json")
	var stdout, errb bytes.Buffer
	args := []string{"violations", "--source", "audit", "--audit-log", writeAuditLog(t), "--since", "1m",
		"--arch", "x86_64", "--profile", in, "--update", out}
	if code := Run(args, nil, &stdout, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	p, err := profile.Decode(readFileBytes(t, out))
	if err != nil {
		t.Fatalf("decode updated profile: %v", err)
	}
	var got []string
	for _, s := range p.Syscalls {
		got = append(got, strings.Join(s.Names, ",")+" "+s.Action.String()+" "+s.Comment)
	}
	want := []string{"read SCMP_ACT_ALLOW ",
		"mkdir SCMP_ACT_ALLOW added by sysfence violations: 2 records (x86_64)",
		"rmdir SCMP_ACT_ALLOW added by sysfence violations: 1 records (x86)"}
	if !slices.Equal(got, want) {
		t.Errorf("entries %q\nwant    %q", got, want)
	}
	if !strings.Contains(errb.String(), "mkdir on x32 not added") {
		t.Errorf("stderr does not explain the x32 record:\n%s", errb.String())
	}
}

func readFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestViolationsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--pid", "1", "--container", "x"},
		{"--profile", "default"},
		{"--update", "out.json"},
		{"--source", "journal"},
		{"--format", "yaml"},
		{"--since", "-1m"},
		{"extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := Run(append([]string{"violations"}, args...), nil, &out, &errb); code != ExitUsage {
				t.Errorf("exit %d, want %d: %s", code, ExitUsage, errb.String())
			}
		})
	}
	var out, errb bytes.Buffer
	code := Run([]string{"violations", "--source", "audit", "--audit-log", filepath.Join(t.TempDir(), "none")}, nil, &out, &errb)
	if code != ExitFailure || !strings.Contains(errb.String(), "open audit log") {
		t.Errorf("missing log: exit %d, stderr %q", code, errb.String())
	}
}

func TestViolationsLossWarning(t *testing.T) {
	c := &collector{o: &violationsOptions{}}
	for _, l := range []string{"4,1,1000,-;kauditd_printk_skb: 18 callbacks suppressed", "4,2,2000,-;audit: audit_lost=3 audit_rate_limit=0 audit_backlog_limit=64"} {
		e, ok, err := audit.ParseKmsg(l)
		if !ok || err != nil {
			t.Fatal(l, err)
		}
		if err := c.add(e); err != nil {
			t.Fatal(err)
		}
	}
	w := strings.Join(c.warnings(true), "\n")
	for _, want := range []string{"dropped audit records (21 counted", "kernel.printk_ratelimit=0", "run auditd"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning lacks %q:\n%s", want, w)
		}
	}
}

// TestViolationsComplain is the whole loop: a workload runs to completion
// under --complain where the strict profile breaks it, violations reports
// its calls with their x86_64 names, and --update writes a profile under
// which the workload runs strictly.
func TestViolationsComplain(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireSeccomp(t)
	if b, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_logged"); err != nil || !strings.Contains(string(b), "log") {
		testutil.Unavailable(t, "LOG verdicts are not logged (actions_logged %q, %v)", b, err)
	}
	noPrintkRateLimit(t)
	bin := buildSysfence(t)
	strict := violationsProfile(t)
	workload := func(args ...string) (*exec.Cmd, string) { return violationsWorkload(t, bin, args...) }
	if cmd, _ := workload("run", "--profile", strict); cmd.Run() == nil {
		t.Fatal("the workload ran under the strict profile: it must lack mkdirat and unlinkat")
	}
	cmd, _ := workload("run", "--profile", strict, "--complain")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("workload under --complain: %v\n%s", err, out)
	}
	pid := fmt.Sprint(cmd.Process.Pid)
	var rep violationsReport
	want := []string{"x86_64 mkdirat LOG", "x86_64 unlinkat LOG"}
	// kauditd prints the records asynchronously.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		rep = violationsJSON(t, "--source", "kmsg", "--pid", pid, "--since", "1m")
		got := groupNames(rep)
		if containsPrefixes(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("violations --pid %s: groups %q, want %q", pid, got, want)
		}
	}
	out := filepath.Join(t.TempDir(), "updated.json")
	var stdout, errb bytes.Buffer
	if code := Run([]string{"violations", "--source", "kmsg", "--pid", pid, "--since", "1m", "--profile", strict, "--update", out},
		nil, &stdout, &errb); code != ExitOK {
		t.Fatalf("violations --update: exit %d: %s", code, errb.String())
	}
	strictCmd, _ := workload("run", "--profile", out)
	if b, err := strictCmd.CombinedOutput(); err != nil {
		t.Fatalf("workload under the updated profile: %v\n%s\nprofile:\n%s", err, b, readFileBytes(t, out))
	}
}

// violationsWorkload returns `sysfence ARGS -- violations-workload DIR`,
// with a fresh DIR.
func violationsWorkload(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "x")
	cmd := exec.Command(bin, append(args, "--", exe, "-test.run=^$", "--", target)...)
	cmd.Env = append(os.Environ(), runChildEnv+"=violations-workload")
	return cmd, target
}

// containsPrefixes reports whether each of want begins some element of got.
func containsPrefixes(got, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w+" ") }) {
			return false
		}
	}
	return true
}

// noPrintkRateLimit turns the printk rate limit off for the test so that
// no record is dropped while other tests fill the kernel log.
func noPrintkRateLimit(t *testing.T) {
	t.Helper()
	const path = "/proc/sys/kernel/printk_ratelimit"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("0\n"), 0o644); err != nil {
		t.Fatalf("turn off the printk rate limit: %v", err)
	}
	t.Cleanup(func() { _ = os.WriteFile(path, old, 0o644) })
}

// buildSysfence builds the static sysfence binary into a temporary directory.
func buildSysfence(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "sysfence")
	build := exec.Command("go", "build", "-o", exe, "github.com/sysfence/sysfence/cmd/sysfence")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // static, to copy into containers
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build sysfence: %v\n%s", err, out)
	}
	return exe
}

// violationsProfile writes Docker's default profile (default action
// ERRNO) without the calls drop names (default: mkdir, mkdirat, rmdir,
// unlink and unlinkat).
func violationsProfile(t *testing.T, drop ...string) string {
	t.Helper()
	p := profile.MustDefault().Clone()
	if drop == nil {
		drop = []string{"mkdir", "mkdirat", "rmdir", "unlink", "unlinkat"}
	}
	for i := range p.Syscalls {
		p.Syscalls[i].Names = slices.DeleteFunc(p.Syscalls[i].Names, func(n string) bool { return slices.Contains(drop, n) })
	}
	p.Syscalls = slices.DeleteFunc(p.Syscalls, func(s profile.Syscall) bool { return len(s.Names) == 0 })
	data, err := profile.Encode(p, profile.FormatDocker)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "strict.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestViolationsContainer runs a Go program that LOGs sigaltstack in a
// container twice, as its init and through docker exec (not a descendant
// of init), and once on the host: --container reports the container's two
// processes and not the host's.
func TestViolationsContainer(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireSeccomp(t)
	dockertest.Available(t)
	noPrintkRateLimit(t)
	bin := buildSysfence(t)
	prof := violationsProfile(t, "sigaltstack")
	name := fmt.Sprintf("sysfence-test-violations-%d", os.Getpid())
	docker := func(args ...string) string {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
	complain := []string{"/sysfence", "run", "--profile", "/p.json", "--complain", "--", "/probe", "sleep"}
	docker(append([]string{"run", "-d", "--rm", "--name", name, "--label", dockertest.Label,
		"-v", bin + ":/sysfence:ro", "-v", prof + ":/p.json:ro", dockertest.EnsureImage(t)}, complain...)...)
	init, err := strconv.Atoi(docker("inspect", "-f", "{{.State.Pid}}", name))
	if err != nil {
		t.Fatal(err)
	}
	waitComm(t, init, "probe")
	docker(append([]string{"exec", "-d", name}, complain...)...)
	host, _ := violationsWorkload(t, bin, "run", "--profile", prof, "--complain")
	if out, err := host.CombinedOutput(); err != nil {
		t.Fatalf("host workload: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		rep := violationsJSON(t, "--source", "kmsg", "--container", name, "--since", "1m")
		var pids []int
		for _, g := range rep.Groups {
			if g.Syscall == "sigaltstack" && g.Arch == "x86_64" && g.Comm == "probe" {
				pids = append(pids, g.PIDs...)
			}
			if slices.Contains(g.PIDs, host.Process.Pid) {
				t.Fatalf("--container reports the host process %d: %+v", host.Process.Pid, g)
			}
		}
		if slices.Contains(pids, init) && len(pids) >= 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("--container %s: sigaltstack from pids %v, want init %d and the exec'd process\n%+v", name, pids, init, rep.Groups)
		}
	}
}

// TestViolationsFollow follows an audit log in a sysfence process: a
// record appended later is printed as it comes, and an interrupt ends
// the command with the summary.
func TestViolationsFollow(t *testing.T) {
	bin := buildSysfence(t)
	log := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(log, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), bin, "violations", "--follow", "--source", "audit", "--audit-log", log)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "source: "+log)
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(seccompLine(time.Now(), 300, "40000003", 39, "0x7ffc0000") + "\n"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "pid 300  app (/usr/bin/app)  x86 mkdir  LOG")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("violations --follow after an interrupt: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 records, 1 groups") {
		t.Errorf("no summary after the interrupt:\n%s", out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a process's output and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitOutput waits up to 30 s for want to appear in out.
func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q after 30 s:\n%s", want, out.String())
		}
	}
}
