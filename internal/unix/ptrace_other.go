//go:build !linux

package unix

// ptrace(2) options, events and requests, with their Linux values.
const (
	PTRACE_O_TRACESYSGOOD = 0x1
	PTRACE_O_TRACEFORK    = 0x2
	PTRACE_O_TRACEVFORK   = 0x4
	PTRACE_O_TRACECLONE   = 0x8
	PTRACE_O_TRACEEXEC    = 0x10
	PTRACE_O_EXITKILL     = 0x100000

	PTRACE_EVENT_FORK  = 0x1
	PTRACE_EVENT_VFORK = 0x2
	PTRACE_EVENT_CLONE = 0x3
	PTRACE_EVENT_EXEC  = 0x4
	PTRACE_EVENT_STOP  = 0x80

	PTRACE_GET_SYSCALL_INFO     = 0x420e
	PTRACE_SYSCALL_INFO_NONE    = 0x0
	PTRACE_SYSCALL_INFO_ENTRY   = 0x1
	PTRACE_SYSCALL_INFO_EXIT    = 0x2
	PTRACE_SYSCALL_INFO_SECCOMP = 0x3
)

// waitid(2) id types and options, and the si_code values of SIGCHLD, with
// their Linux values.
const (
	P_ALL = 0x0
	P_PID = 0x1

	WEXITED   = 0x4
	WSTOPPED  = 0x2
	WNOHANG   = 0x1
	WNOWAIT   = 0x1000000
	WNOTHREAD = 0x20000000

	CLD_EXITED    = 1
	CLD_KILLED    = 2
	CLD_DUMPED    = 3
	CLD_TRAPPED   = 4
	CLD_STOPPED   = 5
	CLD_CONTINUED = 6
)

// PtraceSyscallInfo is struct ptrace_syscall_info.
type PtraceSyscallInfo struct {
	Op                 uint8
	_                  [3]uint8
	Arch               uint32
	InstructionPointer uint64
	StackPointer       uint64
	Nr                 uint64
	Args               [6]uint64
	RetData            uint32
	_                  uint32
}

// Rval is the return value of the call at a syscall-exit stop.
func (i *PtraceSyscallInfo) Rval() int64 { return int64(i.Nr) }

// IsError reports whether Rval is an error at a syscall-exit stop.
func (i *PtraceSyscallInfo) IsError() bool { return uint8(i.Args[0]) != 0 }

// PtraceGetSyscallInfo returns ErrNotSupported.
func PtraceGetSyscallInfo(tid int, info *PtraceSyscallInfo) error { return ErrNotSupported }

// PtraceSetOptions returns ErrNotSupported.
func PtraceSetOptions(tid, options int) error { return ErrNotSupported }

// PtraceSyscall returns ErrNotSupported.
func PtraceSyscall(tid, sig int) error { return ErrNotSupported }

// PtraceGetEventMsg returns ErrNotSupported.
func PtraceGetEventMsg(tid int) (uint, error) { return 0, ErrNotSupported }

// PtraceGetSigno returns ErrNotSupported.
func PtraceGetSigno(tid int) (int, error) { return 0, ErrNotSupported }

// ChildInfo is the part of the siginfo_t filled by waitid(2) that says which
// child changed state and how.
type ChildInfo struct {
	Pid    int
	Code   int
	Status int
}

// Waitid returns ErrNotSupported.
func Waitid(idType, id, options int) (ChildInfo, error) { return ChildInfo{}, ErrNotSupported }
