package generate

import (
	"strings"
	"testing"

	"github.com/sysfence/sysfence/profile"
)

func decode(t *testing.T, js string) *profile.Profile {
	t.Helper()
	p, err := profile.Decode([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	profA = `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],"syscalls":[
		{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
		{"names":["ioctl"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":21505,"op":"SCMP_CMP_EQ"}]},
		{"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]}`
	profB = `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[
		{"names":["read","openat"],"action":"SCMP_ACT_ALLOW"},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
		{"names":["ioctl"],"action":"SCMP_ACT_ALLOW"},
		{"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]}`
	profC = `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],"syscalls":[
		{"names":["read"],"action":"SCMP_ACT_ALLOW"},
		{"names":["clone3"],"action":"SCMP_ACT_ALLOW"}]}`
)

// TestMergeIsTheUnion checks on the compiled programs that every probed call
// is allowed by the merge exactly when one input allows it.
func TestMergeIsTheUnion(t *testing.T) {
	inputs := []Input{{"a.json", decode(t, profA)}, {"b.json", decode(t, profB)}, {"c.json", decode(t, profC)}}
	merged, err := Merge(inputs)
	if err != nil {
		t.Fatal(err)
	}
	mergedProg := compiled(t, merged)
	type probe struct {
		name string
		args []uint64
	}
	var probes []probe
	for _, n := range []string{"read", "write", "openat", "clone3", "keyctl", "close"} {
		probes = append(probes, probe{n, nil})
	}
	for fam := uint64(0); fam < 48; fam++ {
		probes = append(probes, probe{"socket", []uint64{fam, 1}})
	}
	for _, req := range []uint64{0x5401, 0x5412, 0} {
		probes = append(probes, probe{"ioctl", []uint64{1, req}})
	}
	for _, p := range probes {
		allowedByOne := false
		for _, in := range inputs {
			if verdict(t, compiled(t, in.Profile), p.name, p.args...) == "ALLOW" {
				allowedByOne = true
			}
		}
		got := verdict(t, mergedProg, p.name, p.args...)
		if (got == "ALLOW") != allowedByOne {
			t.Errorf("%s%v: merged verdict %s, but allowed by an input: %v", p.name, p.args, got, allowedByOne)
		}
	}
	if got := verdict(t, mergedProg, "keyctl"); got != "ERRNO(1)" {
		t.Errorf("keyctl = %s, want the default ERRNO(1)", got)
	}
	if len(merged.Architectures) != 2 {
		t.Errorf("architectures = %v, want the union of two", merged.Architectures)
	}
}

func TestMergeComments(t *testing.T) {
	merged, err := Merge([]Input{{"a.json", decode(t, profA)}, {"b.json", decode(t, profB)}, {"c.json", decode(t, profC)}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"read":   "allowed in 3 of 3 merged profiles",
		"ioctl":  "allowed in 2 of 3 merged profiles",
		"clone3": "allowed in 1 of 3 merged profiles",
		"socket": "allowed in 2 of 3 merged profiles, only with these 2 argument conditions",
	}
	for _, e := range merged.Syscalls {
		for _, n := range e.Names {
			if w, ok := want[n]; ok && e.Comment != "" && e.Comment != w {
				t.Errorf("%s: comment %q, want %q", n, e.Comment, w)
			}
			if n == "clone3" && e.Action != profile.Allow {
				t.Errorf("clone3 is allowed by c.json but merged as %s", e.Action)
			}
		}
	}
}

func TestMergeRefusals(t *testing.T) {
	a := decode(t, profA)
	kill := decode(t, strings.Replace(profC, `"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1`, `"defaultAction":"SCMP_ACT_KILL_PROCESS"`, 1))
	incl := decode(t, `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[{"names":["bpf"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}}]}`)
	condErrno := decode(t, `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":97,"args":[{"index":0,"value":40,"op":"SCMP_CMP_EQ"}]}]}`)
	for _, c := range []struct {
		b    *profile.Profile
		want string
	}{
		{kill, "b.json: defaultAction SCMP_ACT_KILL_PROCESS differs from a.json's SCMP_ACT_ERRNO(1)"},
		{incl, "b.json: syscalls[0]: includes/excludes are not merged"},
		{condErrno, "b.json: syscalls[0]: conditional SCMP_ACT_ERRNO rules are not merged"},
	} {
		_, err := Merge([]Input{{"a.json", a}, {"b.json", c.b}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want it to say %q", err, c.want)
		}
	}
}
