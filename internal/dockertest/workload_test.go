package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/testutil"
)

// TestWorkloadsRunUnderDefaultProfile: each server starts under Docker's
// default profile, serves its client's load without an error, and stops
// on docker stop; /rawsys in its container makes the calls it is asked
// for, and the default profile refuses unshare and keyctl.
func TestWorkloadsRunUnderDefaultProfile(t *testing.T) {
	t.Parallel()
	start := time.Now()
	WorkloadImage(t)
	t.Logf("WorkloadImage: %v", time.Since(start).Round(time.Millisecond))
	// One after the other: the loads' figures mean more without
	// competition for the two CPUs.
	for _, w := range Workloads {
		t.Run(w.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			c, err := StartWorkload(t, w, nil, "")
			if err != nil {
				t.Fatalf("start %s: %v", w.Name, err)
			}
			begin := time.Now()
			if err := w.Ready(ctx, c.ID); err != nil {
				t.Fatalf("%s not ready: %v", w.Name, err)
			}
			ready := time.Since(begin)
			begin = time.Now()
			res, err := w.Load(ctx, c.ID)
			if err != nil || res.Errors != 0 || res.Requests <= 0 {
				t.Fatalf("%s load: %v, %v\n%s", w.Name, res, err, tail(res.Output, 30))
			}
			t.Logf("%s: ready after %v; load %v in %v", w.Name, ready.Round(time.Millisecond), res, time.Since(begin).Round(time.Millisecond))

			probes := []struct {
				args []string
				want int
			}{
				{[]string{"/rawsys", "39"}, 0},                // getpid
				{[]string{"/rawsys", "272", "0x10000000"}, 1}, // unshare(CLONE_NEWUSER): EPERM
				{[]string{"/rawsys", "63", "0"}, 14},          // uname(NULL): EFAULT, allowed
				{[]string{"/rawsys", "nonsense"}, 255},        // usage
			}
			for _, p := range probes {
				code, out, err := Exec(ctx, c.ID, p.args...)
				if err != nil || code != p.want || out != "" {
					t.Errorf("docker exec %s: exit %d, output %q, %v; want exit %d and no output", strings.Join(p.args, " "), code, out, err, p.want)
				}
			}
			// keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING)
			if errno, err := Rawsys(ctx, c.ID, 250, 0, uint64(0xfffffffd)); err != nil || errno != syscall.EPERM {
				t.Errorf("Rawsys keyctl: %v, %v; want EPERM", errno, err)
			}

			// The server is the container's main process: docker stop
			// ends it with SIGTERM, well before docker's kill.
			begin = time.Now()
			if _, err := docker(ctx, nil, "stop", "-t", "20", c.ID); err != nil {
				t.Fatal(err)
			}
			state, err := docker(ctx, nil, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", c.ID)
			if err != nil || strings.Fields(state)[0] != "exited" || strings.Fields(state)[1] == "137" {
				t.Errorf("after docker stop: %q, %v; want exited on SIGTERM\n%s", state, err, serverLogs(c.ID))
			}
			t.Logf("%s: docker stop took %v, state %s", w.Name, time.Since(begin).Round(time.Millisecond), strings.TrimSpace(state))
		})
	}
}

// TestExecDockerError: docker exec into a missing container is an error,
// not an exit status (it would read as EPERM).
func TestExecDockerError(t *testing.T) {
	t.Parallel()
	Available(t)
	code, out, err := Exec(context.Background(), "sysfence-test-no-such-container", "/rawsys", "39")
	if err == nil {
		t.Fatalf("Exec in a missing container: exit %d, output %q, no error", code, out)
	}
	t.Logf("Exec: %v", err)
}

// TestRawsysOnlyItsCall: under strace, rawsys makes execve, the call it
// is given and exit_group, nothing else, and exits with the errno.
func TestRawsysOnlyItsCall(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("rawsys is Linux x86_64 code")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		testutil.Unavailable(t, "needs strace: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bin, err := buildRawsys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rawsys := filepath.Join(dir, "rawsys")
	if err := os.WriteFile(rawsys, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("rawsys: %d bytes", len(bin))
	tests := []struct {
		args   []string
		status int
		calls  []string
		line   string // part of the call's strace line
	}{
		{[]string{"39"}, 0, []string{"execve", "getpid", "exit_group"}, "getpid()"},
		{[]string{"63", "0"}, 14, []string{"execve", "uname", "exit_group"}, "uname(NULL)"}, // EFAULT
		{[]string{"0x3", "-1"}, 9, []string{"execve", "close", "exit_group"}, "close(-1)"},  // EBADF
		// All six argument registers: flags (r10) make the call succeed,
		// the fd (r8) and offset (r9) show in strace's line.
		{[]string{"9", "0", "4096", "0", "0x22", "-1", "0x1000"}, 0, []string{"execve", "mmap", "exit_group"},
			"mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x1000)"},
		{[]string{"9", "0", "4096", "0", "0x2", "-1", "0"}, 9, []string{"execve", "mmap", "exit_group"}, "MAP_PRIVATE, -1, 0)"},
		{[]string{"0xZ"}, 255, []string{"execve", "exit_group"}, "exit_group(255)"},
		{nil, 255, []string{"execve", "exit_group"}, "exit_group(255)"},
		{[]string{"1", "2", "3", "4", "5", "6", "7", "8"}, 255, []string{"execve", "exit_group"}, "exit_group(255)"},
	}
	for i, tt := range tests {
		log := filepath.Join(dir, "strace."+strconv.Itoa(i))
		cmd := exec.CommandContext(ctx, strace, append([]string{"-f", "-qq", "-o", log, rawsys}, tt.args...)...)
		out, err := cmd.CombinedOutput()
		status := 0
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			status = exitErr.ExitCode()
		} else if err != nil {
			t.Fatalf("strace rawsys %v: %v", tt.args, err)
		}
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		var calls []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			_, line, _ = strings.Cut(line, " ") // the pid
			if name, _, ok := strings.Cut(strings.TrimSpace(line), "("); ok && !strings.HasPrefix(name, "+++") {
				calls = append(calls, name)
			}
		}
		if status != tt.status || len(out) != 0 || !reflect.DeepEqual(calls, tt.calls) || !strings.Contains(string(b), tt.line) {
			t.Errorf("rawsys %v: status %d, output %q, calls %v; want status %d, no output, calls %v with %q\n%s",
				tt.args, status, out, calls, tt.status, tt.calls, tt.line, b)
		}
	}
}

func TestAptMirrors(t *testing.T) {
	list := `# comment
deb http://deb.debian.org/debian bookworm main
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main contrib
deb http://security.debian.org/debian-security bookworm-security main
deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main
`
	want := []string{"http://deb.debian.org/debian", "http://mirror.example/debian/"}
	if got := aptMirrors(list, false, "bookworm"); !reflect.DeepEqual(got, want) {
		t.Errorf("one-line sources: %v, want %v", got, want)
	}
	sources := `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Enabled: no
`
	want = []string{"http://deb.debian.org/debian"}
	if got := aptMirrors(sources, true, "bookworm"); !reflect.DeepEqual(got, want) {
		t.Errorf("deb822 sources: %v, want %v", got, want)
	}
}

func TestAppendToTar(t *testing.T) {
	var in bytes.Buffer
	w := tar.NewWriter(&in)
	for _, f := range []struct{ name, body string }{{"./etc/hostname", "box\n"}, {"./rawsys", "old"}} {
		if err := w.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f.body))
	}
	_ = w.WriteHeader(&tar.Header{Name: "./bin/sh", Linkname: "dash", Typeflag: tar.TypeSymlink})
	_ = w.Close()
	var out bytes.Buffer
	if err := appendToTar(&out, &in, "rawsys", []byte("new")); err != nil {
		t.Fatal(err)
	}
	r := tar.NewReader(&out)
	var got []string
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r)
		got = append(got, hdr.Name+"="+string(body)+hdr.Linkname)
	}
	want := []string{"./etc/hostname=box\n", "./bin/sh=dash", "./rawsys=new"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("appended tar: %q, want %q", got, want)
	}
	if err := appendToTar(io.Discard, strings.NewReader("not a tar, not a tar at all"), "x", nil); err == nil {
		t.Error("appendToTar read garbage without an error")
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	if got := unescapeMountinfo(`/var/cache/a\040b\134c`); got != `/var/cache/a b\c` {
		t.Errorf("unescape: %q", got)
	}
}

// TestStartWorkloadNameInUse: a name already taken is docker run's error,
// and the container holding it is left alone.
func TestStartWorkloadNameInUse(t *testing.T) {
	t.Parallel()
	first, err := StartWorkload(t, Workloads[0], nil, "")
	if err != nil {
		t.Fatal(err)
	}
	name, err := docker(context.Background(), nil, "inspect", "-f", "{{.Name}}", first.ID)
	if err != nil {
		t.Fatal(err)
	}
	name = strings.TrimPrefix(strings.TrimSpace(name), "/")
	if c, err := StartWorkload(t, Workloads[0], nil, name); err == nil {
		t.Fatalf("a second container %.12s took the name %s", c.ID, name)
	}
	if code, _, err := Exec(context.Background(), first.ID, "/rawsys", "39"); err != nil || code != 0 {
		t.Errorf("the first container no longer runs: exit %d, %v", code, err)
	}
}
