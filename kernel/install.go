package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/unix"
)

// ErrNotSupported means the system or the running kernel lacks the feature.
var ErrNotSupported = unix.ErrNotSupported

// Flags are the SECCOMP_FILTER_FLAG_* bits given to seccomp(2) with a filter.
type Flags uint32

// Filter flags.
const (
	// FlagTSync applies the filter to every thread of the process
	// (SECCOMP_FILTER_FLAG_TSYNC, Linux 3.17). A Go program is always
	// multi-threaded, so installing without it filters one OS thread only.
	FlagTSync Flags = unix.SECCOMP_FILTER_FLAG_TSYNC
	// FlagLog logs every action except ALLOW (SECCOMP_FILTER_FLAG_LOG, 4.14).
	FlagLog Flags = unix.SECCOMP_FILTER_FLAG_LOG
	// FlagSpecAllow leaves speculative store bypass mitigation off
	// (SECCOMP_FILTER_FLAG_SPEC_ALLOW, 4.17).
	FlagSpecAllow Flags = unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagTSync, "SECCOMP_FILTER_FLAG_TSYNC"},
	{FlagLog, "SECCOMP_FILTER_FLAG_LOG"},
	{FlagSpecAllow, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
	{FlagNewListener, "SECCOMP_FILTER_FLAG_NEW_LISTENER"},
	{FlagTSyncESRCH, "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"},
	{FlagWaitKillableRecv, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
}

// String returns the flags' kernel names joined by "|", or "0".
func (f Flags) String() string {
	var names []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("0x%x", uint32(f)))
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

// SetNoNewPrivs sets no_new_privs on every thread of the process, so that
// Install works without CAP_SYS_ADMIN. It cannot be undone. In a program
// that links cgo (sysfence does: the net package, through cobra's pflag)
// the kernel call can reach only the calling thread, so SetNoNewPrivs then
// locks the calling goroutine to that thread for good: whatever it does
// next (Install, exec) runs with no_new_privs set. Other goroutines may
// not have it; call SetNoNewPrivs on the goroutine that installs.
func SetNoNewPrivs() error {
	err := unix.AllThreadsPrctl(unix.PR_SET_NO_NEW_PRIVS, 1)
	if errors.Is(err, unix.ENOTSUP) {
		runtime.LockOSThread() // never unlocked: see above
		err = unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	}
	if err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}

// NoNewPrivs reports whether no_new_privs is set on the calling thread.
func NoNewPrivs() (bool, error) {
	r, err := unix.PrctlRet(unix.PR_GET_NO_NEW_PRIVS, 0)
	if err != nil {
		return false, fmt.Errorf("get no_new_privs: %w", err)
	}
	return r == 1, nil
}

// Install loads prog as a seccomp filter with seccomp(SECCOMP_SET_MODE_FILTER).
// The kernel requires no_new_privs (see SetNoNewPrivs) or CAP_SYS_ADMIN.
// Without FlagTSync the filter applies to the calling OS thread and the
// threads it later creates, so the caller should hold runtime.LockOSThread.
// Filters stack: a process runs every filter it has and the most severe
// verdict wins; none can be removed.
func Install(prog []bpf.Instruction, flags Flags) error {
	if len(prog) == 0 || len(prog) > bpf.MaxInstructions {
		return fmt.Errorf("install filter: program has %d instructions, want 1 to %d", len(prog), bpf.MaxInstructions)
	}
	insns := toSock(prog)
	fprog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	r, err := unix.Seccomp(unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), unsafe.Pointer(&fprog))
	runtime.KeepAlive(insns)
	if err != nil {
		return fmt.Errorf("install filter with flags %s: %w", flags, installError(err))
	}
	if r > 0 && flags&FlagTSync != 0 {
		// With TSYNC the kernel answers the id of a thread it could not
		// synchronize, one that already runs an unrelated filter.
		return fmt.Errorf("install filter: thread %d cannot be synchronized", r)
	}
	return nil
}

// installError adds the likely cause to an errno from seccomp(2).
func installError(err error) error {
	switch {
	case errors.Is(err, unix.EACCES):
		return fmt.Errorf("no_new_privs not set and no CAP_SYS_ADMIN: %w", err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("kernel rejected the program or a flag: %w", err)
	case errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("%w: %w", ErrNotSupported, err)
	case errors.Is(err, unix.ENOMEM):
		// MAX_INSNS_PER_PATH: the kernel refuses a filter when the
		// filters stacked on the thread, with 4 instructions of overhead
		// each, would exceed 32768 instructions.
		return fmt.Errorf("kernel refused the filter: the filters already installed plus this one exceed 32768 instructions (4 more per filter): %w", err)
	}
	return err
}

func toSock(prog []bpf.Instruction) []unix.SockFilter {
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		out[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out
}

func fromSock(insns []unix.SockFilter) []bpf.Instruction {
	out := make([]bpf.Instruction, len(insns))
	for i, in := range insns {
		out[i] = bpf.Instruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out
}
