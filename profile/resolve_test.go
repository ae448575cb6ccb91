package profile

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/syscalls"
)

func mustDecode(t *testing.T, in string) *Profile {
	t.Helper()
	p, err := Decode([]byte(in))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return p
}

func target(a *syscalls.Arch, kernel string, caps ...string) Target {
	k, err := ParseKernel(kernel)
	if err != nil {
		panic(err)
	}
	return Target{Arch: a, Kernel: k, Caps: caps}
}

var x86_64Docker = target(syscalls.X86_64, "6.18", DefaultCaps()...)

func archNames(as []*syscalls.Arch) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

func ruleNames(rs []Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

const archMapProfile = `{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [
	{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
	{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"]}],
	"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`

func TestResolveArches(t *testing.T) {
	tests := []struct {
		name        string
		profile     string
		target      Target
		arches      []string
		stubArches  []string // runc < 1.2 (Target.LegacyRunc)
		modernStub  []string // runc ≥ 1.2 adds the native arch
		wantWarning string
	}{
		{"rule 1: archMap native x86_64", archMapProfile, x86_64Docker,
			[]string{"x86_64", "x86", "x32"}, []string{"x86_64", "x86", "x32"}, []string{"x86_64", "x86", "x32"}, ""},
		{"rule 1: archMap native aarch64", archMapProfile, target(syscalls.AARCH64, "6.1"),
			[]string{"aarch64", "arm"}, []string{"aarch64", "arm"}, []string{"aarch64", "arm"}, ""},
		{"rule 1: archMap without the native arch", archMapProfile, target(syscalls.MustLookup("riscv64"), "6.1"),
			[]string{"riscv64"}, nil, []string{"riscv64"}, ""},
		{"rule 5: native first, then profile order, deduplicated",
			`{"defaultAction": "SCMP_ACT_KILL", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]}`, x86_64Docker,
			[]string{"x86_64", "x86"}, []string{"x86", "x86_64"}, []string{"x86_64", "x86"}, ""},
		{"rule 6: stub only for listed arches",
			`{"defaultAction": "SCMP_ACT_KILL", "architectures": ["SCMP_ARCH_X86"]}`, x86_64Docker,
			[]string{"x86_64", "x86"}, []string{"x86"}, []string{"x86_64", "x86"}, ""},
		{"rule 6: no architectures, no stub before runc 1.2", `{"defaultAction": "SCMP_ACT_ERRNO"}`, x86_64Docker,
			[]string{"x86_64"}, nil, []string{"x86_64"}, ""},
		{"rule 6: no stub for a permissive default",
			`{"defaultAction": "SCMP_ACT_LOG", "architectures": ["SCMP_ARCH_X86_64"]}`, x86_64Docker,
			[]string{"x86_64"}, nil, nil, ""},
		{"runc refuses parisc",
			`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PARISC"]}`, x86_64Docker,
			[]string{"x86_64", "parisc"}, nil, nil, "architectures[0]: runc does not know SCMP_ARCH_PARISC"},
		{"x32 is never Docker's native arch", archMapProfile, target(syscalls.X32, "6.1"),
			[]string{"x32"}, nil, []string{"x32"}, "profile: Docker never runs with native architecture x32"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" (runc 1.2)", func(t *testing.T) {
			r, err := Resolve(mustDecode(t, tt.profile), tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if got := archNames(r.StubArches); !reflect.DeepEqual(got, tt.modernStub) {
				t.Errorf("StubArches = %q, want %q", got, tt.modernStub)
			}
		})
		t.Run(tt.name, func(t *testing.T) {
			legacy := tt.target
			legacy.LegacyRunc = true
			r, err := Resolve(mustDecode(t, tt.profile), legacy)
			if err != nil {
				t.Fatal(err)
			}
			if got := archNames(r.Arches); !reflect.DeepEqual(got, tt.arches) {
				t.Errorf("Arches = %q, want %q", got, tt.arches)
			}
			if got := archNames(r.StubArches); !reflect.DeepEqual(got, tt.stubArches) {
				t.Errorf("StubArches = %q, want %q", got, tt.stubArches)
			}
			if tt.wantWarning != "" && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.HasPrefix(w, tt.wantWarning) }) {
				t.Errorf("warnings %q lack %q", r.Warnings, tt.wantWarning)
			}
		})
	}
}

const conditional = `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
	{"names": ["syslog"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYSLOG", "CAP_SYS_ADMIN"]}},
	{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE"]}},
	{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
	{"names": ["sync_file_range2"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
	{"names": ["clone3"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.3"}},
	{"names": ["open"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "6.0"}}]}`

func TestResolveConditions(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		want   []string
	}{
		{"rule 1: default caps, amd64, new kernel", x86_64Docker,
			[]string{"ptrace", "arch_prctl", "clone3"}},
		{"rule 1: includes needs every cap", target(syscalls.X86_64, "6.18", "CAP_SYSLOG"),
			[]string{"ptrace", "arch_prctl", "clone3"}},
		{"rule 1: includes caps all present, excludes any cap", target(syscalls.X86_64, "6.18", "CAP_SYSLOG", "CAP_SYS_ADMIN"),
			[]string{"syslog", "arch_prctl", "clone3"}},
		{"rule 1: arches compare the native Docker name", target(syscalls.AARCH64, "6.18"),
			[]string{"ptrace", "sync_file_range2", "clone3"}},
		{"rule 1: minKernel is major.minor, patch ignored", target(syscalls.X86_64, "5.2.99-custom"),
			[]string{"ptrace", "arch_prctl", "open"}},
		{"rule 1: minKernel boundary", target(syscalls.X86_64, "5.3"),
			[]string{"ptrace", "arch_prctl", "clone3", "open"}},
	}
	p := mustDecode(t, conditional)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(p, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if got := ruleNames(r.Rules); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rules = %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(r.Named, tt.want) {
				t.Errorf("Named = %q, want %q", r.Named, tt.want)
			}
		})
	}
}

func TestResolveRules(t *testing.T) {
	eq := func(i uint, v uint64) Arg { return Arg{Index: i, Value: v, Op: OpEqualTo} }
	tests := []struct {
		name    string
		profile string
		def     Action
		rules   []Rule
		named   []string
		warning string
	}{
		{"rule 2: one rule per name",
			`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}`,
			Action{Errno, EPERM},
			[]Rule{{0, "read", Action{Kind: Allow}, nil}, {0, "write", Action{Kind: Allow}, nil}},
			[]string{"read", "write"}, ""},
		{"rule 2: rule equal to the default is dropped but named",
			`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}`,
			Action{Kind: Allow},
			[]Rule{{1, "mount", Action{Errno, EPERM}, nil}},
			[]string{"read", "mount"}, ""},
		{"rule 2: errnoRet absent is EPERM, equal to defaultErrnoRet 1",
			`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}, {"names": ["umount2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}`,
			Action{Errno, EPERM},
			[]Rule{{1, "umount2", Action{Errno, ENOSYS}, nil}},
			[]string{"mount", "umount2"}, ""},
		{"rule 2: defaultErrnoRet applies to the default",
			`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}`,
			Action{Errno, ENOSYS},
			[]Rule{{0, "mount", Action{Errno, EPERM}, nil}},
			[]string{"mount"}, ""},
		{"rule 2: TRACE without errnoRet is TRACE(EPERM)",
			`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_TRACE"}]}`,
			Action{Kind: Allow},
			[]Rule{{0, "mount", Action{Trace, EPERM}, nil}},
			[]string{"mount"}, ""},
		{"rule 2: SCMP_ACT_KILL is KILL_THREAD",
			`{"defaultAction": "SCMP_ACT_KILL_THREAD", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_KILL"}, {"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS"}]}`,
			Action{Kind: KillThread},
			[]Rule{{1, "read", Action{Kind: KillProcess}, nil}},
			[]string{"mount", "read"}, ""},
		{"rule 2: unknown name ignored with a warning",
			`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "no_such_call"], "action": "SCMP_ACT_ALLOW"}]}`,
			Action{Errno, EPERM},
			[]Rule{{0, "read", Action{Kind: Allow}, nil}},
			[]string{"read", "no_such_call"}, `syscalls[0].names[1]: unknown system call "no_such_call" ignored`},
		{"rule 2: distinct indexes are ANDed in one rule",
			`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]}]}`,
			Action{Errno, EPERM},
			[]Rule{{0, "socket", Action{Kind: Allow}, []Arg{eq(0, 1), eq(1, 2)}}},
			[]string{"socket"}, ""},
		{"rule 2: repeated index splits into ORed rules",
			`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["socket", "bind"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]}]}`,
			Action{Errno, EPERM},
			[]Rule{
				{0, "socket", Action{Kind: Allow}, []Arg{eq(0, 1)}}, {0, "socket", Action{Kind: Allow}, []Arg{eq(1, 2)}}, {0, "socket", Action{Kind: Allow}, []Arg{eq(0, 3)}},
				{0, "bind", Action{Kind: Allow}, []Arg{eq(0, 1)}}, {0, "bind", Action{Kind: Allow}, []Arg{eq(1, 2)}}, {0, "bind", Action{Kind: Allow}, []Arg{eq(0, 3)}},
			},
			[]string{"socket", "bind"}, ""},
		{"rule 2: entries keep their order and index",
			`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "action": "SCMP_ACT_LOG"}, {"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_KILL"]}}, {"names": ["read"], "action": "SCMP_ACT_TRAP"}]}`,
			Action{Errno, EPERM},
			[]Rule{{0, "read", Action{Kind: Log}, nil}, {2, "read", Action{Kind: Trap}, nil}},
			[]string{"read"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(mustDecode(t, tt.profile), x86_64Docker)
			if err != nil {
				t.Fatal(err)
			}
			if r.DefaultAction != tt.def {
				t.Errorf("DefaultAction = %v, want %v", r.DefaultAction, tt.def)
			}
			if !reflect.DeepEqual(r.Rules, tt.rules) {
				t.Errorf("Rules =\n%+v\nwant\n%+v", r.Rules, tt.rules)
			}
			if !reflect.DeepEqual(r.Named, tt.named) {
				t.Errorf("Named = %q, want %q", r.Named, tt.named)
			}
			if tt.warning != "" && !slices.Contains(r.Warnings, tt.warning) {
				t.Errorf("warnings %q lack %q", r.Warnings, tt.warning)
			}
		})
	}
}

func TestResolveFlags(t *testing.T) {
	tests := []struct {
		name    string
		profile string
		want    []string
		warning string
	}{
		{"rule 7: no flags key means SPEC_ALLOW", `{"defaultAction": "SCMP_ACT_ALLOW"}`, []string{FlagSpecAllow}, ""},
		{"rule 7: an empty list is dropped by Docker, so SPEC_ALLOW", `{"defaultAction": "SCMP_ACT_ALLOW", "flags": []}`, []string{FlagSpecAllow}, ""},
		{"rule 7: explicit flags replace the default", `{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_LOG"]}`, []string{FlagLog}, ""},
		{"rule 7: runc ignores TSYNC", `{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC"]}`, nil, "flags[0]: runc ignores SECCOMP_FILTER_FLAG_TSYNC"},
		{"rule 7: notify adds NEW_LISTENER", `{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/a.sock", "syscalls": [{"names": ["mknod"], "action": "SCMP_ACT_NOTIFY"}]}`,
			[]string{FlagSpecAllow, FlagNewListener}, ""},
		{"rule 7: runc does not know WAIT_KILLABLE_RECV", `{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}`,
			[]string{FlagWaitKillableRecv}, "flags[0]: runc does not know SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: Docker refuses this profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(mustDecode(t, tt.profile), x86_64Docker)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Flags, tt.want) {
				t.Errorf("Flags = %q, want %q", r.Flags, tt.want)
			}
			if tt.warning != "" && !slices.Contains(r.Warnings, tt.warning) {
				t.Errorf("warnings %q lack %q", r.Warnings, tt.warning)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		profile *Profile
		target  Target
		want    string
	}{
		{"notify on write", mustDecode(t, `{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}]}`),
			x86_64Docker, "syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for write"},
		{"notify without listener", mustDecode(t, `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mknod"], "action": "SCMP_ACT_NOTIFY"}]}`),
			x86_64Docker, "syscalls[0].action: SCMP_ACT_NOTIFY needs a listenerPath"},
		{"no target arch", mustDecode(t, `{"defaultAction": "SCMP_ACT_ALLOW"}`), Target{}, "target has no architecture"},
		{"invalid profile", &Profile{DefaultAction: Allow, Syscalls: []Syscall{{Action: Allow}}}, x86_64Docker,
			"syscalls[0].names: must list at least one system call"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tt.profile, tt.target)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNotifyExcludedIsFine(t *testing.T) {
	p := mustDecode(t, `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY", "includes": {"arches": ["arm64"]}}]}`)
	if _, err := Resolve(p, x86_64Docker); err != nil {
		t.Errorf("an entry Docker drops must not fail: %v", err)
	}
}

func TestFlatten(t *testing.T) {
	p := mustDecode(t, archMapProfile)
	p.Syscalls = append(p.Syscalls, Syscall{Names: []string{"mount"}, Action: Allow, Includes: &Filter{Caps: []string{"CAP_SYS_ADMIN"}}})
	f, err := Flatten(p, x86_64Docker)
	if err != nil {
		t.Fatal(err)
	}
	if got := archNames(f.Architectures); !reflect.DeepEqual(got, []string{"x86_64", "x86", "x32", "x86_64"}) {
		t.Errorf("Architectures = %q (Docker appends the archMap entry as is)", got)
	}
	if len(f.Syscalls) != 1 || f.Syscalls[0].Names[0] != "read" || f.ArchMap != nil {
		t.Errorf("flattened = %+v", f)
	}
	if _, err := Encode(f, FormatOCI); err != nil {
		t.Errorf("Encode(OCI) of a flattened profile: %v", err)
	}
}

func TestParseKernel(t *testing.T) {
	tests := []struct {
		in   string
		want KernelVersion
		err  bool
	}{
		{"6.18", KernelVersion{6, 18}, false},
		{"6.18.44-fc-v782", KernelVersion{6, 18}, false},
		{"3.12-1-amd64", KernelVersion{3, 12}, false},
		{"4.8.0", KernelVersion{4, 8}, false},
		{"6", KernelVersion{}, true},
		{"x.1", KernelVersion{}, true},
		{"6.", KernelVersion{}, true},
		{"", KernelVersion{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKernel(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("ParseKernel(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestCaps(t *testing.T) {
	if n := len(DefaultCaps()); n != 14 {
		t.Errorf("DefaultCaps has %d, want Docker's 14", n)
	}
	if n := len(AllCaps()); n != 41 {
		t.Errorf("AllCaps has %d, want 41 (CAP_CHOWN..CAP_CHECKPOINT_RESTORE)", n)
	}
	for _, c := range DefaultCaps() {
		if !KnownCap(c) {
			t.Errorf("default cap %s unknown", c)
		}
	}
}
