package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/internal/cli"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"allowed by an entry", []string{"default", "personality", "0xffffffff"}, []string{"→ ALLOW", "decided by syscalls[", "personality", "a0 == 0xffffffff"}},
		{"default action", []string{"default", "socket", "40"}, []string{"socket(0x28) → ERRNO(1)", "default action"}},
		{"allowed socket domain", []string{"default", "socket", "2"}, []string{"→ ALLOW", "syscalls["}},
		{"by number", []string{"default", "0"}, []string{"read", "→ ALLOW"}},
		{"x86 socketcall", []string{"default", "--call-arch", "x86", "socketcall", "1"}, []string{"x86 socketcall(0x1) → ALLOW", "syscalls["}},
		{"ENOSYS stub", []string{"default", "1000"}, []string{"ERRNO(38)", "ENOSYS"}},
		{"bad arch", []string{"default", "--call-arch", "aarch64", "read"}, []string{"KILL_THREAD", "not in the filter"}},
		{"x32 guard", []string{"testdata/x86_64only.json", "--call-arch", "x32", "read"}, []string{"KILL_THREAD", "x32"}},
		{"crafted TRACE", []string{"testdata/verdicts.json", "ptrace"}, []string{"TRACE(7)", "syscalls[5]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRun(t, "", withTarget(append([]string{"explain"}, tt.args...)...)...)
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("explain output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

func TestExplainJSON(t *testing.T) {
	r := mustRun(t, "", withTarget("explain", "default", "personality", "0xffffffff", "--format", "json")...)
	var doc struct {
		Arch    string    `json:"arch"`
		Syscall string    `json:"syscall"`
		Number  uint32    `json:"number"`
		Args    [6]uint64 `json:"args"`
		Verdict string    `json:"verdict"`
		Reason  string    `json:"reason"`
		Entry   *int      `json:"entry"`
		Rule    string    `json:"rule"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("explain --format json does not parse: %v\n%s", err, r.stdout)
	}
	if doc.Arch != "x86_64" || doc.Syscall != "personality" || doc.Number != 135 || doc.Args[0] != 0xffffffff {
		t.Errorf("call = %s %s(%d) %#x", doc.Arch, doc.Syscall, doc.Number, doc.Args)
	}
	if doc.Verdict != "ALLOW" || doc.Entry == nil || !strings.HasPrefix(doc.Rule, "personality") {
		t.Errorf("verdict = %s, entry %v, rule %q", doc.Verdict, doc.Entry, doc.Rule)
	}
	r = mustRun(t, "", withTarget("explain", "default", "socket", "40", "--format", "json")...)
	var def map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &def); err != nil {
		t.Fatal(err)
	}
	if def["verdict"] != "ERRNO(1)" || def["entry"] != nil {
		t.Errorf("socket(40): verdict %v, entry %v; want ERRNO(1) and no entry", def["verdict"], def["entry"])
	}
}

func TestExplainErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown syscall", []string{"default", "no_such_call"}, cli.ExitUsage, "no_such_call"},
		{"bad argument", []string{"default", "read", "zz"}, cli.ExitUsage, "argument 0"},
		{"bad call arch", []string{"default", "--call-arch", "vax", "read"}, cli.ExitUsage, "--call-arch"},
		{"bad format", []string{"default", "read", "--format", "xml"}, cli.ExitUsage, "--format"},
		{"invalid profile", []string{"testdata/invalid.json", "read"}, cli.ExitFailure, "syscalls[1].action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFail(t, run(t, "", withTarget(append([]string{"explain"}, tt.args...)...)...), tt.code, tt.want)
		})
	}
}
