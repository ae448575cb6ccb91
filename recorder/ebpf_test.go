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

func TestEBPFRecordsWorkload(t *testing.T) {
	cmd, out := workloadCmd(t)
	o, exit, err := recordEBPF(t, t.Context(), cmd, recorder.Options{Args: true})
	if err != nil {
		t.Fatalf("RecordEBPF: %v\n%s", err, out)
	}
	if exit != (recorder.Exit{}) {
		t.Fatalf("exit = %v, want exit status 0\n%s", exit, out)
	}
	if o.Backend != "ebpf" || o.Lost.Total() != 0 {
		t.Errorf("Backend %q, Lost %v; want ebpf and no loss", o.Backend, o.Lost)
	}
	if len(o.ABIs) != 1 || o.ABIs[0].Arch != "x86_64" {
		t.Errorf("ABIs %+v, want x86_64 only", o.ABIs)
	}
	for name, want := range map[string]uint64{workloadThreadCall: 1, workloadGrandchildCall: 1} {
		if c := call(o, "x86_64", name); c == nil || c.Count != want {
			t.Errorf("%s: %+v, want exactly %d call (made only by a non-main thread / a grandchild)", name, c, want)
		}
	}
	if c := call(o, "x86_64", "execve"); c == nil || c.Count < 4 {
		t.Errorf("execve: %+v, want at least 4 (launch, sh, grandchild, cat)", c)
	}
	socket := call(o, "x86_64", "socket")
	if got := argValues(socket, "socket.family"); !slices.EqualFunc(got, workloadSocketFamilies, slices.Equal) {
		t.Errorf("socket.family = %v, want %v", got, workloadSocketFamilies)
	}
	if got := argValues(socket, "socket.type"); !slices.EqualFunc(got, workloadSocketTypes, slices.Equal) {
		t.Errorf("socket.type = %v, want %v", got, workloadSocketTypes)
	}
	if got := argValues(call(o, "x86_64", "prctl"), "prctl.option"); !slices.ContainsFunc(got, func(v []uint64) bool {
		return slices.Equal(v, []uint64{workloadPrctlOption})
	}) {
		t.Errorf("prctl.option = %v, want it to hold %d", got, workloadPrctlOption)
	}
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

// TestEBPFABIs records tiny static programs with the eBPF back end: an x32
// call (the kernel sees the number with bit 30, whatever CONFIG_X86_X32_ABI
// says), two numbers outside every table, and i386 calls through int 0x80
// (a 32-bit ELF; skipped where the kernel cannot run one, as on this
// project's Firecracker/PVM machines).
func TestEBPFABIs(t *testing.T) {
	t.Run("x32 and out of table", func(t *testing.T) {
		code := []byte{
			0xb8, 0x27, 0x00, 0x00, 0x40, // mov eax, 0x40000027 (x32 getpid)
			0x0f, 0x05, // syscall
			0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, // mov rax, -1
			0x0f, 0x05, // syscall
			0xb8, 0xff, 0x03, 0x00, 0x00, // mov eax, 1023
			0x0f, 0x05, // syscall
			0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
			0x31, 0xff, // xor edi, edi
			0x0f, 0x05, // syscall
		}
		o := recordELFWith(t, elf64(code), recordEBPF)
		if got := o.Names("x32"); !slices.Equal(got, []string{"getpid"}) {
			t.Errorf("x32: %v, want getpid", got)
		}
		if got := o.Names("x86_64"); !slices.Equal(got, []string{"execve", "exit"}) {
			t.Errorf("x86_64: %v, want the launch execve and exit", got)
		}
		if o.Lost.OutOfTable != 2 || o.Lost.Total() != 2 {
			t.Errorf("Lost = %+v, want 2 out of table", o.Lost)
		}
	})
	t.Run("i386", func(t *testing.T) {
		code := []byte{
			0xb8, 0x14, 0x00, 0x00, 0x00, // mov eax, 20 (getpid)
			0xcd, 0x80, // int 0x80
			0xb8, 0x66, 0x00, 0x00, 0x00, // mov eax, 102 (socketcall)
			0xbb, 0x01, 0x00, 0x00, 0x00, // mov ebx, 1 (SYS_SOCKET)
			0x31, 0xc9, // xor ecx, ecx
			0xcd, 0x80, // int 0x80
			0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (exit)
			0x31, 0xdb, // xor ebx, ebx
			0xcd, 0x80, // int 0x80
		}
		o := recordELFWith(t, elf32(code), recordEBPF)
		if got := o.Names("x86"); !slices.Equal(got, []string{"exit", "getpid", "socketcall"}) {
			t.Errorf("x86: %v, want exit, getpid, socketcall", got)
		}
		if got := argValues(call(o, "x86", "socketcall"), "socketcall.call"); !slices.EqualFunc(got, [][]uint64{{1}}, slices.Equal) {
			t.Errorf("socketcall.call = %v, want [[1]]", got)
		}
	})
}

// recordELFWith writes prog to a file and records it with argument
// captures; it skips the test when the kernel cannot run the program.
func recordELFWith(t *testing.T, prog []byte, record func(*testing.T, context.Context, *exec.Cmd, recorder.Options) (*recorder.Observation, recorder.Exit, error)) *recorder.Observation {
	t.Helper()
	path := t.TempDir() + "/prog"
	if err := os.WriteFile(path, prog, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(path).Run(); err != nil {
		// ENOEXEC: this kernel runs no i386 code (no IA32 emulation, or a
		// PVM guest that has none); a fact of the machine, not a failure.
		t.Skipf("this kernel does not run the program: %v", err)
	}
	o, exit, err := record(t, t.Context(), exec.Command(path), recorder.Options{Args: true})
	if err != nil || exit != (recorder.Exit{}) {
		t.Fatalf("recording: %v, %v", exit, err)
	}
	return o
}
