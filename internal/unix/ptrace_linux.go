//go:build linux

package unix

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// ptrace(2) options, events and requests the ptrace recorder uses.
const (
	PTRACE_O_TRACESYSGOOD = unix.PTRACE_O_TRACESYSGOOD
	PTRACE_O_TRACEFORK    = unix.PTRACE_O_TRACEFORK
	PTRACE_O_TRACEVFORK   = unix.PTRACE_O_TRACEVFORK
	PTRACE_O_TRACECLONE   = unix.PTRACE_O_TRACECLONE
	PTRACE_O_TRACEEXEC    = unix.PTRACE_O_TRACEEXEC
	PTRACE_O_EXITKILL     = unix.PTRACE_O_EXITKILL

	PTRACE_EVENT_FORK  = unix.PTRACE_EVENT_FORK
	PTRACE_EVENT_VFORK = unix.PTRACE_EVENT_VFORK
	PTRACE_EVENT_CLONE = unix.PTRACE_EVENT_CLONE
	PTRACE_EVENT_EXEC  = unix.PTRACE_EVENT_EXEC
	PTRACE_EVENT_STOP  = unix.PTRACE_EVENT_STOP

	PTRACE_GET_SYSCALL_INFO     = unix.PTRACE_GET_SYSCALL_INFO
	PTRACE_SYSCALL_INFO_NONE    = unix.PTRACE_SYSCALL_INFO_NONE
	PTRACE_SYSCALL_INFO_ENTRY   = unix.PTRACE_SYSCALL_INFO_ENTRY
	PTRACE_SYSCALL_INFO_EXIT    = unix.PTRACE_SYSCALL_INFO_EXIT
	PTRACE_SYSCALL_INFO_SECCOMP = unix.PTRACE_SYSCALL_INFO_SECCOMP
)

// waitid(2) id types and options, and the si_code values of SIGCHLD it
// reports.
const (
	P_ALL = unix.P_ALL
	P_PID = unix.P_PID

	WEXITED   = unix.WEXITED
	WSTOPPED  = unix.WSTOPPED
	WNOHANG   = unix.WNOHANG
	WNOWAIT   = unix.WNOWAIT
	WNOTHREAD = unix.WNOTHREAD

	CLD_EXITED    = 1 // exited; Status is the exit code
	CLD_KILLED    = 2 // killed by signal Status
	CLD_DUMPED    = 3 // killed by signal Status, dumped core
	CLD_TRAPPED   = 4 // ptrace stop; Status is the stop code (signal | event<<8)
	CLD_STOPPED   = 5 // stopped by signal Status
	CLD_CONTINUED = 6 // continued by SIGCONT
)

// PtraceSyscallInfo is struct ptrace_syscall_info as PTRACE_GET_SYSCALL_INFO
// fills it on x86_64 (and every 64-bit kernel): Op says which of Entry,
// Exit or Seccomp is valid.
type PtraceSyscallInfo struct {
	Op                 uint8 // PTRACE_SYSCALL_INFO_*
	_                  [3]uint8
	Arch               uint32 // AUDIT_ARCH_* of the call, as seccomp sees it
	InstructionPointer uint64
	StackPointer       uint64
	// Entry and Seccomp: Nr, then Args; Exit: Nr holds rval, the low byte
	// of Args[0] is_error. Read them through the methods.
	Nr      uint64
	Args    [6]uint64
	RetData uint32 // seccomp only: SECCOMP_RET_DATA
	_       uint32
}

// Rval is the return value of the call at a syscall-exit stop.
func (i *PtraceSyscallInfo) Rval() int64 { return int64(i.Nr) }

// IsError reports whether Rval is an error at a syscall-exit stop.
func (i *PtraceSyscallInfo) IsError() bool { return uint8(i.Args[0]) != 0 }

// PtraceGetSyscallInfo reads what a tracee stopped at a syscall stop is doing
// (PTRACE_GET_SYSCALL_INFO, Linux 5.3). Kernels without it fail with EIO.
func PtraceGetSyscallInfo(tid int, info *PtraceSyscallInfo) error {
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GET_SYSCALL_INFO,
		uintptr(tid), unsafe.Sizeof(*info), uintptr(unsafe.Pointer(info)), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// PtraceSetOptions sets the PTRACE_O_* options of a stopped tracee.
func PtraceSetOptions(tid, options int) error { return unix.PtraceSetOptions(tid, options) }

// PtraceSyscall resumes a stopped tracee until its next syscall entry or
// exit, delivering signal sig unless it is 0 (PTRACE_SYSCALL).
func PtraceSyscall(tid, sig int) error { return unix.PtraceSyscall(tid, sig) }

// PtraceGetEventMsg returns the message of the ptrace event a tracee is
// stopped at: the new task's id for fork, vfork and clone, the former
// thread id for exec.
func PtraceGetEventMsg(tid int) (uint, error) { return unix.PtraceGetEventMsg(tid) }

// PtraceGetSigno returns the signal number of the signal-delivery stop a
// tracee is in (PTRACE_GETSIGINFO). It fails with EINVAL in a group-stop,
// which is how a tracer not using PTRACE_SEIZE tells the two apart.
func PtraceGetSigno(tid int) (int, error) {
	var si unix.Siginfo
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGINFO,
		uintptr(tid), 0, uintptr(unsafe.Pointer(&si)), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(si.Signo), nil
}

// ChildInfo is the part of the siginfo_t filled by waitid(2) that says which
// child changed state and how.
type ChildInfo struct {
	Pid    int // 0 when WNOHANG found nothing
	Code   int // CLD_*
	Status int // exit code, signal or ptrace stop code, depending on Code
}

// siginfoChild is siginfo_t as waitid(2) fills it for SIGCHLD on Linux.
type siginfoChild struct {
	Signo  int32
	Errno  int32
	Code   int32
	_      int32
	Pid    int32
	UID    uint32
	Status int32
	_      [128 - 28]byte
}

// Waitid waits for a state change of a child or tracee (waitid(2)) and
// returns what changed; with WNOWAIT in options the change stays waitable.
func Waitid(idType, id, options int) (ChildInfo, error) {
	var si siginfoChild
	_, _, errno := unix.Syscall6(unix.SYS_WAITID, uintptr(idType), uintptr(id),
		uintptr(unsafe.Pointer(&si)), uintptr(options), 0, 0)
	if errno != 0 {
		return ChildInfo{}, errno
	}
	return ChildInfo{Pid: int(si.Pid), Code: int(si.Code), Status: int(si.Status)}, nil
}
