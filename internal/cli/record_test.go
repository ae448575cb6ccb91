package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/recorder"
)

// recordCLI runs `sysfence ARGS` in this process (record installs no filter
// in its own process) and returns the exit code and both outputs.
func recordCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRecordBadInput(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing", []string{"record"}, ExitUsage, "nothing to record"},
		{"missing command", []string{"record", "--", "/no/such/sysfence-cmd"}, ExitFailure, `command "/no/such/sysfence-cmd": no such file or directory`},
		{"unwritable output", []string{"record", "-o", "/no/such/dir/p.json", "--", "touch", marker}, ExitFailure, "-o /no/such/dir/p.json: cannot write there"},
		{"output is a directory", []string{"record", "-o", dir, "--", "touch", marker}, ExitFailure, "is a directory"},
		{"bad format", []string{"record", "--format", "yaml", "--", "true"}, ExitUsage, `--format: unknown format "yaml"`},
		{"bad backend", []string{"record", "--backend", "dtrace", "--", "true"}, ExitUsage, `--backend: unknown back end "dtrace"`},
		{"container and command", []string{"record", "--container", "web", "--", "true"}, ExitUsage, "--container records a running container"},
		{"docker without args", []string{"record", "--docker"}, ExitUsage, "--docker needs the docker run arguments"},
		{"ptrace for containers", []string{"record", "--backend", "ptrace", "--container", "web"}, ExitUsage, "containers are recorded with eBPF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := recordCLI(c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.code, c.want)
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a refused recording ran its command")
	}
}

func TestRecordContainerNotRunning(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	if err := recorder.EBPFReady(); err != nil {
		testutil.Unavailable(t, "eBPF recording: %v", err)
	}
	code, _, stderr := recordCLI("record", "--container", "sysfence-no-such-container")
	if code != ExitFailure || !strings.Contains(stderr, "container sysfence-no-such-container: ") || !strings.Contains(stderr, "No such container") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming the container", code, stderr)
	}
}

// TestRecordWritesProfile records a command through the CLI and checks the
// output: a profile that decodes, the summary, the exit status passed on,
// and an existing output file left alone when the recording fails.
func TestRecordWritesProfile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.json")
	code, _, stderr := recordCLI("record", "--backend", "ptrace", "-o", out, "--", "sh", "-c", "ls / > /dev/null; exit 3")
	if code != 3 || !strings.Contains(stderr, "with ptrace (--backend ptrace)") || !strings.Contains(stderr, "wrote "+out) {
		t.Fatalf("exit %d, stderr %q; want the command's exit 3 and a summary", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != profile.Errno || len(p.Syscalls) == 0 || !strings.Contains(string(data), `"getdents64"`) {
		t.Errorf("unexpected profile:\n%s", data)
	}
	code, _, _ = recordCLI("record", "--backend", "ptrace", "-o", out, "--", "/no/such/sysfence-cmd")
	if after, _ := os.ReadFile(out); code == 0 || !bytes.Equal(after, data) {
		t.Errorf("a failed recording (exit %d) changed the existing output", code)
	}
	code, stdout, _ := recordCLI("record", "--backend", "ptrace", "--format", "observation", "--", "true")
	if o, err := recorder.Decode([]byte(stdout)); code != 0 || err != nil || o.Backend != "ptrace" || len(o.ABIs) == 0 {
		t.Errorf("--format observation: exit %d, %v, %.300s", code, err, stdout)
	}
}

// TestRecordFallsBackToPtrace records as an unprivileged user: eBPF is not
// allowed, and the summary says which back end ran and why.
func TestRecordFallsBackToPtrace(t *testing.T) {
	testutil.RequireRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		testutil.Unavailable(t, "needs setpriv (util-linux): %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "sysfence-record-test-") // t.TempDir's parent is closed to other users
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "p.json")
	cmd := exec.CommandContext(t.Context(), setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		exe, "-test.run=^$", "--", "record", "-o", out, "--", "/bin/true")
	cmd.Env = append(os.Environ(), runChildEnv+"=sysfence-run")
	output, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if err != nil || !strings.Contains(string(output), "with ptrace (eBPF unavailable: eBPF recording needs root") {
		t.Errorf("unprivileged record: %v\n%s", err, output)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("no profile written: %v", err)
	}
}
