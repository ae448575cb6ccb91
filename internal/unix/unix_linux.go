//go:build linux

package unix

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Errno values the kernel package interprets.
const (
	EACCES      = unix.EACCES
	EBUSY       = unix.EBUSY
	ECHILD      = unix.ECHILD
	EFAULT      = unix.EFAULT
	EINTR       = unix.EINTR
	EINVAL      = unix.EINVAL
	EMEDIUMTYPE = unix.EMEDIUMTYPE
	ENOENT      = unix.ENOENT
	ENOMEM      = unix.ENOMEM
	ENOSYS      = unix.ENOSYS
	ENOTSUP     = unix.ENOTSUP
	EIO         = unix.EIO
	EOPNOTSUPP  = unix.EOPNOTSUPP
	EPERM       = unix.EPERM
	ESRCH       = unix.ESRCH
)

// prctl(2), seccomp(2) and ptrace(2) constants.
const (
	PR_GET_NO_NEW_PRIVS = unix.PR_GET_NO_NEW_PRIVS
	PR_SET_NO_NEW_PRIVS = unix.PR_SET_NO_NEW_PRIVS
	PR_GET_SECCOMP      = unix.PR_GET_SECCOMP

	SECCOMP_MODE_DISABLED = unix.SECCOMP_MODE_DISABLED
	SECCOMP_MODE_STRICT   = unix.SECCOMP_MODE_STRICT
	SECCOMP_MODE_FILTER   = unix.SECCOMP_MODE_FILTER

	SECCOMP_SET_MODE_STRICT  = unix.SECCOMP_SET_MODE_STRICT
	SECCOMP_SET_MODE_FILTER  = unix.SECCOMP_SET_MODE_FILTER
	SECCOMP_GET_ACTION_AVAIL = unix.SECCOMP_GET_ACTION_AVAIL
	SECCOMP_GET_NOTIF_SIZES  = unix.SECCOMP_GET_NOTIF_SIZES

	SECCOMP_FILTER_FLAG_TSYNC              = unix.SECCOMP_FILTER_FLAG_TSYNC
	SECCOMP_FILTER_FLAG_LOG                = unix.SECCOMP_FILTER_FLAG_LOG
	SECCOMP_FILTER_FLAG_SPEC_ALLOW         = unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
	SECCOMP_FILTER_FLAG_NEW_LISTENER       = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	SECCOMP_FILTER_FLAG_TSYNC_ESRCH        = unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

	PTRACE_SECCOMP_GET_FILTER = unix.PTRACE_SECCOMP_GET_FILTER

	WALL = unix.WALL
)

// SYS_SECCOMP is seccomp(2)'s number on the build architecture.
const SYS_SECCOMP = unix.SYS_SECCOMP

// Errno is a raw error number returned by the kernel.
type Errno = syscall.Errno

// SockFilter is struct sock_filter, one classic BPF instruction.
type SockFilter = unix.SockFilter

// SockFprog is struct sock_fprog, a program handed to seccomp(2).
type SockFprog = unix.SockFprog

// WaitStatus is the status reported by Wait4.
type WaitStatus = unix.WaitStatus

// Prctl calls prctl(2).
func Prctl(option int, arg2, arg3, arg4, arg5 uintptr) error {
	return unix.Prctl(option, arg2, arg3, arg4, arg5)
}

// PrctlRet calls prctl(2) and returns its result, for options such as
// PR_GET_SECCOMP that answer through the return value.
func PrctlRet(option int, arg2 uintptr) (int, error) {
	r, _, errno := unix.Syscall6(unix.SYS_PRCTL, uintptr(option), arg2, 0, 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// Seccomp calls seccomp(2) with an operation, flags and an argument pointer.
func Seccomp(op, flags uintptr, args unsafe.Pointer) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, op, flags, uintptr(args))
	if errno != 0 {
		return int(r), errno
	}
	return int(r), nil
}

// PtraceSeize attaches to pid without stopping it (PTRACE_SEIZE).
func PtraceSeize(pid int) error { return unix.PtraceSeize(pid) }

// PtraceAttach attaches to pid and sends it SIGSTOP (PTRACE_ATTACH).
func PtraceAttach(pid int) error { return unix.PtraceAttach(pid) }

// PtraceInterrupt stops a seized tracee (PTRACE_INTERRUPT).
func PtraceInterrupt(pid int) error { return unix.PtraceInterrupt(pid) }

// PtraceDetach detaches from a stopped tracee and lets it run (PTRACE_DETACH).
func PtraceDetach(pid int) error { return unix.PtraceDetach(pid) }

// PtraceSeccompGetFilter copies the index-th seccomp filter of a stopped
// tracee into out and returns its length in instructions. With out empty it
// only returns the length. Index 0 is the oldest filter.
func PtraceSeccompGetFilter(pid, index int, out []SockFilter) (int, error) {
	var p unsafe.Pointer
	if len(out) > 0 {
		p = unsafe.Pointer(&out[0])
	}
	r, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER,
		uintptr(pid), uintptr(index), uintptr(p), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// Wait4 waits for a state change of pid.
func Wait4(pid int, status *WaitStatus, options int) (int, error) {
	return unix.Wait4(pid, status, options, nil)
}

// RawSyscall6 makes a system call without telling the Go scheduler; the
// kernel tests use it to issue arbitrary numbers and arguments.
func RawSyscall6(nr, a0, a1, a2, a3, a4, a5 uintptr) (r1, r2 uintptr, err Errno) {
	return unix.RawSyscall6(nr, a0, a1, a2, a3, a4, a5)
}

// AllThreadsPrctl calls prctl(2) on every OS thread of the process, so that
// per-thread state such as no_new_privs holds wherever Go schedules the
// caller next. It fails with ENOTSUP in programs built with cgo.
func AllThreadsPrctl(option int, arg2 uintptr) error {
	_, _, errno := syscall.AllThreadsSyscall(unix.SYS_PRCTL, uintptr(option), arg2, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// Gettid returns the caller's thread id.
func Gettid() int { return unix.Gettid() }
