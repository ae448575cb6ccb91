package kernel_test

import (
	"errors"
	"testing"

	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/internal/unix"
	"github.com/sysfence/sysfence/kernel"
	"github.com/sysfence/sysfence/profile"
)

// TestHaveFlag probes every flag on the running kernel (Linux ≥ 5.19 knows
// them all) and checks that probing left the test process unfiltered.
func TestHaveFlag(t *testing.T) {
	testutil.RequireSeccomp(t)
	release, err := kernel.Release()
	if err != nil {
		t.Fatal(err)
	}
	kv, err := profile.ParseKernel(release)
	if err != nil {
		t.Fatal(err)
	}
	recent := kv.AtLeast(profile.KernelVersion{Major: 5, Minor: 19})
	flags := []struct {
		name string
		f    kernel.Flags
	}{
		{"TSYNC", kernel.FlagTSync}, {"LOG", kernel.FlagLog}, {"SPEC_ALLOW", kernel.FlagSpecAllow},
		{"NEW_LISTENER", kernel.FlagNewListener}, {"TSYNC_ESRCH", kernel.FlagTSyncESRCH},
		{"WAIT_KILLABLE_RECV", kernel.FlagWaitKillableRecv},
	}
	for _, tt := range flags {
		f := tt.f
		t.Run(tt.name, func(t *testing.T) {
			ok, err := kernel.HaveFlag(f)
			if err != nil {
				t.Fatalf("HaveFlag(%v): %v", f, err)
			}
			if recent && !ok {
				t.Errorf("HaveFlag(%v) = false on Linux %s", f, release)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		if ok, err := kernel.HaveFlag(1 << 30); ok || err != nil {
			t.Errorf("HaveFlag(1<<30) = %v, %v; want false, nil", ok, err)
		}
	})
	mode, err := unix.PrctlRet(unix.PR_GET_SECCOMP, 0)
	if err != nil || mode != unix.SECCOMP_MODE_DISABLED {
		t.Errorf("after probing, PR_GET_SECCOMP = %d, %v; want disabled: a probe installed a filter", mode, err)
	}
}

func TestGetNotifSizes(t *testing.T) {
	testutil.RequireSeccomp(t)
	s, err := kernel.GetNotifSizes()
	if errors.Is(err, kernel.ErrNotSupported) {
		t.Skipf("kernel lacks SECCOMP_GET_NOTIF_SIZES: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	// struct seccomp_data has been 64 bytes since Linux 3.5.
	if s.Data != 64 || s.Notif < 80 || s.Resp < 24 {
		t.Errorf("GetNotifSizes() = %+v; want data 64, notif ≥ 80, resp ≥ 24", s)
	}
}

func TestRecordFacts(t *testing.T) {
	if _, err := kernel.EffectiveCaps(); err != nil {
		t.Errorf("EffectiveCaps: %v", err)
	}
	if _, err := kernel.MountsOfType("proc"); err != nil {
		t.Errorf("MountsOfType: %v", err)
	}
	ok, err := kernel.FilesystemKnown("proc")
	if err != nil || !ok {
		t.Errorf("FilesystemKnown(proc) = %v, %v; want true, nil", ok, err)
	}
	if cur, limit, err := kernel.MemlockLimit(); err != nil || cur > limit {
		t.Errorf("MemlockLimit() = %d, %d, %v", cur, limit, err)
	}
}
