package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestAuditCommand(t *testing.T) {
	typo := filepath.Join(t.TempDir(), "typo.json")
	if err := os.WriteFile(typo, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64"],
		"syscalls":[{"names":["read","writ","exit_group"],"action":"SCMP_ACT_ALLOW"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"audit", "default", "--arch", "x86_64"}, 0, []string{"x86_64      385      306            3       76", "SF201 high", "SF202 medium", "filter: 326 instructions"}},
		{[]string{"audit", "default", "--arch", "x86_64", "--fail-on", "high"}, ExitFindings, []string{"SF201"}},
		{[]string{"audit", "default", "--arch", "x86_64", "--fail-on", "critical"}, 0, []string{"SF105"}},
		{[]string{"audit", typo, "--arch", "x86_64", "--fail-on", "low"}, ExitFindings, []string{`SF301 low`, `syscalls[0]: "writ" is a system call of no architecture`}},
		{[]string{"audit", typo, "--arch", "x86_64", "--fail-on", "medium"}, 0, []string{"1 findings"}},
	} {
		code, stdout, stderr := recordCLI(c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args, code, c.code, stdout, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, w, stdout)
			}
		}
	}
	if code, _, stderr := recordCLI("audit", "default", "--fail-on", "severe"); code != ExitUsage || !strings.Contains(stderr, `unknown severity "severe"`) {
		t.Errorf("bad --fail-on: exit %d, %s", code, stderr)
	}
}

// TestAuditJSONSchema pins the JSON keys docs/json.md documents.
func TestAuditJSONSchema(t *testing.T) {
	code, stdout, stderr := recordCLI("audit", "default", "--arch", "x86_64", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"cost", "findings", "profile", "summary", "target"}; !slices.Equal(keys, want) {
		t.Errorf("top-level keys %v, want %v", keys, want)
	}
	var findings []map[string]any
	if err := json.Unmarshal(doc["findings"], &findings); err != nil || len(findings) == 0 {
		t.Fatalf("findings: %v %s", err, doc["findings"])
	}
	for _, k := range []string{"id", "severity", "title", "reason", "fix"} {
		if _, ok := findings[0][k]; !ok {
			t.Errorf("finding lacks %q: %v", k, findings[0])
		}
	}
	if sev := findings[0]["severity"]; sev != "high" {
		t.Errorf("first finding's severity %v, want the most severe, high", sev)
	}
}

func TestAuditSARIF(t *testing.T) {
	code, stdout, stderr := recordCLI("audit", "default", "--arch", "x86_64", "--format", "sarif")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "sysfence" {
		t.Fatalf("not a SARIF 2.1.0 log from sysfence: %.300s", stdout)
	}
	levels := map[string]string{}
	for _, r := range log.Runs[0].Results {
		levels[r.RuleID] = r.Level
	}
	if levels["SF201"] != "error" || levels["SF202"] != "warning" || len(log.Runs[0].Tool.Driver.Rules) != len(levels) {
		t.Errorf("results %v, rules %v", levels, log.Runs[0].Tool.Driver.Rules)
	}
}

// TestAuditRawFilter audits the compiled default as a raw file: the same
// summary as the profile's audit.
func TestAuditRawFilter(t *testing.T) {
	f := filepath.Join(t.TempDir(), "default.bpf")
	if code, _, stderr := recordCLI("compile", "default", "--arch", "x86_64", "-o", f); code != 0 {
		t.Fatal(stderr)
	}
	code, raw, stderr := recordCLI("audit", "--bpf", f, "--arch", "x86_64")
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{"x86_64      385      306            3       76", "SF201 high", "filter: 1 raw filter(s), 326 instructions"} {
		if !strings.Contains(raw, want) {
			t.Errorf("audit --bpf lacks %q:\n%s", want, raw)
		}
	}
	if code, _, stderr := recordCLI("audit", "default", "--bpf", f); code != ExitUsage || !strings.Contains(stderr, "exactly one of PROFILE, --bpf FILE, --pid N or --container NAME") {
		t.Errorf("PROFILE and --bpf: exit %d, %s", code, stderr)
	}
}

func TestReportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.html")
	if code, _, stderr := recordCLI("report", "default", "--arch", "x86_64", "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`data-arch="x86_64"`, `data-total="385"`, "Against default", "SF201"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if code, _, _ := recordCLI("report", "default", "--arch", "x86_64", "--vs", "none", "-o", out); code != 0 {
		t.Errorf("--vs none: exit %d", code)
	}
	if data, _ := os.ReadFile(out); strings.Contains(string(data), `id="diff"`) {
		t.Error("--vs none still has a diff section")
	}
	if code, _, stderr := recordCLI("report", "default"); code != ExitUsage || !strings.Contains(stderr, "-o FILE is required") {
		t.Errorf("no -o: exit %d, %s", code, stderr)
	}
}
