package kernel

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/unix"
)

// Exec installs prog as a seccomp filter with flags, then replaces the
// process image with the program at path (execve(2) with argv and env), the
// way a container runtime starts a workload: the new program inherits the
// filter, and its exit status and signals become this process's own. It
// returns only on error, and then nothing is installed.
//
// Everything that can be checked is checked first: the program (the
// kernel's own rules), the flags (asked of the kernel), no_new_privs or
// CAP_SYS_ADMIN, and that path is an executable file. On x86_64 the filter
// is then installed by a tiny static program (execStub) that Exec execs
// from a memfd: it makes no system call but seccomp and execve, so no Go
// runtime — no second thread, no signal handler returning through
// rt_sigreturn, no allocation — ever runs under a profile written for the
// command. (Installing from Go and then exec'ing, as Exec does on other
// architectures, lets a preemption signal land between the two, and a
// profile without rt_sigreturn then crashes the process: seen about once in
// twenty runs.) The caller sets no_new_privs first (SetNoNewPrivs) unless it
// holds CAP_SYS_ADMIN.
func Exec(prog []bpf.Instruction, flags Flags, path string, argv, env []string) error {
	if err := preflight(prog, flags, path); err != nil {
		return err
	}
	if stub := execStub(prog, flags); stub != nil {
		err := execViaStub(stub, path, argv, env)
		if !errors.Is(err, errNoProc) {
			return err
		}
	}
	return installAndExec(prog, flags, path, argv, env)
}

// preflight finds every reason the install or the exec would fail.
func preflight(prog []bpf.Instruction, flags Flags, path string) error {
	if err := bpf.Validate(prog); err != nil {
		return fmt.Errorf("install filter: %w", err)
	}
	if ok, err := HaveFlag(flags); err != nil {
		return fmt.Errorf("install filter with flags %s: %w", flags, err)
	} else if !ok {
		return fmt.Errorf("install filter with flags %s: kernel rejected the program or a flag: this kernel lacks a flag", flags)
	}
	nnp, err := NoNewPrivs()
	if err != nil {
		return err
	}
	if !nnp {
		caps, err := EffectiveCaps()
		if err != nil {
			return err
		}
		if caps&(1<<CapSysAdmin) == 0 {
			return errors.New("install filter: no_new_privs not set and no CAP_SYS_ADMIN")
		}
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Errorf("exec %s: %w", path, err)
	case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("exec %s: not an executable file", path)
	}
	return nil
}

// errNoProc means /proc is not mounted, so a memfd cannot be exec'd by path.
var errNoProc = errors.New("/proc is not mounted")

// execViaStub writes the stub to a memfd and execs it with the command.
func execViaStub(stub []byte, path string, argv, env []string) error {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return errNoProc
	}
	fd, err := unix.MemfdCreate("sysfence-exec", unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("exec %s: memfd for the filter stub: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), "sysfence-exec")
	defer f.Close()
	if _, err := f.Write(stub); err != nil {
		return fmt.Errorf("exec %s: writing the filter stub: %w", path, err)
	}
	stubArgv := append([]string{"sysfence-exec", path}, argv...)
	if err := syscall.Exec(fmt.Sprintf("/proc/self/fd/%d", fd), stubArgv, env); err != nil {
		return fmt.Errorf("exec %s through the filter stub: %w", path, err)
	}
	return nil
}

// installAndExec installs from Go on one locked OS thread and execs.
// Without TSYNC only this thread carries the filter, which is all the
// command needs: execve ends every other thread of the process.
func installAndExec(prog []bpf.Instruction, flags Flags, path string, argv, env []string) error {
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
