package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/internal/cli"
	"github.com/sysfence/sysfence/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// result is what one sysfence invocation did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs sysfence with args and stdin, in-process.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// mustRun runs sysfence and fails the test unless it exits 0.
func mustRun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r := run(t, stdin, args...)
	if r.code != cli.ExitOK {
		t.Fatalf("sysfence %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// wantFail checks the exit code and that stderr mentions every part.
func wantFail(t *testing.T, r result, code int, parts ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, p := range parts {
		if !strings.Contains(r.stderr, p) {
			t.Errorf("stderr %q does not mention %q", r.stderr, p)
		}
	}
}

// readFile reads a file the command under test wrote.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tmp returns a path in a fresh temporary directory.
func tmp(t *testing.T, name string) string { return filepath.Join(t.TempDir(), name) }

// target pins the target so the tests do not depend on the host.
var target = []string{"--arch", "x86_64", "--kernel", "6.1"}

func withTarget(args ...string) []string { return append(args, target...) }

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown flag", []string{"compile", "default", "--frob"}, "unknown flag"},
		{"compile without profile", []string{"compile"}, "accepts 1 arg"},
		{"compile two profiles", []string{"compile", "a", "b"}, "accepts 1 arg"},
		{"explain without syscall", []string{"explain", "default"}, "requires at least 2"},
		{"default with argument", []string{"default", "x"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFail(t, run(t, "", tt.args...), cli.ExitUsage, tt.want)
		})
	}
}

func TestHelp(t *testing.T) {
	r := mustRun(t, "", "--help")
	for _, c := range []string{"compile", "eval", "explain", "disasm", "asm", "default", "dump"} {
		if !strings.Contains(r.stdout, c) {
			t.Errorf("help does not list %s", c)
		}
	}
}
