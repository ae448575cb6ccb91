package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/kernel"
)

// Commands of the image, for Start.
var (
	// Spin runs the program that makes no system call after execve.
	Spin = []string{"/spin"}
	// Sleep runs the Go probe, which blocks until stopped.
	Sleep = []string{"/probe", "sleep"}
)

// Label marks every container the harness starts, so that leftovers of a
// killed test run can be found: docker rm -f $(docker ps -aq -f label=sysfence-test).
const Label = "sysfence-test"

// containerName returns a fresh container name.
func containerName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "sysfence-test-" + hex.EncodeToString(b[:])
}

// timeout bounds every docker command; a container whose runc init dies
// under its profile makes docker run hang, not fail.
const timeout = time.Minute

// Container is a running container of the probe image.
type Container struct {
	ID  string // full container id
	PID int    // host pid of its init process

	t testing.TB
}

// Start runs `docker run -d --rm [--security-opt seccomp=FILE] dockerArgs…
// IMAGE command…` and waits until command has replaced runc's init. A nil
// profile leaves Docker's default profile in place; any other is written
// to a file for --security-opt. An error of docker run (an invalid profile,
// say) is returned with docker's message; other failures fail t. The
// container is removed when the test ends, if Remove did not do it first.
func Start(t testing.TB, profile []byte, dockerArgs []string, command ...string) (*Container, error) {
	t.Helper()
	img := EnsureImage(t)
	name := containerName()
	args := []string{"run", "-d", "--rm", "--name", name, "--label", Label}
	if profile != nil {
		args = append(args, "--security-opt", "seccomp="+writeProfile(t, profile))
	}
	args = append(append(append(args, dockerArgs...), img), command...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := docker(ctx, nil, args...)
	if err != nil {
		// A container that failed to start stays behind as "Created".
		(&Container{ID: name, t: t}).Remove()
		return nil, err
	}
	c := &Container{ID: strings.TrimSpace(out), t: t}
	t.Cleanup(c.Remove)
	if c.PID, err = c.waitExec(ctx, filepath.Base(command[0])); err != nil {
		t.Fatalf("container %.12s: %v", c.ID, err)
	}
	return c, nil
}

// RunWithProfile starts a container running Spin under profile (nil for
// Docker's default) with the extra docker run arguments (--cap-add X, …),
// reads the seccomp filters the kernel gave it, oldest first, removes it
// and returns the filters. Any failure fails t.
func RunWithProfile(t testing.TB, profile []byte, extraDockerArgs ...string) [][]bpf.Instruction {
	t.Helper()
	c, err := Start(t, profile, extraDockerArgs, Spin...)
	if err != nil {
		t.Fatalf("start container: %v", err)
	}
	defer c.Remove()
	filters, err := kernel.Filters(c.PID)
	if err != nil {
		t.Fatalf("container %.12s: %v", c.ID, err)
	}
	return filters
}

// RunProbe runs `/probe probeArgs…` in a container under profile (nil
// for Docker's default) and returns its standard output, such as
// "ret=-1 errno=1" for `syscall NR …`. The error carries docker's and the
// probe's messages.
func RunProbe(t testing.TB, profile []byte, dockerArgs []string, probeArgs ...string) (string, error) {
	t.Helper()
	img := EnsureImage(t)
	name := containerName()
	args := []string{"run", "--rm", "--name", name, "--label", Label}
	if profile != nil {
		args = append(args, "--security-opt", "seccomp="+writeProfile(t, profile))
	}
	args = append(append(append(args, dockerArgs...), img, "/probe"), probeArgs...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	defer (&Container{ID: name, t: t}).Remove()
	return docker(ctx, nil, args...)
}

// Remove removes the container; removing it twice is harmless.
func (c *Container) Remove() {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err := docker(ctx, nil, "rm", "-f", c.ID)
	// --rm may have removed it, or be removing it, already.
	if err != nil && !strings.Contains(err.Error(), "No such container") && !strings.Contains(err.Error(), "already in progress") {
		c.t.Logf("remove container %.12s: %v", c.ID, err)
	}
}

// waitExec returns the container's host pid once its process is named comm,
// that is once runc's init has executed the command (the filter is in
// place by then).
func (c *Container) waitExec(ctx context.Context, comm string) (int, error) {
	out, err := docker(ctx, nil, "inspect", "-f", "{{.State.Pid}} {{.State.Status}} {{.State.ExitCode}} {{.State.Error}}", c.ID)
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(out)
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("container is not running: %s", strings.TrimSpace(out))
	}
	for ctx.Err() == nil {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			return 0, fmt.Errorf("container process %d ended: %w", pid, err)
		}
		if strings.TrimSpace(string(b)) == comm {
			return pid, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, errors.New("container process did not start its command in time")
}

func writeProfile(t testing.TB, profile []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seccomp.json")
	if err := os.WriteFile(path, profile, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
