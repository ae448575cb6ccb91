package dockertest

import (
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bpf"
)

// TestDefaultProfile: Docker's default profile reaches the container as
// exactly one filter, and libseccomp starts every filter by checking the
// architecture.
func TestDefaultProfile(t *testing.T) {
	t.Parallel()
	filters := RunWithProfile(t, nil)
	if len(filters) != 1 {
		t.Fatalf("default profile gave %d filters, want 1", len(filters))
	}
	f := filters[0]
	if err := bpf.Validate(f); err != nil {
		t.Errorf("dumped filter does not validate: %v", err)
	}
	first, _, _ := strings.Cut(bpf.Disassemble(f), "\n")
	if f[0] != bpf.LoadAbs(bpf.OffsetArch) || !strings.Contains(first, "ld [4]") {
		t.Errorf("filter starts with %q, want the arch load `ld [4]`", first)
	}
	t.Logf("Docker's default filter: %d instructions", len(f))
}

// TestInvalidActionFails: docker run refuses a profile whose action it does
// not know, and Start hands back its message.
func TestInvalidActionFails(t *testing.T) {
	t.Parallel()
	profile := []byte(`{"defaultAction": "SCMP_ACT_BOGUS", "syscalls": []}`)
	c, err := Start(t, profile, nil, Spin...)
	if err == nil {
		t.Fatalf("docker run accepted an unknown action; container %.12s", c.ID)
	}
	if !strings.Contains(err.Error(), "SCMP_ACT_BOGUS") && !strings.Contains(err.Error(), "seccomp") {
		t.Errorf("error does not name the problem: %v", err)
	}
	t.Logf("docker run: %v", err)
}

// TestProfileApplies: a rule of the profile is what the kernel enforces
// in the container, and the filter reflects it. The rule is on getcpu,
// which neither runc nor the Go runtime calls: runc 1.1's init calls
// getppid and others after installing the filter (unless no_new_privs is
// set), and fails when they return an errno.
func TestProfileApplies(t *testing.T) {
	t.Parallel()
	profile := []byte(`{
		"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["getcpu"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}]
	}`)
	tests := []struct {
		name, nr, want string
	}{
		{"ruled", "309", "errno=42"},
		{"default", "1001", "errno=38"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := RunProbe(t, profile, nil, "syscall", tt.nr)
			if err != nil || !strings.Contains(out, tt.want) {
				t.Errorf("probe syscall %s: %q, %v; want %s", tt.nr, out, err, tt.want)
			}
		})
	}
	filters := RunWithProfile(t, profile)
	if len(filters) != 1 || !strings.Contains(bpf.Disassemble(filters[0]), "ERRNO(42)") {
		t.Errorf("filter does not return ERRNO(42):\n%s", bpf.Disassemble(filters[len(filters)-1]))
	}
}

// TestParallelContainers: containers started at once each get their own
// filter.
func TestParallelContainers(t *testing.T) {
	t.Parallel()
	for _, errno := range []string{"11", "12", "13"} {
		t.Run(errno, func(t *testing.T) {
			t.Parallel()
			profile := []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
				{"names": ["getcpu"], "action": "SCMP_ACT_ERRNO", "errnoRet": ` + errno + `}]}`)
			filters := RunWithProfile(t, profile, "--cap-drop", "ALL")
			if len(filters) != 1 || !strings.Contains(bpf.Disassemble(filters[0]), "ERRNO("+errno+")") {
				t.Errorf("filter for errno %s:\n%s", errno, bpf.Disassemble(filters[0]))
			}
		})
	}
}
