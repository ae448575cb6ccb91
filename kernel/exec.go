package kernel

import (
	"fmt"
	"runtime"
	"syscall"

	"github.com/sysfence/sysfence/bpf"
)

// Exec installs prog as a seccomp filter with flags, then replaces the
// process image with the program at path (execve(2) with argv and env), the
// way a container runtime starts a workload: the new program inherits the
// filter, and its exit status and signals become this process's own. It
// returns only on error; a failed exec leaves the filter installed, so the
// caller must then exit without running anything else it would not run
// under the filter.
//
// The install and the exec happen on one locked OS thread. Pass FlagTSync:
// a Go program is multi-threaded, and without TSYNC only this thread (and
// so the exec'd program) is filtered while the runtime's other threads are
// not. The caller sets no_new_privs first (SetNoNewPrivs) unless it holds
// CAP_SYS_ADMIN. Between the install and the exec the Go runtime still
// makes system calls (futex, sigaltstack, mmap…), so a profile that denies
// those, or execve itself, stops the process before the command starts.
func Exec(prog []bpf.Instruction, flags Flags, path string, argv, env []string) error {
	// Never unlocked: after Install this thread's filter state is what the
	// command must inherit, so no other goroutine may run on it.
	runtime.LockOSThread()
	if err := Install(prog, flags); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	if err := syscall.Exec(path, argv, env); err != nil {
		return fmt.Errorf("exec %s under the filter: %w", path, err)
	}
	return nil
}
