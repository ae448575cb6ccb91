package recorder_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/internal/unix"
)

// The workload is a deterministic process tree for the back ends' tests:
//
//	test binary (child "workload")          threads; sysinfo on a non-main thread;
//	│                                       two sockets and a prctl
//	└── /bin/sh -c '"$0" … | cat'
//	    ├── test binary (child "grandchild") times
//	    └── cat
//
// Its marker calls are made exactly once each, where the constants say, and
// nowhere else in the tree (strace -f of the whole tree shows neither the Go
// runtime, nor dash, nor cat making them), so a recording that has them has
// followed threads, forks and execs.
const (
	// workloadThreadCall is made once, by the workload, on an OS thread
	// that is not its main thread.
	workloadThreadCall = "sysinfo"
	// workloadGrandchildCall is made once, by the grandchild, a process
	// started by a shell that the workload started.
	workloadGrandchildCall = "times"
	// workloadGrandchildOutput is the line the grandchild prints after its
	// marker call; the workload fails unless it read it through the pipe,
	// and passes it on to its own standard output.
	workloadGrandchildOutput = "grandchild: times made"
	// workloadPrctlOption is the option of the workload's prctl call
	// (PR_GET_DUMPABLE): prctl.option has it.
	workloadPrctlOption = 3
)

// workloadSocketFamilies are the values socket.family has after the
// workload, and nothing else: one socket(AF_UNIX, SOCK_DGRAM) and one
// socket(AF_INET, SOCK_DGRAM). socket.type is {SOCK_DGRAM}.
var (
	workloadSocketFamilies = [][]uint64{{syscall.AF_UNIX}, {syscall.AF_INET}}
	workloadSocketTypes    = [][]uint64{{syscall.SOCK_DGRAM}}
)

// childSelector is the environment variable through which testutil.Child
// selects the child a test binary runs (internal/testutil's childEnv). The
// workload needs it to start the grandchild from a shell, where
// testutil.Child cannot be used; runWorkload checks that it still is.
const childSelector = "SYSFENCE_TEST_CHILD"

func TestMain(m *testing.M) { testutil.Main(m) }

func init() {
	testutil.RegisterChild("workload", runWorkload)
	testutil.RegisterChild("grandchild", runGrandchild)
}

// workloadCmd returns the workload as a command not yet started, with its
// standard output and error going to the returned buffer (show it when a
// test fails). It exits 0 when everything went as planned.
func workloadCmd(t testing.TB) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := testutil.Child(t, "workload")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func runWorkload([]string) error {
	if os.Getenv(childSelector) != "workload" {
		return fmt.Errorf("%s is not how testutil selects children any more: update workload_test.go", childSelector)
	}

	// (1) Threads, and the marker call on one that is not the main thread.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			runtime.LockOSThread() // each on a thread of its own
			defer runtime.UnlockOSThread()
			_ = syscall.Getpid()
		})
	}
	err := onOtherThread(func() error {
		var si syscall.Sysinfo_t
		return syscall.Sysinfo(&si)
	})
	wg.Wait()
	if err != nil {
		return err
	}

	// (2) A grandchild through a shell pipeline: the shell forks twice and
	// the grandchild is this binary again.
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	sh := exec.Command("/bin/sh", "-c", `"$0" -test.run='^$' -- | cat`, exe)
	sh.Env = append(os.Environ(), childSelector+"=grandchild") // the last one wins
	sh.Stderr = os.Stderr
	out, err := sh.Output()
	if err != nil {
		return fmt.Errorf("sh: %w", err)
	}
	if !strings.Contains(string(out), workloadGrandchildOutput) {
		return fmt.Errorf("the grandchild did not report (output %q)", out)
	}
	_, _ = os.Stdout.Write(out) // for the test to see

	// (3) Calls with known argument values. Only the calls matter, not
	// whether the sandbox lets them succeed.
	for _, family := range []int{syscall.AF_UNIX, syscall.AF_INET} {
		if fd, err := syscall.Socket(family, syscall.SOCK_DGRAM, 0); err == nil {
			_ = syscall.Close(fd)
		}
	}
	if _, err := unix.PrctlRet(workloadPrctlOption, 0); err != nil {
		return fmt.Errorf("prctl(PR_GET_DUMPABLE): %w", err)
	}
	return nil // (4) testutil exits 0
}

func runGrandchild([]string) error {
	var tms syscall.Tms
	if _, err := syscall.Times(&tms); err != nil {
		return fmt.Errorf("times: %w", err)
	}
	fmt.Println(workloadGrandchildOutput)
	return nil
}

var errMainThread = errors.New("on the main thread")

// onOtherThread runs fn on an OS thread other than the process's main
// thread (whose tid is the pid). A goroutine that locks the main thread
// keeps it until onOtherThread returns, so the next attempt lands elsewhere.
func onOtherThread(fn func() error) error {
	pid := syscall.Getpid()
	release := make(chan struct{})
	defer close(release)
	for range 8 {
		res := make(chan error, 1)
		go func() {
			runtime.LockOSThread()
			if syscall.Gettid() == pid {
				res <- errMainThread
				<-release
				runtime.UnlockOSThread()
				return
			}
			defer runtime.UnlockOSThread()
			res <- fn()
		}()
		if err := <-res; err != errMainThread {
			return err
		}
	}
	return errors.New("no goroutine got a thread other than the main thread")
}
