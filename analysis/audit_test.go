package analysis

import (
	"slices"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

func auditJSON(t *testing.T, js string) *AuditReport {
	t.Helper()
	p, err := profile.Decode([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return audit(t, p)
}

func audit(t *testing.T, p *profile.Profile) *AuditReport {
	t.Helper()
	res, err := profile.Resolve(p, profile.Target{Arch: syscalls.X86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 18}, Caps: profile.DefaultCaps()})
	if err != nil {
		t.Fatal(err)
	}
	return Audit(p, res)
}

func ids(r *AuditReport) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

func TestDangerousCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range Dangerous() {
		if seen[g.ID] || !strings.HasPrefix(g.ID, "SF1") || g.Why == "" || len(g.Sources) == 0 {
			t.Errorf("group %+v: duplicate id, wrong prefix, or no reason or source", g)
		}
		seen[g.ID] = true
		for _, n := range g.Syscalls {
			if !syscalls.Known(n) {
				t.Errorf("%s: %q is no system call", g.ID, n)
			}
		}
		for _, c := range g.CVEs {
			if !strings.HasPrefix(c, "CVE-") {
				t.Errorf("%s: %q is not a CVE id", g.ID, c)
			}
		}
	}
}

// Each profile is written to contain one kind of finding, and nothing else.
func TestAuditFindings(t *testing.T) {
	const head = `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64"],"syscalls":[`
	for _, c := range []struct {
		name, entries string
		want          []string
	}{
		{"clean", `{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"}`, nil},
		{"keyring and bpf", `{"names":["read","keyctl","bpf"],"action":"SCMP_ACT_ALLOW"}`, []string{"SF101", "SF102"}},
		{"conditional is not unlimited", `{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}`, nil},
		{"open limited, openat free", `{"names":["open"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":0,"op":"SCMP_CMP_EQ"}]},{"names":["openat"],"action":"SCMP_ACT_ALLOW"}`, []string{"SF204"}},
		{"execve denied, execveat free", `{"names":["execveat"],"action":"SCMP_ACT_ALLOW"},{"names":["execve"],"action":"SCMP_ACT_KILL_PROCESS"}`, []string{"SF205"}},
		{"open unused, openat used", `{"names":["openat","read"],"action":"SCMP_ACT_ALLOW"}`, nil},
		{"clone limited, clone3 free", `{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]},{"names":["clone3"],"action":"SCMP_ACT_ALLOW"}`, []string{"SF206"}},
		{"typo", `{"names":["reed","write"],"action":"SCMP_ACT_ALLOW"}`, []string{"SF301"}},
		{"no effect", `{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["mount"],"action":"SCMP_ACT_ERRNO","errnoRet":38}`, []string{"SF302"}},
		{"range ORed by runc", `{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":10,"op":"SCMP_CMP_LT"},{"index":1,"value":3,"op":"SCMP_CMP_GT"}]}`, []string{"SF305"}},
		{"conditions on two arguments", `{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":1,"op":"SCMP_CMP_EQ"}]}`, nil},
		{"impossible condition", `{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_LT"}]}`, []string{"SF306"}},
		{"shadowed", `{"names":["socket"],"action":"SCMP_ACT_ALLOW"},{"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":0,"value":40,"op":"SCMP_CMP_EQ"}]}`, []string{"SF303"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := auditJSON(t, head+c.entries+`]}`)
			if got := ids(r); !slices.Equal(got, c.want) {
				t.Errorf("findings %v, want %v: %+v", got, c.want, r.Findings)
			}
		})
	}
}

func TestAuditABIsAndDefaults(t *testing.T) {
	r := auditJSON(t, `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[
		{"names":["read","write","socketcall"],"action":"SCMP_ACT_ALLOW"},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}`)
	if got, want := ids(r), []string{"SF201", "SF202", "SF203"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	// EPERM by default, fallback probes not named: SF401.
	r = auditJSON(t, `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`)
	if got, want := ids(r), []string{"SF401"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}

// TestAuditDockerDefault checks the known properties of Docker's default
// profile: its AF_VSOCK socket rule is bypassed through i386 socketcall,
// the i386 and x32 ABIs are open, ptrace and process_vm_* are allowed
// (since kernel 4.8, by design), while keyring, bpf, mounts, modules,
// open_by_handle_at and personality are limited, and it names the calls libc
// probes (clone3 gets ENOSYS).
func TestAuditDockerDefault(t *testing.T) {
	r := audit(t, profile.MustDefault())
	got := ids(r)
	for _, want := range []string{"SF201", "SF202", "SF203", "SF105"} {
		if !slices.Contains(got, want) {
			t.Errorf("Docker's default: findings %v lack %s", got, want)
		}
	}
	for _, absent := range []string{"SF101", "SF102", "SF107", "SF108", "SF109", "SF110", "SF206", "SF301", "SF401"} {
		if slices.Contains(got, absent) {
			t.Errorf("Docker's default: unexpected %s: %+v", absent, r.Findings)
		}
	}
	s := r.Summary[0]
	if s.Arch != "x86_64" || s.Total != s.Allowed+s.Conditional+s.Blocked || s.Allowed < 250 || s.Conditional < 2 {
		t.Errorf("summary %+v", s)
	}
	t.Logf("Docker default on x86_64: %+v; findings %v", r.Summary, got)
}
