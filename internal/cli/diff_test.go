package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// writeProfiles writes JSON profiles into a temporary directory.
func writeProfiles(t *testing.T, profiles map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, js := range profiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDiffAndCheck(t *testing.T) {
	flat, err := profile.Flatten(profile.MustDefault(), profile.Target{Arch: syscalls.X86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 18}, Caps: profile.DefaultCaps()})
	if err != nil {
		t.Fatal(err)
	}
	oci, err := profile.Encode(flat, profile.FormatOCI)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeProfiles(t, map[string]string{
		"oci.json": string(oci),
		"small.json": `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
			{"names":["read"],"action":"SCMP_ACT_ALLOW"},
			{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}`,
		"vsock.json": `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
			{"names":["read"],"action":"SCMP_ACT_ALLOW"},
			{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":40,"op":"SCMP_CMP_EQ"}]}]}`,
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	target := []string{"--arch", "x86_64", "--kernel", "6.18"}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"diff", "default", p("oci.json")}, 0, "enforce the same verdicts"},
		{[]string{"diff", p("small.json"), p("vsock.json")}, ExitFindings, "socket                 ALLOW          → ERRNO(1)       (only some arguments, e.g. socket(0x1))"},
		{[]string{"check", "--within", "default", p("small.json")}, 0, "is within default"},
		{[]string{"check", "--within", "default", p("vsock.json")}, ExitFindings, "x86_64 socket (only some arguments, e.g. socket(0x28)) gets ALLOW, the baseline ERRNO(1)"},
		{[]string{"check", p("small.json")}, ExitUsage, "--within BASELINE is required"},
	} {
		code, stdout, stderr := recordCLI(append(c.args, target...)...)
		if code != c.code || !strings.Contains(stdout+stderr, c.want) {
			t.Errorf("%v: exit %d, want %d and %q:\n%s%s", c.args, code, c.code, c.want, stdout, stderr)
		}
	}
	code, stdout, _ := recordCLI(append([]string{"check", "--within", "default", p("vsock.json"), "--format", "json"}, target...)...)
	var doc struct {
		Within         bool
		CounterExample struct {
			Arch, Syscall, A, B string
			Args                [6]uint64
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != ExitFindings || doc.Within || doc.CounterExample.Args[0] != 40 || doc.CounterExample.A != "ALLOW" {
		t.Errorf("check --format json: exit %d, %v, %+v\n%s", code, err, doc, stdout)
	}
}
