package kernel_test

import (
	"errors"
	"os"
	"reflect"
	"syscall"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/kernel"
)

// Two filters that differ, installed in this order by the "two-filters"
// child. Both allow everything the child needs.
var (
	firstFilter = []bpf.Instruction{
		bpf.LoadAbs(bpf.OffsetNr),
		bpf.Jump(bpf.JmpJEQ, 1001, 0, 1),
		bpf.Ret(bpf.RetErrno | 1),
		bpf.Ret(bpf.RetAllow),
	}
	secondFilter = []bpf.Instruction{
		bpf.LoadAbs(bpf.OffsetArch),
		bpf.LoadAbs(bpf.OffsetNr),
		bpf.Jump(bpf.JmpJGE, 2000, 0, 1),
		bpf.Ret(bpf.RetErrno | 2),
		bpf.Ret(bpf.RetAllow),
	}
)

func init() {
	testutil.RegisterChild("two-filters", func([]string) error {
		if err := kernel.SetNoNewPrivs(); err != nil {
			return err
		}
		for _, f := range [][]bpf.Instruction{firstFilter, secondFilter} {
			if err := kernel.Install(f, kernel.FlagTSync); err != nil {
				return err
			}
		}
		return testutil.ReadyAndWait()
	})
	testutil.RegisterChild("no-filter", func([]string) error { return testutil.ReadyAndWait() })
}

func TestFiltersInstallationOrder(t *testing.T) {
	testutil.RequireFilterDump(t)
	pid := testutil.StartWaitingChild(t, "two-filters")
	got, err := kernel.Filters(pid)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]bpf.Instruction{firstFilter, secondFilter}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Filters(%d) differ from the installed ones, oldest first", pid)
		for i, f := range got {
			t.Logf("filter %d:\n%s", i, bpf.Disassemble(f))
		}
	}
	// The child keeps running after the dump: a second dump works too.
	if again, err := kernel.Filters(pid); err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("second Filters(%d) = %d filters, %v", pid, len(again), err)
	}
}

func TestFiltersErrors(t *testing.T) {
	testutil.RequireFilterDump(t)
	noFilter := testutil.StartWaitingChild(t, "no-filter")
	tests := []struct {
		name string
		pid  int
		want error
	}{
		{"no filter", noFilter, kernel.ErrNoFilter},
		{"no such process", exitedPID(t), syscall.ESRCH},
		{"self", os.Getpid(), syscall.EPERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kernel.Filters(tt.pid)
			if !errors.Is(err, tt.want) {
				t.Errorf("Filters(%d) = %v, want %v", tt.pid, err, tt.want)
			}
		})
	}
	if _, err := kernel.Filters(0); err == nil {
		t.Errorf("Filters(0) succeeded")
	}
}

// exitedPID returns the pid of a child that has exited and been reaped.
func exitedPID(t *testing.T) int {
	cmd := testutil.Child(t, "no-filter")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
