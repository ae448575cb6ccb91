package profile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test profiles: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Decode(data)
			if err != nil {
				t.Skipf("not a valid profile: %v", err)
			}
			out, err := Encode(p, FormatDocker)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Decode(out)
			if err != nil {
				t.Fatalf("re-decode: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(p, q) {
				t.Errorf("round trip differs:\n%+v\n%+v", p, q)
			}
			again, _ := Encode(q, FormatDocker)
			if string(again) != string(out) {
				t.Errorf("encoding is not stable")
			}
		})
	}
}

func TestEncodeCanonical(t *testing.T) {
	in := `{"syscalls": [{"name": "getpid", "action": "SCMP_ACT_KILL", "comment": "a<b",
		"args": [{"op": "SCMP_CMP_GT", "index": 1, "value": 18446744073709551615}]}],
		"defaultAction": "SCMP_ACT_ALLOW"}`
	p, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Encode(p, FormatDocker)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    {
      "name": "getpid",
      "action": "SCMP_ACT_KILL_THREAD",
      "args": [
        {
          "index": 1,
          "value": 18446744073709551615,
          "valueTwo": 0,
          "op": "SCMP_CMP_GT"
        }
      ],
      "comment": "a<b"
    }
  ]
}
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestEncodeOCI(t *testing.T) {
	data, err := os.ReadFile("testdata/full.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Encode(p, FormatOCI)
	for _, w := range []string{"archMap: the OCI format has no archMap", "syscalls[4].includes:", "syscalls[4].excludes:"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Encode(OCI) error %v, want %q", err, w)
		}
	}
	p.ArchMap = nil
	p.Syscalls[4].Includes, p.Syscalls[4].Excludes = nil, nil
	out, err := Encode(p, FormatOCI)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), `"comment"`) || strings.Contains(string(out), `"name"`) {
		t.Errorf("OCI output has Docker-only keys:\n%s", out)
	}
	q, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Syscalls {
		p.Syscalls[i].Comment, p.Syscalls[i].UsedName = "", false
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("OCI round trip differs:\n%+v\n%+v", p, q)
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	p := &Profile{DefaultAction: Allow, Syscalls: []Syscall{{Names: []string{"read"}, Action: Allow, Args: []Arg{{Index: 9, Op: OpEqualTo}}}}}
	if _, err := Encode(p, FormatDocker); err == nil || !strings.Contains(err.Error(), "syscalls[0].args[0].index: must be < 6") {
		t.Errorf("Encode error = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 5, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`))
	f.Add([]byte(`{"ociVersion": "1", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_LOG"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("decoded profile does not validate: %v", err)
		}
		out, err := Encode(p, FormatDocker)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		q, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip differs:\n%+v\n%+v", p, q)
		}
		// Resolving may fail (runc's refusals) but never panic.
		_, _ = Resolve(p, x86_64Docker)
		_, _ = Flatten(p, x86_64Docker)
	})
}
