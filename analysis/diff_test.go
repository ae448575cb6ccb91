package analysis

import (
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

var x86_64Target = profile.Target{Arch: syscalls.X86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 18}, Caps: profile.DefaultCaps()}

func resolveJSON(t *testing.T, js string) *profile.Resolved {
	t.Helper()
	p, err := profile.Decode([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	res, err := profile.Resolve(p, x86_64Target)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestDiffIgnoresForm: Docker's default and its flattened OCI form (no
// includes/excludes, one name per entry order) are different JSON with the
// same verdicts.
func TestDiffIgnoresForm(t *testing.T) {
	def := profile.MustDefault()
	flat, err := profile.Flatten(def, x86_64Target)
	if err != nil {
		t.Fatal(err)
	}
	data, err := profile.Encode(flat, profile.FormatOCI)
	if err != nil {
		t.Fatal(err)
	}
	back, err := profile.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	a, err := profile.Resolve(def, x86_64Target)
	if err != nil {
		t.Fatal(err)
	}
	b, err := profile.Resolve(back, x86_64Target)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(a, b); len(d) != 0 {
		t.Errorf("default vs its flattened OCI form: %d changes, first %+v", len(d), d[0])
	}
	reordered := resolveJSON(t, `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
		{"names":["write"],"action":"SCMP_ACT_ALLOW"},{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["reed"],"action":"SCMP_ACT_ALLOW"}]}`)
	plain := resolveJSON(t, `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],"syscalls":[
		{"names":["read","write"],"action":"SCMP_ACT_ALLOW","comment":"same thing"}]}`)
	if d := Diff(reordered, plain); len(d) != 0 {
		t.Errorf("same verdicts in other words: %+v", d)
	}
}

const (
	twoFamilies = `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
		{"names":["read"],"action":"SCMP_ACT_ALLOW"},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]}]}`
	threeFamilies = `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
		{"names":["read"],"action":"SCMP_ACT_ALLOW"},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":10,"op":"SCMP_CMP_EQ"}]}]}`
)

// TestDiffArgumentOnly: the two profiles differ only for socket(AF_INET6);
// the example is checked by running both compiled programs in the VM.
func TestDiffArgumentOnly(t *testing.T) {
	a, b := resolveJSON(t, twoFamilies), resolveJSON(t, threeFamilies)
	d := Diff(a, b)
	if len(d) != 1 || d[0].Syscall != "socket" || d[0].Arch != "x86_64" || !d[0].Partial || d[0].A != "ERRNO(1)" || d[0].B != "ALLOW" {
		t.Fatalf("changes %+v, want one partial change of socket", d)
	}
	data := bpf.Data{Nr: int32(d[0].Nr), Arch: syscalls.X86_64.Audit, Args: d[0].Args}
	for _, c := range []struct {
		res  *profile.Resolved
		want string
	}{{a, d[0].A}, {b, d[0].B}} {
		prog, err := compiler.Compile(c.res, compiler.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ret, err := bpf.Run(prog.Instructions, data, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := profile.FormatRet(ret); got != c.want {
			t.Errorf("compiled program on the example %v: %s, diff said %s", d[0].Args, got, c.want)
		}
	}
	if d[0].Args[0] != 10 {
		t.Errorf("example socket(%d), want the family only b allows (10)", d[0].Args[0])
	}
}

func TestWithin(t *testing.T) {
	a, b := resolveJSON(t, twoFamilies), resolveJSON(t, threeFamilies)
	if c, ok := Within(a, b); !ok {
		t.Errorf("two families within three: counter-example %+v", c)
	}
	c, ok := Within(b, a)
	if ok || c.Syscall != "socket" || c.Args[0] != 10 || c.A != "ALLOW" {
		t.Errorf("three families within two: %v %+v, want a socket(10) counter-example", ok, c)
	}
	def, err := profile.Resolve(profile.MustDefault(), x86_64Target)
	if err != nil {
		t.Fatal(err)
	}
	// a allows read and socket(AF_UNIX, AF_INET), which the default allows
	// too; its missing x86 and x32 ABIs are killed, which is stricter.
	if c, ok := Within(a, def); !ok {
		t.Errorf("a small profile not within Docker's default: %+v", c)
	}
	if c, ok := Within(def, a); ok {
		t.Errorf("Docker's default within a two-call profile: %+v", c)
	}
}
