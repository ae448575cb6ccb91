//go:build !linux

package unix

import (
	"fmt"
	"unsafe"
)

// Errno is a raw Linux error number; on this system none is ever returned.
type Errno uintptr

func (e Errno) Error() string { return fmt.Sprintf("errno %d", uintptr(e)) }

// Errno values the kernel package interprets, with their Linux numbers.
const (
	EACCES      Errno = 0xd
	EBUSY       Errno = 0x10
	ECHILD      Errno = 0xa
	EFAULT      Errno = 0xe
	EINTR       Errno = 0x4
	EINVAL      Errno = 0x16
	EMEDIUMTYPE Errno = 0x7c
	ENOENT      Errno = 0x2
	ENOMEM      Errno = 0xc
	ENOSYS      Errno = 0x26
	ENOTSUP     Errno = 0x5f
	EIO         Errno = 0x5
	EOPNOTSUPP  Errno = 0x5f
	EPERM       Errno = 0x1
	ESRCH       Errno = 0x3
)

// prctl(2), seccomp(2) and ptrace(2) constants, with their Linux values.
const (
	PR_GET_NO_NEW_PRIVS = 0x27
	PR_SET_NO_NEW_PRIVS = 0x26
	PR_GET_SECCOMP      = 0x15

	SECCOMP_MODE_DISABLED = 0x0
	SECCOMP_MODE_STRICT   = 0x1
	SECCOMP_MODE_FILTER   = 0x2

	SECCOMP_SET_MODE_STRICT  = 0x0
	SECCOMP_SET_MODE_FILTER  = 0x1
	SECCOMP_GET_ACTION_AVAIL = 0x2
	SECCOMP_GET_NOTIF_SIZES  = 0x3

	SECCOMP_FILTER_FLAG_TSYNC              = 0x1
	SECCOMP_FILTER_FLAG_LOG                = 0x2
	SECCOMP_FILTER_FLAG_SPEC_ALLOW         = 0x4
	SECCOMP_FILTER_FLAG_NEW_LISTENER       = 0x8
	SECCOMP_FILTER_FLAG_TSYNC_ESRCH        = 0x10
	SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 0x20

	PTRACE_SECCOMP_GET_FILTER = 0x420c

	WALL = 0x40000000
)

// SYS_SECCOMP is seccomp(2)'s number; -1 here, where there is none.
const SYS_SECCOMP = -1

// SockFilter is struct sock_filter, one classic BPF instruction.
type SockFilter struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// SockFprog is struct sock_fprog, a program handed to seccomp(2).
type SockFprog struct {
	Len    uint16
	Filter *SockFilter
}

// WaitStatus is the status reported by Wait4.
type WaitStatus uint32

// Prctl returns ErrNotSupported.
func Prctl(option int, arg2, arg3, arg4, arg5 uintptr) error { return ErrNotSupported }

// PrctlRet returns ErrNotSupported.
func PrctlRet(option int, arg2 uintptr) (int, error) { return 0, ErrNotSupported }

// AllThreadsPrctl returns ErrNotSupported.
func AllThreadsPrctl(option int, arg2 uintptr) error { return ErrNotSupported }

// Seccomp returns ErrNotSupported.
func Seccomp(op, flags uintptr, args unsafe.Pointer) (int, error) { return 0, ErrNotSupported }

// PtraceSeize returns ErrNotSupported.
func PtraceSeize(pid int) error { return ErrNotSupported }

// PtraceAttach returns ErrNotSupported.
func PtraceAttach(pid int) error { return ErrNotSupported }

// PtraceInterrupt returns ErrNotSupported.
func PtraceInterrupt(pid int) error { return ErrNotSupported }

// PtraceDetach returns ErrNotSupported.
func PtraceDetach(pid int) error { return ErrNotSupported }

// PtraceSeccompGetFilter returns ErrNotSupported.
func PtraceSeccompGetFilter(pid, index int, out []SockFilter) (int, error) {
	return 0, ErrNotSupported
}

// Wait4 returns ErrNotSupported.
func Wait4(pid int, status *WaitStatus, options int) (int, error) { return 0, ErrNotSupported }

// RawSyscall6 returns ENOSYS.
func RawSyscall6(nr, a0, a1, a2, a3, a4, a5 uintptr) (r1, r2 uintptr, err Errno) {
	return ^uintptr(0), 0, ENOSYS
}

// Stopped reports false: nothing ever stops here.
func (WaitStatus) Stopped() bool { return false }

// Exited reports false.
func (WaitStatus) Exited() bool { return false }

// Signaled reports false.
func (WaitStatus) Signaled() bool { return false }

// Gettid returns -1: there are no Linux thread ids here.
func Gettid() int { return -1 }
