package profile

import (
	"reflect"
	"slices"
	"testing"

	"github.com/sysfence/sysfence/syscalls"
)

// rulesOf returns the rules for name.
func rulesOf(r *Resolved, name string) []Rule {
	var out []Rule
	for _, rule := range r.Rules {
		if rule.Name == name {
			out = append(out, rule)
		}
	}
	return out
}

func TestDefaultDecodesAndRoundTrips(t *testing.T) {
	p := MustDefault()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != Errno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != EPERM || len(p.ArchMap) == 0 {
		t.Errorf("unexpected default: %v %v %d arch map entries", p.DefaultAction, p.DefaultErrnoRet, len(p.ArchMap))
	}
	out, err := Encode(p, FormatDocker)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Error("default profile does not round-trip")
	}
}

func TestDefaultIsACopy(t *testing.T) {
	p := MustDefault()
	p.Syscalls[0].Names[0] = "changed"
	p.Syscalls = nil
	if q := MustDefault(); len(q.Syscalls) == 0 || q.Syscalls[0].Names[0] == "changed" {
		t.Error("Default shares state between calls")
	}
}

func TestDefaultResolve(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		check  func(t *testing.T, r *Resolved)
	}{
		{"x86_64 with Docker's caps", x86_64Docker, func(t *testing.T, r *Resolved) {
			if got := archNames(r.Arches); !reflect.DeepEqual(got, []string{"x86_64", "x86", "x32"}) {
				t.Errorf("Arches = %q", got)
			}
			if !reflect.DeepEqual(r.Flags, []string{FlagSpecAllow}) {
				t.Errorf("Flags = %q", r.Flags)
			}
			if r.DefaultAction != (Action{Errno, EPERM}) {
				t.Errorf("DefaultAction = %v", r.DefaultAction)
			}
			// Without CAP_SYS_ADMIN, clone3 gets ENOSYS so that libcs
			// fall back to clone, whose flags are then checked.
			if rs := rulesOf(r, "clone3"); len(rs) != 1 || rs[0].Action != (Action{Errno, ENOSYS}) || len(rs[0].Args) != 0 {
				t.Errorf("clone3 rules = %+v", rs)
			}
			if rs := rulesOf(r, "clone"); len(rs) != 1 || len(rs[0].Args) == 0 || rs[0].Args[0].Op != OpMaskedEqual {
				t.Errorf("clone rules = %+v", rs)
			}
			if rs := rulesOf(r, "ptrace"); len(rs) != 1 || rs[0].Action.Kind != Allow {
				t.Errorf("ptrace rules on 6.18 = %+v", rs)
			}
			if rs := rulesOf(r, "mount"); len(rs) != 0 {
				t.Errorf("mount allowed without CAP_SYS_ADMIN: %+v", rs)
			}
			if !slices.Contains(r.Named, "clone3") || !slices.Contains(r.Named, "read") {
				t.Errorf("Named lacks clone3 or read")
			}
			for _, rule := range r.Rules {
				if rule.Action == r.DefaultAction {
					t.Errorf("rule equal to the default kept: %+v", rule)
				}
				if !slices.Contains(MustDefault().Syscalls[rule.Entry].Names, rule.Name) {
					t.Errorf("rule %+v does not name its entry", rule)
				}
			}
		}},
		{"ptrace needs kernel 4.8", target(syscalls.X86_64, "4.4", DefaultCaps()...), func(t *testing.T, r *Resolved) {
			if rs := rulesOf(r, "ptrace"); len(rs) != 0 {
				t.Errorf("ptrace allowed on 4.4: %+v", rs)
			}
		}},
		{"privileged", target(syscalls.X86_64, "6.18", AllCaps()...), func(t *testing.T, r *Resolved) {
			if rs := rulesOf(r, "clone3"); len(rs) != 1 || rs[0].Action.Kind != Allow {
				t.Errorf("clone3 rules with CAP_SYS_ADMIN = %+v", rs)
			}
			if rs := rulesOf(r, "mount"); len(rs) != 1 || rs[0].Action.Kind != Allow {
				t.Errorf("mount rules with CAP_SYS_ADMIN = %+v", rs)
			}
		}},
		{"aarch64", target(syscalls.AARCH64, "6.18", DefaultCaps()...), func(t *testing.T, r *Resolved) {
			if got := archNames(r.Arches); !reflect.DeepEqual(got, []string{"aarch64", "arm"}) {
				t.Errorf("Arches = %q", got)
			}
			if rs := rulesOf(r, "arch_prctl"); len(rs) != 0 {
				t.Errorf("arch_prctl (amd64 only) on aarch64: %+v", rs)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(MustDefault(), tt.target)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func BenchmarkResolveDefault(b *testing.B) {
	p := MustDefault()
	for b.Loop() {
		if _, err := Resolve(p, x86_64Docker); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeDefault(b *testing.B) {
	data, err := Encode(MustDefault(), FormatDocker)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
