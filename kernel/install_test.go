package kernel_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/internal/testutil/oracle"
	"github.com/sysfence/sysfence/kernel"
)

func TestFlagsString(t *testing.T) {
	tests := []struct {
		flags kernel.Flags
		want  string
	}{
		{0, "0"},
		{kernel.FlagTSync, "SECCOMP_FILTER_FLAG_TSYNC"},
		{kernel.FlagTSync | kernel.FlagSpecAllow, "SECCOMP_FILTER_FLAG_TSYNC|SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
		{kernel.FlagLog | 0x100, "SECCOMP_FILTER_FLAG_LOG|0x100"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.flags.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestInstallLength needs no child: Install refuses these before any
// system call.
func TestInstallLength(t *testing.T) {
	tests := []struct {
		name string
		n    int
	}{
		{"empty", 0},
		{"too long", bpf.MaxInstructions + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := make([]bpf.Instruction, tt.n)
			for i := range prog {
				prog[i] = bpf.Ret(bpf.RetAllow)
			}
			err := kernel.Install(prog, kernel.FlagTSync)
			if err == nil || !strings.Contains(err.Error(), "instructions") {
				t.Errorf("Install(%d instructions) = %v, want a length error", tt.n, err)
			}
		})
	}
}

func TestHaveSeccompFilter(t *testing.T) {
	testutil.RequireSeccomp(t)
	ok, err := kernel.HaveSeccompFilter()
	if !ok || err != nil {
		t.Errorf("HaveSeccompFilter() = %v, %v; want true, nil", ok, err)
	}
}

func TestHaveAction(t *testing.T) {
	testutil.RequireSeccomp(t)
	tests := []struct {
		name string
		ret  uint32
		want bool
	}{
		{"allow", bpf.RetAllow, true},
		{"errno with data", bpf.RetErrno | 38, true},
		{"kill process", bpf.RetKillProcess, true},
		{"kill thread", bpf.RetKillThread, true},
		{"log", bpf.RetLog, true},
		{"user notif", bpf.RetUserNotif, true},
		{"unknown", 0x12340000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kernel.HaveAction(tt.ret)
			if errors.Is(err, kernel.ErrNotSupported) {
				testutil.Unavailable(t, "kernel lacks SECCOMP_GET_ACTION_AVAIL (Linux 4.14)")
			}
			if got != tt.want || err != nil {
				t.Errorf("HaveAction(%#x) = %v, %v; want %v, nil", tt.ret, got, err, tt.want)
			}
		})
	}
}

// TestInstallRejects checks that Install surfaces the kernel's refusal of
// a program it does not accept.
func TestInstallRejects(t *testing.T) {
	bad := []bpf.Instruction{bpf.LoadAbs(bpf.DataSize), bpf.Ret(bpf.RetAllow)}
	if err := oracle.KernelAccepts(t, bad); err == nil {
		t.Errorf("kernel accepted a load beyond seccomp_data")
	}
	good := []bpf.Instruction{bpf.LoadAbs(bpf.OffsetNr), bpf.Ret(bpf.RetAllow)}
	if err := oracle.KernelAccepts(t, good); err != nil {
		t.Errorf("kernel refused a valid program: %v", err)
	}
}
