package analysis

import (
	"slices"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// TestAuditBPFMatchesProfile: the compiled Docker default, audited as a raw
// filter, gives the same per-arch summary and the same dangerous-call and
// bypass findings as the audit of the profile itself.
func TestAuditBPFMatchesProfile(t *testing.T) {
	res, err := profile.Resolve(profile.MustDefault(), x86_64Target)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(res, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := AuditBPF([][]bpf.Instruction{prog.Instructions}, syscalls.X86_64)
	if err != nil {
		t.Fatal(err)
	}
	fromProfile := Audit(profile.MustDefault(), res)
	if !slices.Equal(raw.Summary, fromProfile.Summary) {
		t.Errorf("summary from the filter %+v, from the profile %+v", raw.Summary, fromProfile.Summary)
	}
	if got, want := ids(raw), ids(fromProfile); !slices.Equal(got, want) {
		t.Errorf("findings from the filter %v, from the profile %v", got, want)
	}
}

func TestAuditBPFNoArchCheck(t *testing.T) {
	// Kill the x86_64 keyring calls (add_key 248, request_key 249, keyctl
	// 250) by number, allow everything else, never look at the arch.
	prog := []bpf.Instruction{
		bpf.LoadAbs(bpf.OffsetNr),
		bpf.Jump(bpf.JmpJGE, 248, 0, 2),
		bpf.Jump(bpf.JmpJGT, 250, 1, 0),
		bpf.Ret(bpf.RetKillProcess),
		bpf.Ret(bpf.RetAllow),
	}
	r, err := AuditBPF([][]bpf.Instruction{prog}, syscalls.X86_64)
	if err != nil {
		t.Fatal(err)
	}
	got := ids(r)
	for _, want := range []string{"SF304", "SF102", "SF202", "SF203"} {
		if !slices.Contains(got, want) {
			t.Errorf("findings %v lack %s", got, want)
		}
	}
	// On i386 and x32 the same numbers are other calls, and the keyring
	// calls have other numbers: they are allowed there, not on x86_64.
	i := slices.IndexFunc(r.Findings, func(f Finding) bool { return f.ID == "SF101" })
	if i < 0 || !slices.Equal(r.Findings[i].Arches, []string{"x86", "x32"}) {
		t.Errorf("SF101 = %+v, want the keyring allowed on x86 and x32 only", r.Findings)
	}
	if _, err := AuditBPF(nil, syscalls.X86_64); err == nil {
		t.Error("no filter: want an error")
	}
}
