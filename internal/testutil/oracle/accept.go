package oracle

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/kernel"
)

// acceptName is the child function that only tries to install a program.
const acceptName = "oracle.accept"

func init() { testutil.RegisterChild(acceptName, acceptChild) }

// KernelAccepts installs prog in a child and returns nil if the kernel
// accepts it, or the errno seccomp(2) failed with (EINVAL for a program
// its checker rejects). prog is installed behind a leading `ret ALLOW`, so
// it never runs; the kernel's checks see it exactly as if it stood alone
// (they walk the program linearly, and a ret leaves the scratch-memory
// state untouched), except that it must be shorter than the length limit.
func KernelAccepts(t testing.TB, prog []bpf.Instruction) error {
	t.Helper()
	testutil.RequireSeccomp(t)
	if len(prog) >= bpf.MaxInstructions {
		t.Fatalf("kernel oracle: %d instructions leave no room for the guard", len(prog))
	}
	guarded := append([]bpf.Instruction{bpf.Ret(bpf.RetAllow)}, prog...)
	stdin, err := json.Marshal(guarded)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.TrimSpace(string(testutil.RunChild(t, acceptName, stdin)))
	errno, err := strconv.ParseUint(out, 10, 32)
	if err != nil {
		t.Fatalf("kernel oracle: child answered %q", out)
	}
	if errno == 0 {
		return nil
	}
	return syscall.Errno(errno)
}

// acceptChild installs the program on a locked thread that then exits,
// and prints 0 or the errno of the failure.
func acceptChild([]string) error {
	var prog []bpf.Instruction
	if err := json.NewDecoder(os.Stdin).Decode(&prog); err != nil {
		return fmt.Errorf("decode input: %w", err)
	}
	result := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with its filter
		if err := kernel.SetNoNewPrivs(); err != nil {
			result <- err
			return
		}
		result <- kernel.Install(prog, 0)
	}()
	err := <-result
	var errno syscall.Errno
	switch {
	case err == nil:
	case errors.As(err, &errno):
	default:
		return err
	}
	_, err = fmt.Println(uint64(errno))
	return err
}
