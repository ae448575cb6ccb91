//go:build linux

package recorder

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sysfence/sysfence/internal/unix"
	"github.com/sysfence/sysfence/syscalls"
)

// ErrPtraceUnavailable is wrapped by the error of RecordPtrace when ptrace
// cannot be used here at all: the kernel or a security module refused to
// trace the command, or the kernel lacks PTRACE_GET_SYSCALL_INFO (Linux
// 5.3).
var ErrPtraceUnavailable = errors.New("ptrace recording is not available")

// ptraceOptions follow every thread, fork, vfork and exec of the command and
// kill the traced tree if the tracing thread goes away.
const ptraceOptions = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACECLONE |
	unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACEEXEC |
	unix.PTRACE_O_EXITKILL

// syscallStop is the stop code of a syscall stop under PTRACE_O_TRACESYSGOOD.
const syscallStop = int(syscall.SIGTRAP) | 0x80

// waitAll selects every child and tracee of the calling thread, and no
// other thread's: the tracer must not reap children that other goroutines
// of this program started.
const waitAll = unix.WALL | unix.WNOTHREAD

// RecordPtrace starts cmd (an *exec.Cmd not yet started; its Stdin, Stdout
// and Stderr as the caller set them) under ptrace and records it and every
// descendant (threads, forks, vforks, execs) from the command's first
// instruction until the last of them has exited.
//
// Every traced thread stops at each system call entry and exit, so the
// command runs slower than it would alone; the eBPF back end has no such
// cost but needs root. RecordPtrace waits for cmd itself (cmd.Wait):
// cmd.ProcessState is set when it returns and the caller must not call
// cmd.Wait. The Exit is the command's own, not its descendants'.
//
// Tracing changes a few things for the command: a stop signal (SIGSTOP,
// Ctrl-Z's SIGTSTP) does not keep a traced process stopped, as the tracer
// resumes it at once; a traced program cannot use ptrace itself (a
// debugger, strace), since a task has one tracer; and set-user-ID programs
// gain no privileges unless the recorder holds CAP_SYS_PTRACE.
//
// When ctx is done before the recording ends, RecordPtrace kills the whole
// traced tree and returns what it recorded so far with an error wrapping
// ctx.Err(). Errors that mean ptrace cannot work here wrap
// ErrPtraceUnavailable.
func RecordPtrace(ctx context.Context, cmd *exec.Cmd, opts Options) (*Observation, Exit, error) {
	if cmd.Process != nil {
		return nil, Exit{}, errors.New("ptrace back end: the command was already started")
	}
	if err := ctx.Err(); err != nil {
		return nil, Exit{}, fmt.Errorf("ptrace back end: %w", err)
	}
	t := newPtracer(cmd, opts)
	done := make(chan error, 1)
	go func() {
		// Every ptrace request must come from the thread that started the
		// command (its tracer). The thread is never unlocked: it ends with
		// this goroutine, and PTRACE_O_EXITKILL kills whatever tracee an
		// error could have left behind.
		runtime.LockOSThread()
		done <- t.trace(ctx)
	}()
	err := <-done
	if t.started.IsZero() {
		return nil, Exit{}, err
	}
	return t.observation(), t.exit, err
}

// taskState is what the tracer knows about one traced thread.
type taskState uint8

const (
	taskRunning taskState = iota
	// taskNew: auto-attached by a clone, fork or vfork; its first stop,
	// the SIGSTOP the kernel queues for it, is not a signal to deliver.
	taskNew
	// taskLaunch: the command itself before its first stop, the SIGTRAP
	// of its execve.
	taskLaunch
)

// ptraceTally counts the calls of one ABI by number.
type ptraceTally struct {
	arch   *syscalls.Arch
	counts []uint64 // by nr - arch.Min()
	known  []bool   // by nr - arch.Min(): the table has a call of that number
	slots  [][]int  // capture indices by nr - arch.Min(); nil without Options.Args
}

type ptracer struct {
	cmd     *exec.Cmd
	opts    Options
	started time.Time
	seconds float64
	main    int // pid of the command

	b       *builder
	tallies [3]ptraceTally // x86_64, x86, x32
	info    unix.PtraceSyscallInfo

	// tasks holds every traced thread by tid. Only the tracer goroutine
	// writes it, under mu; killAll reads it from other goroutines.
	mu      sync.Mutex
	tasks   map[int]taskState
	killing atomic.Bool // every task is being killed (cancellation or error)

	calls, outOfTable atomic.Uint64
	distinct          atomic.Int64

	exit     Exit
	mainGone bool          // the command exited; cmd.Wait is reaping it
	waited   chan struct{} // closed when cmd.Wait returned
	err      error         // the first error
}

func newPtracer(cmd *exec.Cmd, opts Options) *ptracer {
	t := &ptracer{cmd: cmd, opts: opts, b: newBuilder(),
		tasks: map[int]taskState{}, waited: make(chan struct{})}
	for i, arch := range RecordedArches {
		n := arch.Max() - arch.Min() + 1
		tl := ptraceTally{arch: arch, counts: make([]uint64, n), known: make([]bool, n)}
		for i := range tl.known {
			_, tl.known[i] = arch.SyscallName(arch.Min() + uint32(i))
		}
		if opts.Args {
			tl.slots = make([][]int, len(tl.counts))
			for nr, cs := range captureSlots(arch) {
				tl.slots[nr-arch.Min()] = cs
			}
		}
		t.tallies[i] = tl
	}
	return t
}

// trace starts the command and follows it until no tracee remains. It runs
// on the locked tracer thread.
func (t *ptracer) trace(ctx context.Context) error {
	attr := syscall.SysProcAttr{}
	if t.cmd.SysProcAttr != nil {
		attr = *t.cmd.SysProcAttr
	}
	attr.Ptrace = true
	t.cmd.SysProcAttr = &attr
	started := time.Now()
	if err := t.cmd.Start(); err != nil {
		return startError(t.cmd, err)
	}
	t.started = started
	t.main = t.cmd.Process.Pid
	t.setState(t.main, taskLaunch)

	stopProgress := reportProgress(t.opts.Progress, started, func() Progress {
		return Progress{Calls: t.calls.Load(), Distinct: int(t.distinct.Load()), Lost: t.outOfTable.Load()}
	})
	stopCancel := context.AfterFunc(ctx, t.killAll)
	t.loop()
	cancelled := !stopCancel()
	t.seconds = time.Since(started).Seconds()
	stopProgress()

	if !t.mainGone {
		// Only after a failed waitid: the tree has been killed.
		t.killAll()
		t.reapMain()
	}
	<-t.waited
	if t.err != nil {
		return t.err
	}
	if cancelled {
		return fmt.Errorf("ptrace back end: recording of %s stopped, the traced processes were killed: %w", commandLine(t.cmd.Args), ctx.Err())
	}
	return nil
}

// loop handles tracee events until none is left. It looks at each event
// first without consuming it (WNOWAIT): the command's own exit must be left
// for cmd.Wait to reap.
func (t *ptracer) loop() {
	for {
		ev, err := unix.Waitid(unix.P_ALL, 0, unix.WEXITED|unix.WSTOPPED|waitAll|unix.WNOWAIT)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ECHILD:
			return // no traced task is left
		case err != nil:
			t.fail(fmt.Errorf("ptrace back end: waitid: %w", err))
			return
		}
		switch ev.Code {
		case unix.CLD_EXITED, unix.CLD_KILLED, unix.CLD_DUMPED:
			t.exited(ev)
		case unix.CLD_TRAPPED, unix.CLD_STOPPED:
			got, err := unix.Waitid(unix.P_PID, ev.Pid, unix.WSTOPPED|waitAll|unix.WNOHANG)
			if err != nil || got.Pid == 0 {
				continue // it changed meanwhile (killed, say): look again
			}
			t.stopped(got.Pid, got.Status)
		}
	}
}

// exited handles the end of a traced thread, which the last waitid only
// looked at.
func (t *ptracer) exited(ev unix.ChildInfo) {
	if ev.Pid != t.main {
		t.forget(ev.Pid) // before reaping it, when its tid could be reused
		_, _ = unix.Waitid(unix.P_PID, ev.Pid, unix.WEXITED|waitAll|unix.WNOHANG)
		return
	}
	if !t.mainGone {
		if ev.Code == unix.CLD_EXITED {
			t.exit = Exit{Code: ev.Status}
		} else {
			t.exit = Exit{Signal: ev.Status}
		}
		t.forget(t.main)
		t.reapMain()
		return
	}
	// cmd.Wait reaps it in a moment; if it returned without doing so, the
	// tracer must.
	select {
	case <-t.waited:
		_, _ = unix.Waitid(unix.P_PID, t.main, unix.WEXITED|waitAll|unix.WNOHANG)
	default:
		time.Sleep(20 * time.Microsecond)
	}
}

// reapMain lets cmd.Wait reap the command and finish its I/O copying, which
// can last until the command's descendants close their ends of the pipes.
func (t *ptracer) reapMain() {
	t.mainGone = true
	go func() {
		_ = t.cmd.Wait() // its status is in t.exit already
		close(t.waited)
	}()
}

// stopped handles a ptrace stop of tid with the stop code of wait.
func (t *ptracer) stopped(tid, code int) {
	sig := code & 0xff
	st, known := t.tasks[tid]
	if !known {
		// A new task can report its first stop before its creator's
		// PTRACE_EVENT stop is seen.
		st = taskRunning
		if sig == int(syscall.SIGSTOP) {
			st = taskNew
		}
		t.setState(tid, st)
	}
	if t.killing.Load() {
		_ = syscall.Kill(tid, syscall.SIGKILL)
		t.resume(tid, 0)
		return
	}
	switch {
	case code == syscallStop:
		t.syscallStop(tid)
		t.resume(tid, 0)
	case sig == int(syscall.SIGTRAP) && code>>8 != 0:
		t.event(tid, code>>8)
		t.resume(tid, 0)
	case st == taskNew && sig == int(syscall.SIGSTOP):
		t.setState(tid, taskRunning)
		t.resume(tid, 0)
	case st == taskLaunch:
		t.setState(tid, taskRunning)
		if err := unix.PtraceSetOptions(tid, ptraceOptions); err != nil {
			t.fail(ptraceError("PTRACE_SETOPTIONS", err))
			return
		}
		if sig == int(syscall.SIGTRAP) {
			sig = 0 // the execve's
		}
		t.resume(tid, sig)
	default:
		if st == taskNew {
			t.setState(tid, taskRunning)
		}
		t.signal(tid, sig)
	}
}

// signal resumes tid from a stop for signal sig: a signal-delivery stop gets
// the signal delivered, a group-stop (told apart by PTRACE_GETSIGINFO
// failing) is simply ended.
func (t *ptracer) signal(tid, sig int) {
	switch syscall.Signal(sig) {
	case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
		if _, err := unix.PtraceGetSigno(tid); err == unix.EINVAL {
			sig = 0
		}
	}
	t.resume(tid, sig)
}

// event handles a PTRACE_EVENT stop.
func (t *ptracer) event(tid, event int) {
	switch event {
	case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE:
		msg, err := unix.PtraceGetEventMsg(tid)
		if err != nil {
			return
		}
		if _, known := t.tasks[int(msg)]; !known {
			t.setState(int(msg), taskNew)
		}
	case unix.PTRACE_EVENT_EXEC:
		// A thread other than the leader that execs takes the leader's
		// tid; its own is gone without an exit report.
		msg, err := unix.PtraceGetEventMsg(tid)
		if err == nil && int(msg) != tid {
			t.forget(int(msg))
		}
	}
}

// syscallStop reads a syscall stop and records it if it is an entry.
func (t *ptracer) syscallStop(tid int) {
	if err := unix.PtraceGetSyscallInfo(tid, &t.info); err != nil {
		switch err {
		case unix.ESRCH: // killed meanwhile
		case unix.EIO, unix.EINVAL:
			t.fail(fmt.Errorf("%w: PTRACE_GET_SYSCALL_INFO failed (%v): it needs Linux 5.3 or later", ErrPtraceUnavailable, err))
		default:
			t.fail(ptraceError("PTRACE_GET_SYSCALL_INFO", err))
		}
		return
	}
	if t.info.Op != unix.PTRACE_SYSCALL_INFO_ENTRY {
		return
	}
	if err := t.record(t.info.Arch, t.info.Nr, &t.info.Args); err != nil {
		t.fail(err)
	}
}

// record counts one call of number nr on the ABI of audit token arch.
func (t *ptracer) record(arch uint32, nr64 uint64, args *[6]uint64) error {
	nr := uint32(nr64)
	a := syscalls.ForNumber(arch, nr)
	var tl *ptraceTally
	for i := range t.tallies {
		if t.tallies[i].arch == a {
			tl = &t.tallies[i]
		}
	}
	if tl == nil {
		return fmt.Errorf("ptrace back end: unexpected arch %#x (system call number %#x)", arch, nr64)
	}
	// Numbers no table has a call for (nr -1, above the table, in its
	// gaps) are lost, as in the eBPF back end.
	if nr64 > math.MaxUint32 || nr < a.Min() || nr > a.Max() || !tl.known[nr-a.Min()] {
		t.outOfTable.Add(1)
		return nil
	}
	i := nr - a.Min()
	if tl.counts[i] == 0 {
		t.distinct.Add(1)
	}
	tl.counts[i]++
	t.calls.Add(1)
	if tl.slots != nil {
		for _, ci := range tl.slots[i] {
			t.b.value(a, nr, ci, captureValue(a, Captures[ci], *args))
		}
	}
	return nil
}

// resume lets tid run to its next syscall stop, delivering sig unless 0.
func (t *ptracer) resume(tid, sig int) {
	if err := unix.PtraceSyscall(tid, sig); err != nil && err != unix.ESRCH {
		t.fail(ptraceError("PTRACE_SYSCALL", err))
	}
}

func (t *ptracer) setState(tid int, st taskState) {
	t.mu.Lock()
	t.tasks[tid] = st
	t.mu.Unlock()
}

func (t *ptracer) forget(tid int) {
	t.mu.Lock()
	delete(t.tasks, tid)
	t.mu.Unlock()
}

// killAll sends SIGKILL to every traced task; the tracer kills the ones it
// learns of later at their first stop.
func (t *ptracer) killAll() {
	t.killing.Store(true)
	t.mu.Lock()
	defer t.mu.Unlock()
	for tid := range t.tasks {
		_ = syscall.Kill(tid, syscall.SIGKILL)
	}
}

// fail records the first error and ends the recording by killing the tree.
func (t *ptracer) fail(err error) {
	if t.err == nil {
		t.err = err
	}
	if !t.killing.Load() {
		t.killAll()
	}
}

// observation turns what was recorded into an Observation.
func (t *ptracer) observation() *Observation {
	for _, tl := range t.tallies {
		for i, n := range tl.counts {
			if n > 0 {
				t.b.count(tl.arch, tl.arch.Min()+uint32(i), n)
			}
		}
	}
	t.b.addLaunch()
	o := &Observation{
		Backend: "ptrace",
		Target:  "command: " + commandLine(t.cmd.Args),
		Started: t.started,
		Seconds: t.seconds,
		Lost:    Loss{OutOfTable: t.outOfTable.Load()},
	}
	t.b.fill(o)
	o.addNotes() // clone3's
	o.Notes = append(o.Notes, launchNote)
	return o
}

// startError explains why cmd.Start failed under ptrace.
func startError(cmd *exec.Cmd, err error) error {
	if !errors.Is(err, syscall.EPERM) {
		return fmt.Errorf("ptrace back end: %w", err)
	}
	// The child calls PTRACE_TRACEME before its execve; a refusal comes
	// back as the start's error.
	why := "a seccomp filter on this process (a container's, for one) or a security module forbids ptrace"
	if scope, rerr := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); rerr == nil {
		why = fmt.Sprintf("Yama's kernel.yama.ptrace_scope is %s (3 forbids all ptrace, 2 needs CAP_SYS_PTRACE), or %s",
			strings.TrimSpace(string(scope)), why)
	}
	return fmt.Errorf("%w: starting %s under ptrace failed (%v): PTRACE_TRACEME was most likely refused: %s",
		ErrPtraceUnavailable, cmd.Path, err, why)
}

// ptraceError wraps the failure of a ptrace request, marking refusals.
func ptraceError(request string, err error) error {
	if err == unix.EPERM || err == unix.EACCES {
		return fmt.Errorf("%w: %s refused: %v (a seccomp filter or a security module forbids ptrace)", ErrPtraceUnavailable, request, err)
	}
	return fmt.Errorf("ptrace back end: %s: %w", request, err)
}

// commandLine formats argv for people, quoting what a shell would split.
func commandLine(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@%^") == "" {
			parts[i] = a
		} else {
			parts[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(parts, " ")
}
