package testutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/unix"
)

// InCI reports whether the tests run in CI (CI=true), where every gate
// fails the test instead of skipping it: CI provides all requirements.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t with the reason, or fails it when InCI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (required when CI=true)", reason)
	}
	t.Skip(reason)
}

// RequireRoot skips t unless the effective user is root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root (euid is %d)", os.Geteuid())
	}
}

// RequireSeccomp skips t unless the kernel accepts seccomp filters.
func RequireSeccomp(t testing.TB) {
	t.Helper()
	if err := seccompFilterErr(); err != nil {
		Unavailable(t, "needs seccomp filters: %v", err)
	}
}

// RequireFilterDump skips t unless this process can read other processes'
// filters with PTRACE_SECCOMP_GET_FILTER: it must be root and run no
// seccomp filter itself (as it would inside a container).
func RequireFilterDump(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	RequireSeccomp(t)
	mode, err := unix.PrctlRet(unix.PR_GET_SECCOMP, 0)
	if err != nil || mode != unix.SECCOMP_MODE_DISABLED {
		Unavailable(t, "needs a test process without seccomp (mode %d, %v) to dump filters", mode, err)
	}
}

// seccompFilterErr probes seccomp(SECCOMP_SET_MODE_FILTER) with a null
// program: a kernel with filter support faults reading it and installs
// nothing.
func seccompFilterErr() error {
	_, err := unix.Seccomp(unix.SECCOMP_SET_MODE_FILTER, 0, nil)
	if errors.Is(err, unix.EFAULT) {
		return nil
	}
	if err == nil {
		return errors.New("kernel accepted a null program")
	}
	return err
}

var docker struct {
	once sync.Once
	err  error
}

// RequireDocker skips t unless a docker client is on PATH and its daemon
// answers `docker info` (checked once per test binary).
func RequireDocker(t testing.TB) {
	t.Helper()
	docker.once.Do(func() { docker.err = dockerInfo() })
	if docker.err != nil {
		Unavailable(t, "needs a running Docker daemon: %v", docker.err)
	}
}

func dockerInfo() error {
	path, err := exec.LookPath("docker")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker info: %w: %s", err, out)
	}
	return nil
}
