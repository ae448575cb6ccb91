package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/dockertest"
	"github.com/sysfence/sysfence/internal/testutil"
)

// These tests run `sysfence run` in a child process ("sysfence-run"), never
// in the test process, since it installs a filter and execs. When the test
// sets runWorkloadEnv, the child selects that child function for the test
// binary it execs, so a Go workload can report exactly what a call got.
const (
	runWorkloadEnv = "SYSFENCE_RUN_TEST_WORKLOAD"
	// runChildEnv is the variable testutil dispatches children by.
	runChildEnv = "SYSFENCE_TEST_CHILD"
)

func init() {
	testutil.RegisterChild("sysfence-run", func(args []string) error {
		if w := os.Getenv(runWorkloadEnv); w != "" {
			os.Setenv(runChildEnv, w)
		}
		os.Exit(Run(args, os.Stdin, os.Stdout, os.Stderr))
		return nil
	})
	// run-getppid makes one raw getppid call and prints what it got.
	testutil.RegisterChild("run-getppid", func([]string) error {
		r, _, errno := syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		fmt.Printf("getppid = %d, errno %d\n", int(r), errno)
		return nil
	})
}

// runResult is what one `sysfence run` child did.
type runResult struct {
	stdout, stderr string
	state          *os.ProcessState
}

// status describes how the process ended: "exit N" or "signal NAME".
func (r runResult) status() string {
	ws := r.state.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit %d", ws.ExitStatus())
}

// runSysfence runs `sysfence ARGS` in a child; workload, when not "",
// names the test-binary child that a `-- self` command runs.
func runSysfence(t *testing.T, workload string, args ...string) runResult {
	t.Helper()
	testutil.RequireSeccomp(t)
	if i := slices.Index(args, "self"); i > 0 && args[i-1] == "--" {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		args = append(slices.Clone(args[:i]), exe, "-test.run=^$", "--")
	}
	cmd := testutil.Child(t, "sysfence-run", args...)
	cmd.Env = append(cmd.Env, runWorkloadEnv+"="+workload)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var ee *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &ee) {
		t.Fatalf("start sysfence run: %v", err)
	}
	return runResult{stdout.String(), stderr.String(), cmd.ProcessState}
}

// getppidProfile writes a profile that allows everything except getppid,
// which gets action (with errnoRet 39, ENOTEMPTY, for ERRNO).
func getppidProfile(t *testing.T, action string) string {
	t.Helper()
	rule := map[string]any{"names": []string{"getppid"}, "action": action}
	if action == "SCMP_ACT_ERRNO" {
		rule["errnoRet"] = 39
	}
	return writeRunProfile(t, map[string]any{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []any{rule}})
}

func writeRunProfile(t *testing.T, p any) string {
	t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunExitStatus(t *testing.T) {
	tests := []struct {
		name string
		cmd  []string
		want string
	}{
		{"true", []string{"/bin/true"}, "exit 0"},
		{"exit 7", []string{"sh", "-c", "exit 7"}, "exit 7"},
		{"signal", []string{"sh", "-c", "kill -TERM $$"}, "signal terminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runSysfence(t, "", append([]string{"run", "--profile", "default", "--"}, tt.cmd...)...)
			if got := r.status(); got != tt.want {
				t.Errorf("sysfence run -- %s: %s, want %s\nstderr: %s", strings.Join(tt.cmd, " "), got, tt.want, r.stderr)
			}
		})
	}
}

// TestRunInstalls checks, from inside the command, that the filter and
// no_new_privs are in place.
func TestRunInstalls(t *testing.T) {
	show := []string{"--", "sh", "-c", "grep -E '^(NoNewPrivs|Seccomp)' /proc/self/status"}
	tests := []struct {
		name  string
		flags []string
		want  []string
	}{
		{"default", nil, []string{"NoNewPrivs:\t1", "Seccomp:\t2", "Seccomp_filters:\t1"}},
		{"no no_new_privs", []string{"--no-new-privs=false"}, []string{"NoNewPrivs:\t0", "Seccomp:\t2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if slices.Contains(tt.flags, "--no-new-privs=false") {
				testutil.RequireRoot(t)
			}
			r := runSysfence(t, "", append(append([]string{"run"}, tt.flags...), show...)...)
			if r.status() != "exit 0" {
				t.Fatalf("%s\nstderr: %s", r.status(), r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("status lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// TestRunVerdicts runs a Go workload whose getppid call gets each action.
func TestRunVerdicts(t *testing.T) {
	tests := []struct {
		action     string
		flags      []string
		wantStatus string
		wantOut    string // in stdout, or stderr for a crash
	}{
		{"SCMP_ACT_ERRNO", nil, "exit 0", "errno 39"},
		{"SCMP_ACT_KILL_PROCESS", nil, "signal bad system call", ""},
		// The Go runtime's SIGSYS handler reports the signal and exits 2:
		// TRAP delivered a signal the process could handle.
		{"SCMP_ACT_TRAP", nil, "exit 2", "SIGSYS: bad system call"},
		{"SCMP_ACT_LOG", nil, "exit 0", "errno 0"},
		{"SCMP_ACT_KILL_PROCESS", []string{"--complain"}, "exit 0", "errno 0"},
		{"SCMP_ACT_ERRNO", []string{"--complain"}, "exit 0", "errno 0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{tt.action}, tt.flags...), " "), func(t *testing.T) {
			args := append([]string{"run", "--profile", getppidProfile(t, tt.action)}, tt.flags...)
			r := runSysfence(t, "run-getppid", append(args, "--", "self")...)
			if got := r.status(); got != tt.wantStatus {
				t.Errorf("%s, want %s\nstdout: %s\nstderr: %.600s", got, tt.wantStatus, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, tt.wantOut) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %.600s", tt.wantOut, r.stdout, r.stderr)
			}
		})
	}
}

// TestRunRefuses checks that each refusal says why and that the command,
// which would create a marker file, never starts.
func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	bogus := writeRunProfile(t, map[string]any{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": []any{map[string]any{"names": []string{"getppid"}, "action": "SCMP_ACT_BOGUS"}}})
	notify := writeRunProfile(t, map[string]any{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
		"syscalls": []any{map[string]any{"names": []string{"getppid"}, "action": "SCMP_ACT_NOTIFY"}}})
	flag := writeRunProfile(t, map[string]any{"defaultAction": "SCMP_ACT_ALLOW",
		"flags": []string{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}})
	tests := []struct {
		name    string
		args    []string
		command []string
		want    []string
	}{
		{"unreadable profile", []string{"--profile", filepath.Join(dir, "missing.json")}, nil, []string{"read profile", "missing.json"}},
		{"invalid profile", []string{"--profile", bogus}, nil, []string{"SCMP_ACT_BOGUS"}},
		{"program too long", []string{"--profile", longProfile(t)}, nil, []string{"4096"}},
		{"notify without supervisor", []string{"--profile", notify}, nil, []string{"NOTIFY", "supervisor"}},
		{"unsupported flag", []string{"--profile", flag}, nil, []string{"WAIT_KILLABLE_RECV"}},
		{"missing command", nil, []string{"/no/such/command"}, []string{"look up command", "/no/such/command"}},
		{"missing command on PATH", nil, []string{"no-such-command-sysfence"}, []string{"look up command", "executable file not found"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := filepath.Join(dir, fmt.Sprint("marker", i))
			command := tt.command
			if command == nil {
				command = []string{"touch", marker}
			}
			args := append(append([]string{"run"}, tt.args...), "--")
			r := runSysfence(t, "", append(args, command...)...)
			if r.status() != "exit 1" {
				t.Errorf("%s, want exit 1\nstderr: %s", r.status(), r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the command ran")
			}
		})
	}
}

// longProfile writes a profile whose program exceeds the kernel's limit:
// a thousand separate argument values cannot share compares.
func longProfile(t *testing.T) string {
	var rules []any
	for v := range 1000 {
		rules = append(rules, map[string]any{"names": []string{"personality"}, "action": "SCMP_ACT_ALLOW",
			"args": []any{map[string]any{"index": 0, "value": 2 * v, "op": "SCMP_CMP_EQ"}}})
	}
	return writeRunProfile(t, map[string]any{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": rules})
}

func TestRunDryRun(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "marker")
	logFlag := writeRunProfile(t, map[string]any{"defaultAction": "SCMP_ACT_ALLOW",
		"flags": []string{"SECCOMP_FILTER_FLAG_LOG"}})
	tests := []struct {
		name  string
		flags []string
		want  []string
	}{
		{"default", nil, []string{"arches:        x86_64, x86, x32", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
			"instructions:", "ERRNO(1)", "complain:      false", "no_new_privs:  true"}},
		{"log", []string{"--log"}, []string{"SECCOMP_FILTER_FLAG_LOG|SECCOMP_FILTER_FLAG_SPEC_ALLOW"}},
		{"profile flags", []string{"--profile", logFlag}, []string{"flags:         SECCOMP_FILTER_FLAG_LOG\n"}},
		{"complain", []string{"--complain"}, []string{"actions:       LOG, ALLOW", "complain:      true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"run", "--dry-run", "--arch", "x86_64"}, tt.flags...), "--", "touch", marker)
			r := runSysfence(t, "", args...)
			if r.status() != "exit 0" {
				t.Fatalf("%s\nstderr: %s", r.status(), r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("--dry-run ran the command")
			}
		})
	}
}

func TestRunDryRunJSON(t *testing.T) {
	r := runSysfence(t, "", "run", "--dry-run", "--format", "json", "--", "sh", "-c", "exit 3")
	var plan struct {
		Command      string   `json:"command"`
		Args         []string `json:"args"`
		Arches       []string `json:"arches"`
		Flags        string   `json:"flags"`
		Instructions int      `json:"instructions"`
		Actions      []string `json:"actions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("%s: output does not parse: %v\n%s\nstderr: %s", r.status(), err, r.stdout, r.stderr)
	}
	if !strings.HasSuffix(plan.Command, "/sh") || !slices.Equal(plan.Args, []string{"-c", "exit 3"}) ||
		len(plan.Arches) == 0 || plan.Instructions == 0 || len(plan.Actions) == 0 || plan.Flags != "SECCOMP_FILTER_FLAG_SPEC_ALLOW" {
		t.Errorf("incomplete plan: %+v", plan)
	}
	if r.status() != "exit 0" {
		t.Errorf("%s, want exit 0 (nothing run)", r.status())
	}
}

// TestRunNeedsSysAdmin drops CAP_SYS_ADMIN (setpriv) before asking run not
// to set no_new_privs.
func TestRunNeedsSysAdmin(t *testing.T) {
	testutil.RequireRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		testutil.Unavailable(t, "needs setpriv (util-linux) to drop CAP_SYS_ADMIN: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	cmd := exec.CommandContext(t.Context(), setpriv, "--inh-caps=-sys_admin", "--bounding-set=-sys_admin",
		exe, "-test.run=^$", "--", "run", "--no-new-privs=false", "--", "touch", marker)
	cmd.Env = append(os.Environ(), runChildEnv+"=sysfence-run")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitFailure || !strings.Contains(string(out), "CAP_SYS_ADMIN") {
		t.Errorf("run --no-new-privs=false without CAP_SYS_ADMIN: %v, want exit 1 naming CAP_SYS_ADMIN\n%s", err, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran")
	}
}

func TestRunActions(t *testing.T) {
	testutil.RequireSeccomp(t)
	tests := []struct {
		name string
		prog []bpf.Instruction
		want string // error substring, or the actions joined by ", "
	}{
		{"known", []bpf.Instruction{bpf.Ret(bpf.RetErrno | 1), bpf.Ret(bpf.RetAllow), bpf.Ret(bpf.RetErrno | 1)}, "ERRNO(1), ALLOW"},
		{"kernel lacks", []bpf.Instruction{bpf.Ret(0x12340000)}, "lacks action 0x12340000"},
		{"computed", []bpf.Instruction{{Op: bpf.ClassRET | bpf.RetA}}, "computed verdict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, err := runActions(tt.prog)
			got := strings.Join(names, ", ")
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("runActions = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestComplainProgram(t *testing.T) {
	in := []bpf.Instruction{bpf.LoadAbs(bpf.OffsetNr), bpf.Ret(bpf.RetKillProcess), bpf.Ret(bpf.RetErrno | 38),
		bpf.Ret(bpf.RetTrap), bpf.Ret(bpf.RetLog), bpf.Ret(bpf.RetAllow)}
	want := []bpf.Instruction{bpf.LoadAbs(bpf.OffsetNr), bpf.Ret(bpf.RetLog), bpf.Ret(bpf.RetLog),
		bpf.Ret(bpf.RetLog), bpf.Ret(bpf.RetLog), bpf.Ret(bpf.RetAllow)}
	got, err := complainProgram(in)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("complainProgram:\n%s\nerror %v, want:\n%s", bpf.Disassemble(got), err, bpf.Disassemble(want))
	}
	if in[1] != bpf.Ret(bpf.RetKillProcess) {
		t.Error("complainProgram changed its input")
	}
}

// i386Getppid is a 32-bit program whose getppid goes through the i386
// table (number 64; 64 is semget on x86_64, and 110, getppid on x86_64,
// is iopl on i386).
const i386Getppid = `#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
	long r = syscall(SYS_getppid);
	printf("getppid = %ld, errno %d\n", r, r < 0 ? errno : 0);
	return 0;
}
`

// buildI386 compiles i386Getppid with gcc -m32 -static.
func buildI386(t *testing.T) string {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("i386 binaries run only on x86_64 hosts")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		testutil.Unavailable(t, "needs gcc with gcc-multilib to build an i386 binary: %v", err)
	}
	dir := t.TempDir()
	src, exe := filepath.Join(dir, "getppid.c"), filepath.Join(dir, "getppid32")
	if err := os.WriteFile(src, []byte(i386Getppid), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-m32", "-static", "-o", exe, src).CombinedOutput(); err != nil {
		testutil.Unavailable(t, "gcc -m32 -static failed (apt-get install gcc-multilib): %v\n%s", err, out)
	}
	// Like an architecture, this is the platform's property, not a missing
	// test dependency: kernels with ia32 emulation disabled (ia32_emulation=0,
	// CONFIG_IA32_EMULATION_DEFAULT_DISABLED, Xen PV and PVM guests) refuse
	// i386 ELF files with ENOEXEC and have no compat system calls to filter.
	if err := exec.Command(exe).Run(); errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("this kernel runs no i386 programs (ia32 emulation disabled): %v", err)
	}
	return exe
}

// TestRunI386 shows that compat calls are filtered by the i386 table.
func TestRunI386(t *testing.T) {
	exe := buildI386(t)
	arches := []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}
	deny := func(name string, arches []string) string {
		return writeRunProfile(t, map[string]any{"defaultAction": "SCMP_ACT_ALLOW", "architectures": arches,
			"syscalls": []any{map[string]any{"names": []string{name}, "action": "SCMP_ACT_ERRNO", "errnoRet": 39}}})
	}
	tests := []struct {
		name       string
		profile    string
		wantStatus string
		wantOut    string
	}{
		{"getppid denied by name", deny("getppid", arches), "exit 0", "errno 39"},
		{"x86_64 number 64 denied", deny("semget", arches), "exit 0", "errno 0"},
		{"x86_64 number 110 denied", deny("iopl", arches), "exit 0", "errno 0"},
		// Without x86 in the filter, i386 calls get the bad-arch action.
		{"x86 not in the profile", deny("getppid", arches[:1]), "signal bad system call", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runSysfence(t, "", "run", "--profile", tt.profile, "--", exe)
			if got := r.status(); got != tt.wantStatus {
				t.Errorf("%s, want %s\nstdout: %s\nstderr: %s", got, tt.wantStatus, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.wantOut) {
				t.Errorf("stdout %q lacks %q", r.stdout, tt.wantOut)
			}
		})
	}
}

// TestRunInDocker runs `sysfence run -- /spin` as a container's command
// (a static binary mounted into a container under Docker's default
// profile) and checks that `dump --container` shows both filters.
func TestRunInDocker(t *testing.T) {
	testutil.RequireDocker(t)
	testutil.RequireFilterDump(t)
	exe := filepath.Join(t.TempDir(), "sysfence")
	build := exec.Command("go", "build", "-o", exe, "github.com/sysfence/sysfence/cmd/sysfence")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build static sysfence: %v\n%s", err, out)
	}
	// dockertest.Start waits for the command's name, which sysfence
	// replaces at once; this container is started by hand.
	name := fmt.Sprintf("sysfence-test-run-%d", os.Getpid())
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
	docker(append([]string{"run", "-d", "--rm", "--name", name, "--label", dockertest.Label, "-v", exe + ":/sysfence:ro",
		dockertest.EnsureImage(t), "/sysfence", "run", "--"}, dockertest.Spin...)...)
	pid, err := strconv.Atoi(docker("inspect", "-f", "{{.State.Pid}}", name))
	if err != nil {
		t.Fatal(err)
	}
	waitComm(t, pid, filepath.Base(dockertest.Spin[0]))
	var out, errb bytes.Buffer
	if code := Run([]string{"dump", "--container", name, "--format", "disasm"}, nil, &out, &errb); code != ExitOK {
		t.Fatalf("dump --container: exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"# filter 1 of 2", "# filter 2 of 2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dump lacks %q:\n%.300s", want, out.String())
		}
	}
}

// waitComm waits until process pid runs a program named comm: sysfence
// has installed its filter and exec'd the command.
func waitComm(t *testing.T, pid int, comm string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			t.Fatalf("process %d ended before running %s: %v", pid, comm, err)
		}
		if strings.TrimSpace(string(b)) == comm {
			return
		}
	}
	t.Fatalf("process %d did not exec %s in 30 s", pid, comm)
}

// TestRunUnderATightProfile runs /bin/true under exactly the calls it makes,
// a profile that denies everything the Go runtime needs (futex,
// epoll_pwait, rt_sigreturn…): what `sysfence record` writes for a C
// program. Nothing of sysfence may run under it but execve. When run
// installed the filter from Go and then exec'd, a preemption signal landing
// in between returned through the denied rt_sigreturn and killed sysfence
// with SIGSEGV, about once in twenty runs (seen in CI); the exec stub has
// no such window.
func TestRunUnderATightProfile(t *testing.T) {
	tight := writeRunProfile(t, map[string]any{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []map[string]any{{
		"names": []string{"access", "arch_prctl", "brk", "close", "execve", "exit_group", "mmap", "mprotect", "munmap",
			"newfstatat", "openat", "pread64", "prlimit64", "read", "rseq", "set_robust_list", "set_tid_address"},
		"action": "SCMP_ACT_ALLOW"}}})
	for i := range 40 {
		r := runSysfence(t, "", "run", "--profile", tight, "--", "/bin/true")
		if r.status() != "exit 0" {
			t.Fatalf("run %d: %s\nstderr: %.2000s", i, r.status(), r.stderr)
		}
	}
}
