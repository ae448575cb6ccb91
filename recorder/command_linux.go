package recorder

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sysfence/sysfence/internal/unix"
)

// RecordCommand records cmd (not yet started) and all its descendants with
// the eBPF back end when this machine allows it, and with ptrace otherwise;
// the Observation's Backend and Why say which and why.
func RecordCommand(ctx context.Context, cmd *exec.Cmd, opts Options) (*Observation, Exit, error) {
	if why := ebpfUnavailable(); why != nil {
		o, exit, err := RecordPtrace(ctx, cmd, opts)
		if o != nil {
			o.Why = "eBPF unavailable: " + why.Error()
		}
		return o, exit, err
	}
	return RecordEBPF(ctx, cmd, opts)
}

// RecordEBPF records cmd and all its descendants with the eBPF back end. The
// command starts stopped right after its execve (a ptrace stop), is moved
// into a fresh cgroup that the program records, and is let go: everything
// the program does from its first instruction on is counted, and nothing the
// recorder's own child did before execve. The recording ends when the last
// process of the cgroup has exited.
func RecordEBPF(ctx context.Context, cmd *exec.Cmd, opts Options) (*Observation, Exit, error) {
	if why := ebpfUnavailable(); why != nil {
		return nil, Exit{}, why
	}
	cg, err := newRecordCgroup()
	if err != nil {
		return nil, Exit{}, err
	}
	defer cg.remove()
	sess, err := openEBPF(progConfig{Cgroup: cg.id, Args: opts.Args})
	if err != nil {
		return nil, Exit{}, err
	}
	defer sess.Close()
	stopSpecializing := sess.specializeWhenLearned(cg.id, cg.path)
	defer stopSpecializing()

	started := time.Now()
	if err := startInCgroup(cmd, cg); err != nil {
		return nil, Exit{}, err
	}
	stop := reportProgress(opts.Progress, started, sess.progressOf(cg.id))
	exit, err := waitTree(ctx, cmd, cg)
	stop()
	if err != nil {
		return nil, exit, err
	}
	if err := stopSpecializing(); err != nil {
		return nil, exit, err
	}
	o, err := finish(sess, cg.id, opts, started, "command: "+strings.Join(cmd.Args, " "))
	if err != nil {
		return nil, exit, err
	}
	addLaunch(o)
	return o, exit, nil
}

// startInCgroup starts cmd stopped after its execve, moves it into cg and
// resumes it. ptrace requests must come from the thread that started the
// child, hence the locked thread.
func startInCgroup(cmd *exec.Cmd, cg *recordCgroup) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Ptrace = true
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		errc <- startStoppedAndMove(cmd, cg)
	}()
	return <-errc
}

func startStoppedAndMove(cmd *exec.Cmd, cg *recordCgroup) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	var st unix.WaitStatus
	if _, err := unix.Wait4(pid, &st, unix.WALL); err != nil {
		cmd.Process.Kill()
		return fmt.Errorf("waiting for %s to stop after execve: %w", cmd.Path, err)
	}
	if !st.Stopped() {
		return fmt.Errorf("%s ended before it could be recorded (%v)", cmd.Path, st)
	}
	if err := cg.add(pid); err != nil {
		cmd.Process.Kill()
		unix.PtraceDetach(pid)
		return err
	}
	if err := unix.PtraceDetach(pid); err != nil {
		cmd.Process.Kill()
		return fmt.Errorf("letting %s run: %w", cmd.Path, err)
	}
	return nil
}

// waitTree waits for cmd, then for every process left in cg; when ctx ends
// first it kills them all.
func waitTree(ctx context.Context, cmd *exec.Cmd, cg *recordCgroup) (Exit, error) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		cg.kill()
		<-done
		return Exit{}, fmt.Errorf("recording stopped: %w", ctx.Err())
	}
	exit, err := exitOf(cmd, werr)
	if err != nil {
		return exit, err
	}
	if err := waitCgroupEmpty(ctx, cg.path); err != nil {
		if ctx.Err() != nil {
			cg.kill()
			return exit, fmt.Errorf("recording stopped while descendants of the command still ran: %w", err)
		}
		return exit, err
	}
	return exit, nil
}

// exitOf turns the result of cmd.Wait into an Exit.
func exitOf(cmd *exec.Cmd, werr error) (Exit, error) {
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return Exit{}, werr
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return Exit{Code: cmd.ProcessState.ExitCode()}, nil
	}
	if ws.Signaled() {
		return Exit{Signal: int(ws.Signal())}, nil
	}
	return Exit{Code: ws.ExitStatus()}, nil
}

// reportProgress calls report with sample() every ProgressEvery until the
// returned stop is called.
func reportProgress(report func(Progress), started time.Time, sample func() Progress) (stop func()) {
	if report == nil {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				p := sample()
				p.Elapsed = time.Since(started)
				report(p)
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// addNotes writes the notes a recording carries.
func (o *Observation) addNotes() {
	for _, a := range o.ABIs {
		for _, c := range a.Calls {
			if c.Name == "clone3" && !slices.Contains(o.Notes, Clone3Note) {
				o.Notes = append(o.Notes, Clone3Note)
			}
		}
	}
}
