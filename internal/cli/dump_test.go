package cli_test

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/cli"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/kernel"
)

// dumpFilter is what the "filtered" child installs: it allows everything
// except one number nobody calls.
var dumpFilter = []bpf.Instruction{
	bpf.LoadAbs(bpf.OffsetNr),
	bpf.Jump(bpf.JmpJEQ, 1001, 0, 1),
	bpf.Ret(bpf.RetErrno | 1),
	bpf.Ret(bpf.RetAllow),
}

func init() {
	testutil.RegisterChild("filtered", func([]string) error {
		if err := kernel.SetNoNewPrivs(); err != nil {
			return err
		}
		if err := kernel.Install(dumpFilter, kernel.FlagTSync); err != nil {
			return err
		}
		return testutil.ReadyAndWait()
	})
	testutil.RegisterChild("unfiltered", func([]string) error { return testutil.ReadyAndWait() })
}

func TestDumpUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"neither", []string{"dump"}, "exactly one of --pid N or --container NAME"},
		{"both", []string{"dump", "--pid", "1", "--container", "web"}, "exactly one of --pid N or --container NAME"},
		{"bad pid", []string{"dump", "--pid", "one"}, "--pid"},
		{"argument", []string{"dump", "1"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFail(t, run(t, "", tt.args...), cli.ExitUsage, tt.want)
		})
	}
}

// TestDumpNoSuchProcess needs no privilege: attaching to a pid that does
// not exist fails with ESRCH for anyone.
func TestDumpNoSuchProcess(t *testing.T) {
	pid := strconv.Itoa(1<<31 - 1) // above any pid_max
	r := run(t, "", "dump", "--pid", pid)
	wantFail(t, r, cli.ExitFailure, "pid "+pid, "no such process")
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	wantFail(t, run(t, "", "dump", "--pid", "-5"), cli.ExitFailure, "invalid pid")
}

func TestDumpNoSuchContainer(t *testing.T) {
	wantFail(t, run(t, "", "dump", "--container", "sysfence-test-no-such-container"), cli.ExitFailure,
		"find container sysfence-test-no-such-container")
}

func TestDumpProcess(t *testing.T) {
	testutil.RequireFilterDump(t)
	pid := strconv.Itoa(testutil.StartWaitingChild(t, "filtered"))
	r := mustRun(t, "", "dump", "--pid", pid, "--format", "disasm")
	want := "# filter 1 of 1 (4 instructions; 1 = oldest)\n" + bpf.Disassemble(dumpFilter)
	if r.stdout != want {
		t.Errorf("dump --format disasm:\n%s\nwant:\n%s", r.stdout, want)
	}
	path := tmp(t, "f.bpf")
	mustRun(t, "", "dump", "--pid", pid, "-o", path)
	if got := readFile(t, path); !bytes.Equal(got, bpf.Marshal(dumpFilter, binary.NativeEndian)) {
		t.Errorf("dump -o wrote %x, want the installed filter", got)
	}
	// The dumped file evaluates like the installed filter.
	if got := mustRun(t, "x86_64 1001\nx86_64 1000\n", "eval", "--bpf", path).stdout; got != "ERRNO(1)\nALLOW\n" {
		t.Errorf("eval of the dumped filter = %q", got)
	}
	wantFail(t, run(t, "", "dump", "--pid", pid, "--index", "2"), cli.ExitUsage, "--index 2")
}

func TestDumpUnfiltered(t *testing.T) {
	testutil.RequireFilterDump(t)
	pid := strconv.Itoa(testutil.StartWaitingChild(t, "unfiltered"))
	r := run(t, "", "dump", "--pid", pid)
	wantFail(t, r, cli.ExitFailure, "no seccomp filter")
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}
