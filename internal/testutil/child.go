package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
)

// childEnv names the environment variable that turns a test binary into
// a child: its value selects the registered ChildFunc to run.
const childEnv = "SYSFENCE_TEST_CHILD"

// doneMarker is the last line a child writes to standard error when its
// function returned nil, so the parent can tell "succeeded" apart from
// "TestMain never dispatched" (which also exits 0).
const doneMarker = "testutil: child done"

// ChildFunc is the body of a child process. It gets the arguments given to
// Child, reads os.Stdin and writes its results to os.Stdout. Returning an
// error makes the child exit with status 1 and the error on standard error.
type ChildFunc func(args []string) error

var (
	childMu  sync.Mutex
	children = map[string]ChildFunc{}
)

// RegisterChild makes fn runnable as a child under name. Call it from an
// init function or from TestMain before MaybeChild; registering a name twice
// panics, since that is a bug in the tests themselves.
func RegisterChild(name string, fn ChildFunc) {
	childMu.Lock()
	defer childMu.Unlock()
	if _, dup := children[name]; dup {
		panic("testutil: child " + name + " registered twice")
	}
	children[name] = fn
}

// MaybeChild runs the registered child function and exits when the process
// was started by Child; otherwise it returns at once. Call it first thing in
// TestMain.
func MaybeChild() {
	name, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	childMu.Lock()
	fn := children[name]
	childMu.Unlock()
	if fn == nil {
		fmt.Fprintf(os.Stderr, "testutil: no child registered as %q (have %s)\n", name, childNames())
		os.Exit(3)
	}
	if err := fn(childArgs(os.Args)); err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, doneMarker)
	os.Exit(0)
}

// Main is a complete TestMain: it dispatches children, then runs the tests.
func Main(m *testing.M) {
	MaybeChild()
	os.Exit(m.Run())
}

// Child returns a command that re-executes the test binary as the child
// registered under name, with args. No test runs in the child
// (-test.run=^$), and the child is killed when the test ends if it is
// still running. The test binary's TestMain must call MaybeChild or Main.
func Child(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find test binary: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), exe, append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"="+name)
	t.Cleanup(func() {
		// CommandContext kills the child once the test's context is done;
		// reap it unless the test already did.
		if cmd.Process != nil && cmd.ProcessState == nil {
			_ = cmd.Wait()
		}
	})
	return cmd
}

// RunChild runs the child registered under name with stdin as its standard
// input and returns its standard output. A child that fails, or that never
// ran because TestMain does not dispatch, fails the test with the child's
// standard error.
func RunChild(t testing.TB, name string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := Child(t, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	switch {
	case err != nil:
		t.Fatalf("child %s: %v\n%s", name, err, stderr.Bytes())
	case !strings.Contains(stderr.String(), doneMarker):
		t.Fatalf("child %s did not run: TestMain must call testutil.MaybeChild or testutil.Main\n%s%s",
			name, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// childArgs returns what follows the first "--" in argv.
func childArgs(argv []string) []string {
	for i, a := range argv {
		if a == "--" {
			return argv[i+1:]
		}
	}
	return nil
}

func childNames() string {
	childMu.Lock()
	defer childMu.Unlock()
	names := make([]string, 0, len(children))
	for n := range children {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
