package recorder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sysfence/sysfence/internal/docker"
)

// RecordContainer records a running Docker container from now until ctx
// ends (Ctrl-C, or a --duration) or the container exits. What it called
// before, at its start, is not in the Observation; record --docker records
// a container from its start.
func RecordContainer(ctx context.Context, name string, opts Options) (*Observation, error) {
	if why := ebpfUnavailable(); why != nil {
		return nil, fmt.Errorf("recording a container needs the eBPF back end: %w", why)
	}
	c, err := docker.Running(ctx, name)
	if err != nil {
		return nil, err
	}
	pid, id := c.Pid, c.ID
	path, err := processCgroup(pid)
	if err != nil {
		return nil, err
	}
	cgid, err := cgroupID(path)
	if err != nil {
		return nil, err
	}
	sess, err := openEBPF(progConfig{Cgroup: cgid, Args: opts.Args})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	stopSpecializing := sess.specializeWhenLearned(cgid, path)
	defer stopSpecializing()
	started := time.Now()
	stop := reportProgress(opts.Progress, started, sess.progressOf(cgid))
	err = waitCgroupEmpty(ctx, path)
	stop()
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	if err := stopSpecializing(); err != nil {
		return nil, err
	}
	o, err := finish(sess, cgid, opts, started, fmt.Sprintf("container %s (%.12s)", name, id))
	if err != nil {
		return nil, err
	}
	o.Notes = append(o.Notes, "recorded a container that was already running: what it called before "+started.Format(time.RFC3339)+" (its start-up) is not included")
	return o, nil
}

// RecordDocker runs `docker run ARGS…` and records the container from the
// moment runc's init process installs the container's seccomp filter (or,
// with seccomp=unconfined, calls execve) until the container has exited:
// what the container's processes call, and what runc itself still calls
// under the filter, and nothing runc calls before it. With -d, the
// recording goes on after docker run returns, until the container exits.
// Cancelling ctx asks the container to stop (SIGTERM through docker run's
// signal proxy, or docker stop) and keeps what was recorded.
func RecordDocker(ctx context.Context, args []string, stdio Stdio, opts Options) (*Observation, Exit, error) {
	if why := ebpfUnavailable(); why != nil {
		return nil, Exit{}, fmt.Errorf("recording a container needs the eBPF back end: %w", why)
	}
	if slices.ContainsFunc(args, func(a string) bool { return a == "--cidfile" || strings.HasPrefix(a, "--cidfile=") }) {
		return nil, Exit{}, errors.New("--cidfile: sysfence record --docker sets its own; leave it out of the docker run arguments")
	}
	dir, err := os.MkdirTemp("", "sysfence-record-")
	if err != nil {
		return nil, Exit{}, err
	}
	defer os.RemoveAll(dir)
	cidFile := filepath.Join(dir, "cid")

	sess, err := openEBPF(progConfig{ArmOnRunc: true, Args: opts.Args})
	if err != nil {
		return nil, Exit{}, err
	}
	defer sess.Close()

	cmd := exec.Command(docker.CLI, append([]string{"run", "--cidfile", cidFile}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, Exit{}, fmt.Errorf("docker run: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	c := &dockerRun{cidFile: cidFile}
	stop := reportProgress(opts.Progress, started, func() Progress {
		if c.cgid == 0 {
			return Progress{}
		}
		return sess.progressOf(c.cgid)()
	})
	werr := c.follow(ctx, cmd, done, sess)
	stop()
	exit, err := exitOf(cmd, werr)
	if err != nil {
		return nil, exit, fmt.Errorf("docker run: %w", err)
	}
	if c.cgid == 0 {
		c.cgid, err = c.fallbackCgroup(sess)
		if err != nil {
			return nil, exit, err
		}
	}
	o, err := finish(sess, c.cgid, opts, started, fmt.Sprintf("docker run %s (container %.12s)", strings.Join(args, " "), c.id))
	return o, exit, err
}

// dockerRun follows one `docker run` and its container.
type dockerRun struct {
	cidFile string
	id      string // container id, once docker has written it
	cgroup  string // the container's cgroup directory, once it exists
	cgid    uint64
}

// follow waits for docker run to return and then for the container's
// cgroup to empty, learning the container's cgroup on the way and
// switching the session to its constant-cgroup program once runc has armed
// it.
func (c *dockerRun) follow(ctx context.Context, cmd *exec.Cmd, done <-chan error, sess *ebpfSession) error {
	var werr error
	running := true
	stopping := false
	for {
		if c.cgid == 0 {
			c.resolve()
		}
		if c.cgid != 0 && sess.special == nil {
			// Once the container is armed and has made a call, only its
			// cgroup matters, and comparing pointers is cheaper for every
			// process of the machine than looking cgroup ids up.
			if _, err := sess.specialize(c.cgid, c.cgroup); err != nil {
				return err
			}
		}
		if !running {
			if c.cgroup == "" {
				return werr // the container never started or is gone
			}
			busy, err := populated(c.cgroup)
			if err != nil {
				return err
			}
			if !busy {
				return werr
			}
		}
		select {
		case werr = <-done:
			running = false
			c.resolve()
		case <-ctx.Done():
			if !stopping {
				stopping = true
				if running {
					cmd.Process.Signal(syscall.SIGTERM)
				}
				if c.id != "" {
					go exec.Command(docker.CLI, "stop", c.id).Run()
				}
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// resolve reads the container id and finds its cgroup.
func (c *dockerRun) resolve() {
	if c.id == "" {
		data, err := os.ReadFile(c.cidFile)
		if err != nil || len(strings.TrimSpace(string(data))) == 0 {
			return
		}
		c.id = strings.TrimSpace(string(data))
	}
	root, err := cgroup2Root()
	if err != nil {
		return
	}
	for _, rel := range []string{
		"docker/" + c.id,                         // cgroupfs driver
		"system.slice/docker-" + c.id + ".scope", // systemd driver
	} {
		path := filepath.Join(root, rel)
		if id, err := cgroupID(path); err == nil {
			c.cgroup, c.cgid = path, id
			return
		}
	}
}

// fallbackCgroup is used when the container came and went before its
// cgroup could be found: the one cgroup the program armed.
func (c *dockerRun) fallbackCgroup(sess *ebpfSession) (uint64, error) {
	armed, err := sess.armedCgroups()
	if err != nil {
		return 0, err
	}
	switch len(armed) {
	case 1:
		return armed[0], nil
	case 0:
		return 0, errors.New("the container never reached its seccomp filter or execve: nothing was recorded (did docker run fail?)")
	}
	return 0, fmt.Errorf("container %.12s ended before its cgroup was found, and %d containers started meanwhile: cannot tell which recording is its", c.id, len(armed))
}

// finish reads the recording of cgid into an Observation.
func finish(sess *ebpfSession, cgid uint64, opts Options, started time.Time, target string) (*Observation, error) {
	t, err := sess.read(cgid, opts.Args)
	if err != nil {
		return nil, err
	}
	o := &Observation{Backend: "ebpf", Target: target, Started: started, Seconds: time.Since(started).Seconds(), Lost: t.lost}
	t.b.fill(o)
	o.addNotes()
	return o, nil
}

// waitCgroupEmpty returns when no process is left in the cgroup at path, or
// with ctx's error when ctx ends first.
func waitCgroupEmpty(ctx context.Context, path string) error {
	for {
		busy, err := populated(path)
		if err != nil || !busy {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
