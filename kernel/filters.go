package kernel

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/unix"
)

// ErrNoFilter means the process runs no seccomp filter (seccomp mode is
// disabled or strict).
var ErrNoFilter = errors.New("process has no seccomp filter")

// Filters returns every seccomp filter of the running process (or thread)
// pid, in installation order: the first element is the oldest filter, the
// last one the most recently installed. The kernel runs all of them on
// each system call and the most severe verdict wins.
//
// PTRACE_SECCOMP_GET_FILTER's index 0 is the oldest filter, whatever
// ptrace(2)'s manual page says ("the most recently installed filter has
// the index number 0"): the kernel's get_nth_filter counts back from the
// newest by (count - index - 1). TestFiltersInstallationOrder pins this.
//
// It attaches to pid with PTRACE_SEIZE, stops it with PTRACE_INTERRUPT,
// reads the filters and detaches, so the process stops only briefly.
// It needs CAP_SYS_ADMIN, a caller that runs no seccomp filter itself,
// and a kernel with CONFIG_CHECKPOINT_RESTORE (Linux 4.4). Errors wrap
// ErrNoFilter when pid has no filter, and the errno otherwise (ESRCH
// when there is no such process, EPERM or EACCES without privilege).
func Filters(pid int) ([][]bpf.Instruction, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("read filters of pid %d: invalid pid", pid)
	}
	// A ptrace tracer is a thread, not a process: every request must come
	// from the thread that attached.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := stop(pid); err != nil {
		return nil, fmt.Errorf("read filters of pid %d: %w", pid, err)
	}
	filters, err := readFilters(pid)
	if derr := unix.PtraceDetach(pid); derr != nil && err == nil && !errors.Is(derr, unix.ESRCH) {
		err = fmt.Errorf("detach: %w", derr)
	}
	if err != nil {
		return nil, fmt.Errorf("read filters of pid %d: %w", pid, err)
	}
	return filters, nil
}

// stop seizes pid and waits until it sits in a ptrace stop.
func stop(pid int) error {
	if err := unix.PtraceSeize(pid); err != nil {
		return fmt.Errorf("attach: %w", attachError(err))
	}
	if err := unix.PtraceInterrupt(pid); err != nil {
		_ = unix.PtraceDetach(pid)
		return fmt.Errorf("interrupt: %w", err)
	}
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WALL)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			_ = unix.PtraceDetach(pid)
			return fmt.Errorf("wait: %w", err)
		case ws.Exited() || ws.Signaled():
			return fmt.Errorf("wait: process ended: %w", unix.ESRCH)
		case ws.Stopped():
			return nil
		}
	}
}

// readFilters reads filters from index 0, the oldest, until ENOENT.
func readFilters(pid int) ([][]bpf.Instruction, error) {
	var filters [][]bpf.Instruction
	for i := 0; ; i++ {
		n, err := unix.PtraceSeccompGetFilter(pid, i, nil)
		if errors.Is(err, unix.ENOENT) {
			return filters, nil
		}
		if err != nil {
			return nil, fmt.Errorf("get filter %d: %w", i, getFilterError(err))
		}
		buf := make([]unix.SockFilter, n)
		if _, err := unix.PtraceSeccompGetFilter(pid, i, buf); err != nil {
			return nil, fmt.Errorf("get filter %d: %w", i, getFilterError(err))
		}
		filters = append(filters, fromSock(buf))
	}
}

func attachError(err error) error {
	switch {
	case errors.Is(err, unix.ESRCH):
		return fmt.Errorf("no such process: %w", err)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("not permitted (needs CAP_SYS_PTRACE and CAP_SYS_ADMIN; is it traced already?): %w", err)
	}
	return err
}

func getFilterError(err error) error {
	switch {
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("%w: %w", ErrNoFilter, err)
	case errors.Is(err, unix.EMEDIUMTYPE):
		return fmt.Errorf("filter was not loaded as classic BPF: %w", err)
	case errors.Is(err, unix.EACCES):
		return fmt.Errorf("needs CAP_SYS_ADMIN and a caller without a seccomp filter: %w", err)
	case errors.Is(err, unix.EIO):
		return fmt.Errorf("%w: kernel lacks PTRACE_SECCOMP_GET_FILTER (CONFIG_CHECKPOINT_RESTORE): %w", ErrNotSupported, err)
	}
	return err
}
