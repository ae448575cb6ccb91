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
// The install and the exec happen on one locked OS thread. Without
// FlagTSync only this thread carries the filter, which is all the command
// needs: execve ends every other thread of the process, and the new program
// runs on this one. That is also what keeps the Go runtime's other threads
// (netpoll, sysmon, GC workers) from being denied their own calls by a
// profile written for the command, which would crash sysfence before the
// exec; with FlagTSync they are filtered too. The caller sets no_new_privs
// first (SetNoNewPrivs) unless it holds CAP_SYS_ADMIN. Between the install
// and the exec this thread itself still calls prlimit64 (Go restores
// RLIMIT_NOFILE; a denial is ignored) and execve, which the profile must
// allow.
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
