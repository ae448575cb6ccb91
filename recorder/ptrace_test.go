package recorder_test

import (
	"context"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/elfexec"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/recorder"
	"github.com/sysfence/sysfence/syscalls"
)

func init() {
	testutil.RegisterChild("exit", func(args []string) error {
		code, err := strconv.Atoi(args[0])
		if err != nil {
			return err
		}
		os.Exit(code)
		return nil
	})
	testutil.RegisterChild("killself", func(args []string) error {
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return err
		}
		_ = syscall.Kill(syscall.Getpid(), syscall.Signal(n))
		time.Sleep(10 * time.Second)
		return errors.New("still alive")
	})
}

// recordPtrace runs RecordPtrace and skips the test when ptrace cannot work
// here.
func recordPtrace(t *testing.T, ctx context.Context, cmd *exec.Cmd, opts recorder.Options) (*recorder.Observation, recorder.Exit, error) {
	t.Helper()
	o, exit, err := recorder.RecordPtrace(ctx, cmd, opts)
	if errors.Is(err, recorder.ErrPtraceUnavailable) {
		testutil.Unavailable(t, "ptrace: %v", err)
	}
	return o, exit, err
}

// call returns the call named name of arch in o, or nil.
func call(o *recorder.Observation, arch, name string) *recorder.Call {
	a := o.ABI(arch)
	if a == nil {
		return nil
	}
	for i := range a.Calls {
		if a.Calls[i].Name == name {
			return &a.Calls[i]
		}
	}
	return nil
}

// argValues returns the values capture id kept for c.
func argValues(c *recorder.Call, id string) [][]uint64 {
	if c == nil {
		return nil
	}
	for _, as := range c.Args {
		if as.Capture == id {
			return as.Values
		}
	}
	return nil
}

// TestRecordsWorkload records the threaded, forking workload with both back
// ends: calls made only by a non-main thread and only by a grandchild,
// argument values, exit status and notes.
func TestRecordsWorkload(t *testing.T) {
	for _, b := range []struct {
		name   string
		record recordFunc
	}{{"ptrace", recordPtrace}, {"ebpf", recordEBPF}} {
		t.Run(b.name, func(t *testing.T) { testRecordsWorkload(t, b.name, b.record) })
	}
}

func testRecordsWorkload(t *testing.T, backend string, record recordFunc) {
	cmd, out := workloadCmd(t)
	o, exit, err := record(t, t.Context(), cmd, recorder.Options{Args: true})
	if err != nil {
		t.Fatalf("recording: %v\n%s", err, out)
	}
	if exit != (recorder.Exit{}) {
		t.Fatalf("exit = %v, want exit status 0\n%s", exit, out)
	}
	if cmd.ProcessState == nil || !cmd.ProcessState.Success() {
		t.Errorf("cmd.ProcessState = %v after RecordPtrace, want a successful exit", cmd.ProcessState)
	}
	if !strings.Contains(out.String(), workloadGrandchildOutput) {
		t.Errorf("the grandchild's output did not come through the pipes: %q", out)
	}
	if o.Backend != backend {
		t.Errorf("Backend = %q, want %q", o.Backend, backend)
	}
	if !strings.Contains(o.Target, cmd.Path) || o.Started.IsZero() || o.Seconds <= 0 {
		t.Errorf("Target %q, Started %v, Seconds %v", o.Target, o.Started, o.Seconds)
	}
	if o.Lost.Total() != 0 {
		t.Errorf("Lost = %v, want none", o.Lost)
	}
	if len(o.ABIs) != 1 || o.ABIs[0].Arch != "x86_64" {
		t.Errorf("%d ABIs, want x86_64 only: %+v", len(o.ABIs), o.ABIs)
	}
	if o.Total() == 0 || o.Distinct() < 20 {
		t.Errorf("Total %d, Distinct %d", o.Total(), o.Distinct())
	}
	for _, c := range o.ABI("x86_64").Calls {
		if c.Count == 0 || c.Name == "" {
			t.Errorf("call %+v", c)
		}
	}

	for name, want := range map[string]uint64{workloadThreadCall: 1, workloadGrandchildCall: 1} {
		if c := call(o, "x86_64", name); c == nil || c.Count != want {
			t.Errorf("%s: %+v, want %d call", name, c, want)
		}
	}
	// The launch, sh's, the grandchild's and cat's (dash may try several
	// PATH entries for cat).
	if c := call(o, "x86_64", "execve"); c == nil || c.Count < 4 {
		t.Errorf("execve: %+v, want at least 4", c)
	}
	if call(o, "x86_64", "clone") == nil && call(o, "x86_64", "clone3") == nil {
		t.Errorf("neither clone nor clone3: threads and forks were not seen")
	}
	hasClone3 := call(o, "x86_64", "clone3") != nil
	if slices.Contains(o.Notes, recorder.Clone3Note) != hasClone3 {
		t.Errorf("clone3 seen %v, notes %q", hasClone3, o.Notes)
	}
	if len(o.Notes) == 0 || !strings.Contains(o.Notes[len(o.Notes)-1], "execve") {
		t.Errorf("the launch note is missing: %q", o.Notes)
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
	if c := call(o, "x86_64", "mmap"); c == nil || len(argValues(c, "mmap.prot")) == 0 {
		t.Errorf("mmap.prot has no values: %+v", c)
	}
}

func TestPtraceWithoutArgs(t *testing.T) {
	o, exit, err := recordPtrace(t, t.Context(), exec.Command("/bin/sh", "-c", "exit 0"), recorder.Options{})
	if err != nil || exit != (recorder.Exit{}) {
		t.Fatalf("RecordPtrace: %v, %v", exit, err)
	}
	for _, a := range o.ABIs {
		for _, c := range a.Calls {
			if len(c.Args) > 0 {
				t.Errorf("%s %s has argument values without Options.Args", a.Arch, c.Name)
			}
		}
	}
}

func TestPtraceMissingCommand(t *testing.T) {
	for _, name := range []string{"sysfence-no-such-command", "/nonexistent/sysfence-no-such-command"} {
		o, _, err := recorder.RecordPtrace(t.Context(), exec.Command(name), recorder.Options{})
		if err == nil || o != nil {
			t.Fatalf("%s: RecordPtrace = %v, %v; want an error", name, o, err)
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q does not name the command", name, err)
		}
		if errors.Is(err, recorder.ErrPtraceUnavailable) {
			t.Errorf("%s: a missing command is not ptrace being unavailable: %v", name, err)
		}
	}
}

func TestPtraceExit(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  func(t *testing.T) *exec.Cmd
		want recorder.Exit
	}{
		{"sh exits 3", func(*testing.T) *exec.Cmd { return exec.Command("/bin/sh", "-c", "exit 3") }, recorder.Exit{Code: 3}},
		{"sh killed by SIGTERM", func(*testing.T) *exec.Cmd { return exec.Command("/bin/sh", "-c", "kill -TERM $$") }, recorder.Exit{Signal: 15}},
		{"go exits 3", func(t *testing.T) *exec.Cmd { return testutil.Child(t, "exit", "3") }, recorder.Exit{Code: 3}},
		{"go killed by SIGTERM", func(t *testing.T) *exec.Cmd { return testutil.Child(t, "killself", "15") }, recorder.Exit{Signal: 15}},
		// A signal-delivery stop must deliver the signal: the trap runs.
		{"signal delivered", func(*testing.T) *exec.Cmd {
			return exec.Command("/bin/sh", "-c", `trap "exit 5" USR1; kill -USR1 $$; sleep 5`)
		}, recorder.Exit{Code: 5}},
		// A group-stop does not hang the recording (the tracee is resumed).
		{"stopped", func(*testing.T) *exec.Cmd { return exec.Command("/bin/sh", "-c", "kill -STOP $$; exit 4") }, recorder.Exit{Code: 4}},
		// The command exits first; its child is still recorded.
		{"orphan", func(*testing.T) *exec.Cmd {
			return exec.Command("/bin/sh", "-c", "(sleep 0.2; exec /bin/sh -c 'exit 7') & exit 6")
		}, recorder.Exit{Code: 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := tc.cmd(t)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			start := time.Now()
			o, exit, err := recordPtrace(t, t.Context(), cmd, recorder.Options{})
			if err != nil {
				t.Fatalf("RecordPtrace: %v\n%s", err, stderr.String())
			}
			if exit != tc.want {
				t.Errorf("exit = %v, want %v\n%s", exit, tc.want, stderr.String())
			}
			if o == nil || o.Total() == 0 {
				t.Fatalf("observation %+v", o)
			}
			if tc.name == "orphan" {
				// The recording lasts until the orphan is done, and saw its exec.
				if d := time.Since(start); d < 200*time.Millisecond {
					t.Errorf("returned after %v, before the orphan ended", d)
				}
				if c := call(o, "x86_64", "execve"); c == nil || c.Count < 3 {
					t.Errorf("execve %+v: the orphan's exec was not seen", c)
				}
			}
		})
	}
}

func TestPtraceCancel(t *testing.T) {
	// A tree: a background sleep, a pipeline, and the shell waiting.
	cmd := exec.Command("/bin/sh", "-c", "sleep 100 & sleep 100 | cat; wait")
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	o, exit, err := recordPtrace(t, ctx, cmd, recorder.Options{})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("RecordPtrace returned after %v", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RecordPtrace error %v, want one wrapping context.DeadlineExceeded", err)
	}
	if exit.Signal != int(syscall.SIGKILL) {
		t.Errorf("exit = %v, want killed by SIGKILL", exit)
	}
	if o == nil || call(o, "x86_64", "execve") == nil {
		t.Errorf("no partial observation: %+v", o)
	}
}

func TestPtraceProgress(t *testing.T) {
	var (
		mu       sync.Mutex
		reports  []recorder.Progress
		returned atomic.Bool
	)
	opts := recorder.Options{Progress: func(p recorder.Progress) {
		if returned.Load() {
			t.Error("Progress called after RecordPtrace returned")
		}
		mu.Lock()
		reports = append(reports, p)
		mu.Unlock()
	}}
	_, _, err := recordPtrace(t, t.Context(), exec.Command("/bin/sh", "-c", "sleep 0.7"), opts)
	returned.Store(true)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) < 2 {
		t.Fatalf("%d progress reports in 0.7s, want about %d", len(reports), int(700*time.Millisecond/recorder.ProgressEvery))
	}
	last := reports[len(reports)-1]
	if last.Calls == 0 || last.Distinct == 0 || last.Elapsed < recorder.ProgressEvery || last.Lost != 0 {
		t.Errorf("last report %+v", last)
	}
}

// TestPtraceConcurrent records two workloads at once while the test process
// starts and waits for other children: no recording may take another's
// tracees or children.
func TestPtraceConcurrent(t *testing.T) {
	stop := make(chan struct{})
	others := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				others <- nil
				return
			default:
			}
			if err := exec.Command("/bin/true").Run(); err != nil {
				others <- err
				return
			}
		}
	}()
	var (
		wg          sync.WaitGroup
		unavailable atomic.Pointer[error]
	)
	for i := range 2 {
		wg.Go(func() {
			cmd, out := workloadCmd(t)
			o, exit, err := recorder.RecordPtrace(t.Context(), cmd, recorder.Options{Args: true})
			if errors.Is(err, recorder.ErrPtraceUnavailable) {
				unavailable.Store(&err)
				return
			}
			if err != nil || exit != (recorder.Exit{}) {
				t.Errorf("recording %d: %v, %v\n%s", i, exit, err, out)
				return
			}
			for _, name := range []string{workloadThreadCall, workloadGrandchildCall} {
				if c := call(o, "x86_64", name); c == nil || c.Count != 1 {
					t.Errorf("recording %d: %s %+v", i, name, c)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-others; err != nil {
		t.Errorf("a child started beside the recordings: %v", err)
	}
	if err := unavailable.Load(); err != nil {
		testutil.Unavailable(t, "ptrace: %v", *err)
	}
}

// recordFunc is a back end as the tests call it.
type recordFunc func(*testing.T, context.Context, *exec.Cmd, recorder.Options) (*recorder.Observation, recorder.Exit, error)

// TestABIs runs tiny static programs that make system calls the Go runtime
// never makes — x32 numbers (the kernel sees them with bit 30 whatever
// CONFIG_X86_X32_ABI says), numbers no table has a call for, and i386 calls
// through int 0x80 — under both back ends.
func TestABIs(t *testing.T) {
	for _, b := range []struct {
		name   string
		record recordFunc
	}{{"ptrace", recordPtrace}, {"ebpf", recordEBPF}} {
		t.Run(b.name, func(t *testing.T) { testABIs(t, b.record) })
	}
}

func testABIs(t *testing.T, record recordFunc) {
	t.Run("x32 and out of table", func(t *testing.T) {
		code := []byte{
			0xb8, 0x27, 0x00, 0x00, 0x40, // mov eax, 0x40000027 (x32 getpid)
			0x0f, 0x05, // syscall
			0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, // mov rax, -1
			0x0f, 0x05, // syscall
			0xb8, 0xff, 0x03, 0x00, 0x00, // mov eax, 1023 (above the table)
			0x0f, 0x05, // syscall
			0xb8, 0xff, 0x03, 0x00, 0x40, // mov eax, 0x400003ff (x32, above its table)
			0x0f, 0x05, // syscall
			0xb8, 0x90, 0x01, 0x00, 0x00, // mov eax, 400 (in the table's gap 337-423)
			0x0f, 0x05, // syscall
			0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
			0x31, 0xff, // xor edi, edi
			0x0f, 0x05, // syscall
		}
		o := recordELF(t, elf64(code), record)
		getpid, _ := syscalls.X32.Number("getpid")
		x32 := o.ABI("x32")
		if x32 == nil || len(x32.Calls) != 1 || x32.Calls[0].Nr != getpid || x32.Calls[0].Name != "getpid" || x32.Calls[0].Count != 1 {
			t.Errorf("x32: %+v, want one getpid (%#x)", x32, getpid)
		}
		if got := o.Names("x86_64"); !slices.Equal(got, []string{"execve", "exit"}) {
			t.Errorf("x86_64: %v, want the launch execve and exit", got)
		}
		if o.Lost.OutOfTable != 4 || o.Lost.Total() != 4 {
			t.Errorf("Lost = %+v, want 4 out of table (-1, 1023, 400, x32 1023)", o.Lost)
		}
	})
	t.Run("i386", func(t *testing.T) {
		code := []byte{
			0xb8, 0x14, 0x00, 0x00, 0x00, // mov eax, 20 (getpid)
			0xcd, 0x80, // int 0x80
			0xb8, 0x66, 0x00, 0x00, 0x00, // mov eax, 102 (socketcall)
			0xbb, 0x01, 0x00, 0x00, 0x00, // mov ebx, 1 (SYS_SOCKET)
			0x31, 0xc9, // xor ecx, ecx (no arguments: EFAULT)
			0xcd, 0x80, // int 0x80
			0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (exit)
			0x31, 0xdb, // xor ebx, ebx
			0xcd, 0x80, // int 0x80
		}
		o := recordELF(t, elf32(code), record)
		if got := o.Names("x86"); !slices.Equal(got, []string{"exit", "getpid", "socketcall"}) {
			t.Errorf("x86: %v, want exit, getpid, socketcall", got)
		}
		if got := argValues(call(o, "x86", "socketcall"), "socketcall.call"); !slices.EqualFunc(got, [][]uint64{{1}}, slices.Equal) {
			t.Errorf("socketcall.call = %v, want [[1]]", got)
		}
		if got := o.Names("x86_64"); !slices.Equal(got, []string{"execve"}) {
			t.Errorf("x86_64: %v, want only the launch execve", got)
		}
	})
}

// recordELF writes a program to a file and records it with argument
// captures; it skips the test when the kernel cannot run it.
func recordELF(t *testing.T, prog []byte, record recordFunc) *recorder.Observation {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(path, prog, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(path).Run(); err != nil {
		// ENOEXEC: no IA32 emulation (or, as on this project's
		// Firecracker/PVM machines, no 32-bit code at all); EACCES: a
		// noexec TMPDIR. A fact of the machine, not a failure.
		t.Skipf("this kernel does not run the program: %v", err)
	}
	o, exit, err := record(t, t.Context(), exec.Command(path), recorder.Options{Args: true})
	if err != nil || exit != (recorder.Exit{}) {
		t.Fatalf("recording: %v, %v", exit, err)
	}
	return o
}

// elf64 wraps x86_64 machine code in a minimal static executable.
func elf64(code []byte) []byte { return elfexec.Static64(elf.EM_X86_64, 0x400000, code) }

// elf32 is elf64 for i386 machine code.
func elf32(code []byte) []byte { return elfexec.Static32(elf.EM_386, 0x8048000, code) }
