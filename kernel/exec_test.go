package kernel_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/kernel"
)

// getppidErrno makes getppid fail with ENOTEMPTY, an errno it never
// returns on its own, and allows everything else.
var getppidErrno = []bpf.Instruction{
	bpf.LoadAbs(bpf.OffsetNr),
	bpf.Jump(bpf.JmpJEQ, syscall.SYS_GETPPID, 0, 1),
	bpf.Ret(bpf.RetErrno | uint32(syscall.ENOTEMPTY)),
	bpf.Ret(bpf.RetAllow),
}

func init() {
	// exec-self installs getppidErrno and execs this test binary again as
	// the child named by its argument.
	testutil.RegisterChild("exec-self", func(args []string) error {
		if err := kernel.SetNoNewPrivs(); err != nil {
			return err
		}
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		// testutil selects the child by this variable; the first one wins.
		env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "SYSFENCE_TEST_CHILD=") })
		env = append(env, "SYSFENCE_TEST_CHILD="+args[0])
		return kernel.Exec(getppidErrno, kernel.FlagTSync, exe, []string{exe, "-test.run=^$", "--"}, env)
	})
	// exec-fails gives Exec a program, flag or path that cannot work and reports
	// the error and whether a filter was left installed.
	testutil.RegisterChild("exec-fails", func(args []string) error {
		if err := kernel.SetNoNewPrivs(); err != nil {
			return err
		}
		prog, flags, path := getppidErrno, kernel.FlagTSync, "/no/such/program"
		switch args[0] {
		case "bad-program":
			prog, path = []bpf.Instruction{bpf.Ja(5)}, "/bin/true"
		case "unknown-flag":
			flags, path = flags|1<<30, "/bin/true"
		}
		err := kernel.Exec(prog, flags, path, []string{path}, nil)
		fmt.Printf("error: %v\n%s", err, seccompStatus())
		return nil
	})
	testutil.RegisterChild("getppid", func([]string) error {
		_, _, errno := syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		fmt.Printf("getppid errno %d\n%s", errno, seccompStatus())
		return nil
	})
}

// seccompStatus returns the Seccomp lines of /proc/self/status.
func seccompStatus() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(line, "Seccomp") {
			b.WriteString(line)
		}
	}
	return b.String()
}

func TestExec(t *testing.T) {
	testutil.RequireSeccomp(t)
	out := string(testutil.RunChild(t, "exec-self", nil, "getppid"))
	for _, want := range []string{"getppid errno 39", "Seccomp:\t2", "Seccomp_filters:\t1"} {
		if !strings.Contains(out, want) {
			t.Errorf("exec'd program's output lacks %q:\n%s", want, out)
		}
	}
}

func TestExecErrors(t *testing.T) {
	testutil.RequireSeccomp(t)
	tests := []struct {
		name       string
		wantErr    string
		wantFilter string
	}{
		// Every check comes before the install: nothing is left installed.
		{"missing-path", "exec /no/such/program: stat /no/such/program: no such file or directory", "Seccomp_filters:\t0"},
		{"bad-program", "install filter", "Seccomp_filters:\t0"},
		// A flag this kernel does not know: fail closed, run nothing.
		{"unknown-flag", "kernel rejected the program or a flag", "Seccomp_filters:\t0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(testutil.RunChild(t, "exec-fails", nil, tt.name))
			for _, want := range []string{tt.wantErr, tt.wantFilter} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
