package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/cli"
	"github.com/sysfence/sysfence/internal/dockertest"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/kernel"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// neverCalled are calls none of the servers makes; under a generated
// profile each must fail with EPERM inside the container.
var neverCalled = []struct {
	name string
	args []uint64
}{
	{"unshare", []uint64{0x10000000}}, // CLONE_NEWUSER
	{"mount", []uint64{0, 0, 0, 0, 0}},
	{"keyctl", []uint64{0}},
	{"ptrace", []uint64{0, 0}},
}

// TestRecordDockerWorkloads is the acceptance test of the recorder: for
// each real server, `sysfence record --docker` records it while its real
// client drives it, and the same container then runs under the generated
// profile with the same load and zero client errors, while calls the
// server never made fail with EPERM.
func TestRecordDockerWorkloads(t *testing.T) {
	dockertest.Available(t)
	image := dockertest.WorkloadImage(t)
	defaultAllowed := allowedX86_64(t, profile.MustDefault())
	for _, w := range dockertest.Workloads {
		t.Run(w.Name, func(t *testing.T) {
			prof := recordWorkload(t, w, image)
			p, err := profile.Decode(prof)
			if err != nil {
				t.Fatalf("generated profile: %v\n%s", err, prof)
			}
			allowed := allowedX86_64(t, p)
			t.Logf("%s: %d x86_64 syscalls allowed, Docker's default allows %d (%.0f%%)", w.Name, allowed, defaultAllowed, 100*float64(allowed)/float64(defaultAllowed))
			if allowed*3 > defaultAllowed {
				t.Errorf("%s's profile allows %d syscalls, more than a third of the default's %d", w.Name, allowed, defaultAllowed)
			}
			replay(t, w, prof)
		})
	}
}

// recordWorkload runs `sysfence record --docker --args` on w's server
// while its client drives it, stops the server, and returns the profile.
func recordWorkload(t *testing.T, w dockertest.Workload, image string) []byte {
	out := filepath.Join(t.TempDir(), w.Name+".json")
	name := fmt.Sprintf("sysfence-e2e-%s-%d", w.Name, time.Now().UnixNano())
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	args := []string{"record", "--docker", "--args", "-o", out, "--", "-d", "--name", name, "--label", dockertest.Label}
	args = append(append(append(args, w.ServerArgs...), image), w.Server...)
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- cli.Run(args, nil, &bytes.Buffer{}, &stderr) }()

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if err := waitRunning(ctx, name, done); err != nil {
		t.Fatalf("recording %s: %v\n%s", w.Name, err, stderr.String())
	}
	if err := w.Ready(ctx, name); err != nil {
		t.Fatalf("%s not ready while recorded: %v\n%s", w.Name, err, stderr.String())
	}
	res, err := w.Load(ctx, name)
	if err != nil || res.Errors != 0 || res.Requests == 0 {
		t.Fatalf("%s load while recorded: %v, %v\n%s", w.Name, res, err, res.Output)
	}
	t.Logf("%s recorded under load: %v", w.Name, res)
	if err := exec.Command("docker", "stop", name).Run(); err != nil {
		t.Fatalf("docker stop %s: %v", name, err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("sysfence record --docker exited %d:\n%s", code, stderr.String())
		}
	case <-ctx.Done():
		t.Fatalf("sysfence record --docker did not end after the container stopped:\n%s", stderr.String())
	}
	t.Logf("%s", strings.TrimSpace(stderr.String()))
	if !strings.Contains(stderr.String(), "with ebpf") || strings.Contains(stderr.String(), "lost data") {
		t.Errorf("recording summary: %s", stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// waitRunning waits until container name runs, or record ended early.
func waitRunning(ctx context.Context, name string, done <-chan int) error {
	for {
		out, _ := exec.CommandContext(ctx, "docker", "inspect", "-f", "{{.State.Running}}", name).Output()
		if strings.TrimSpace(string(out)) == "true" {
			return nil
		}
		select {
		case code := <-done:
			return fmt.Errorf("sysfence record ended with %d before the container ran", code)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// replay runs w's server under the generated profile with the same load,
// and checks that calls it never made fail with EPERM in the container.
func replay(t *testing.T, w dockertest.Workload, prof []byte) {
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(path, prof, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := dockertest.StartWorkload(t, w, []string{"seccomp=" + path}, "")
	if err != nil {
		t.Fatalf("%s under its generated profile: %v\n%s", w.Name, err, prof)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if err := w.Ready(ctx, c.ID); err != nil {
		t.Fatalf("%s under its generated profile is not ready: %v\n%s", w.Name, err, prof)
	}
	res, err := w.Load(ctx, c.ID)
	if err != nil || res.Errors != 0 || res.Requests == 0 {
		t.Fatalf("%s load under its generated profile: %v, %v\n%s", w.Name, res, err, res.Output)
	}
	t.Logf("%s under its generated profile: %v", w.Name, res)
	checkFilterLoaded(t, c.PID)
	for _, nc := range neverCalled {
		nr, _ := syscalls.X86_64.Number(nc.name)
		errno, err := dockertest.Rawsys(ctx, c.ID, int(nr), nc.args...)
		if err != nil {
			t.Errorf("%s in the %s container: %v", nc.name, w.Name, err)
			continue
		}
		if errno != syscall.EPERM {
			t.Errorf("%s in the %s container under its generated profile: errno %d (%v), want EPERM", nc.name, w.Name, errno, errno)
		}
	}
}

// checkFilterLoaded makes sure the server really runs under a filter.
func checkFilterLoaded(t *testing.T, pid int) {
	filters, err := kernel.Filters(pid)
	if err != nil {
		t.Fatalf("reading the server's filter: %v", err)
	}
	if len(filters) == 0 {
		t.Fatalf("the server (pid %d) runs without a seccomp filter", pid)
	}
}

// allowedX86_64 counts the x86_64 system calls p allows for some argument
// values, for a container with Docker's default capabilities.
func allowedX86_64(t *testing.T, p *profile.Profile) int {
	t.Helper()
	rel, err := kernel.Release()
	if err != nil {
		t.Fatal(err)
	}
	kv, err := profile.ParseKernel(rel)
	if err != nil {
		t.Fatal(err)
	}
	res, err := profile.Resolve(p, profile.Target{Arch: syscalls.X86_64, Kernel: kv, Caps: profile.DefaultCaps()})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res.Rules {
		if _, ok := syscalls.X86_64.Number(r.Name); ok && r.Action.Kind == profile.Allow && !slices.Contains(names, r.Name) {
			names = append(names, r.Name)
		}
	}
	if res.DefaultAction.Kind == profile.Allow {
		t.Fatalf("profile allows by default")
	}
	return len(names)
}

// TestRecordRunningContainer records a redis container that is already
// running, for a fixed time while its client drives it: the recording has
// the server's request path and says that its start-up is missing.
func TestRecordRunningContainer(t *testing.T) {
	dockertest.Available(t)
	redis := dockertest.Workloads[0]
	c, err := dockertest.StartWorkload(t, redis, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := redis.Ready(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "redis.obs.json")
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run([]string{"record", "--container", c.ID, "--duration", "6s", "--args", "--format", "observation", "-o", out}, nil, &bytes.Buffer{}, &stderr)
	}()
	time.Sleep(time.Second) // let the recording start
	if res, err := redis.Load(ctx, c.ID); err != nil || res.Errors != 0 {
		t.Fatalf("load: %v %v", res, err)
	}
	if code := <-done; code != 0 {
		t.Fatalf("record --container exited %d:\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Backend string
		Notes   []string
		ABIs    []struct {
			Arch  string
			Calls []struct{ Name string }
		}
	}
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range o.ABIs {
		for _, call := range a.Calls {
			names = append(names, a.Arch+" "+call.Name)
		}
	}
	for _, want := range []string{"x86_64 epoll_wait", "x86_64 read", "x86_64 write", "x86_64 accept"} {
		if !slices.Contains(names, want) && !(want == "x86_64 accept" && slices.Contains(names, "x86_64 accept4")) {
			t.Errorf("recording lacks %s: %v", want, names)
		}
	}
	if slices.Contains(names, "x86_64 execve") {
		t.Errorf("the recording of a running container has execve (its start-up): %v", names)
	}
	if o.Backend != "ebpf" || !slices.ContainsFunc(o.Notes, func(n string) bool { return strings.Contains(n, "already running") }) {
		t.Errorf("backend %q, notes %q", o.Backend, o.Notes)
	}
}
