package cli_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/dockertest"
	"github.com/sysfence/sysfence/internal/testutil"
)

// TestDumpContainer dumps a real container started under sysfence's own
// compilation of Docker's default profile, and checks that the raw dump
// and the disassembly describe one filter the kernel accepts, and that
// eval on the dump agrees with eval on the profile for a few calls.
func TestDumpContainer(t *testing.T) {
	testutil.RequireDocker(t)
	testutil.RequireFilterDump(t)
	def := mustRun(t, "", "default").stdout
	c, err := dockertest.Start(t, []byte(def), nil, dockertest.Spin...)
	if err != nil {
		t.Fatal(err)
	}
	text := mustRun(t, "", "dump", "--container", c.ID, "--format", "disasm").stdout
	if !strings.HasPrefix(text, "# filter 1 of 1") || !strings.Contains(text, "ld [4]") {
		t.Fatalf("dump --format disasm:\n%.400s", text)
	}
	out := filepath.Join(t.TempDir(), "docker.bpf")
	mustRun(t, "", "dump", "--container", c.ID, "-o", out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := bpf.Unmarshal(data, binary.NativeEndian)
	if err != nil {
		t.Fatal(err)
	}
	if err := bpf.Validate(prog); err != nil {
		t.Fatalf("dumped filter does not validate: %v", err)
	}
	calls := "x86_64 personality 0xffffffff\nx86_64 socket 40\nx86_64 mount\nx86 socketcall 1\nx86_64 read\n"
	fromDump := mustRun(t, calls, "eval", "--bpf", out).stdout
	fromProfile := mustRun(t, calls, "eval", "default").stdout
	if fromDump != fromProfile {
		t.Errorf("eval of the dumped filter:\n%s\neval of the profile:\n%s", fromDump, fromProfile)
	}
}

// TestAuditContainer audits the filter Docker (runc + libseccomp) really
// loaded into a container under the engine's own default profile: the
// compat ABIs are open and ptrace allowed there too. (Docker 20.10's
// built-in default has no socket family rule, so no SF201.)
func TestAuditContainer(t *testing.T) {
	testutil.RequireDocker(t)
	testutil.RequireFilterDump(t)
	c, err := dockertest.Start(t, nil, nil, dockertest.Spin...)
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "", "audit", "--container", c.ID).stdout
	for _, want := range []string{"SF105 high", "SF202 medium", "SF203 medium", "filter: 1 raw filter(s)", "x86_64      385"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit --container lacks %q:\n%s", want, out)
		}
	}
}
