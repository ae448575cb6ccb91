package profile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/syscalls"
)

// minimal wraps syscall entries in a valid profile.
func minimal(entries string) string {
	return `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [` + entries + `]}`
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // each must appear in the error text
	}{
		{"unknown default action", `{"defaultAction": "SCMP_ACT_FOO"}`,
			[]string{`defaultAction: unknown action "SCMP_ACT_FOO"`}},
		{"missing default action", `{"syscalls": []}`, []string{"defaultAction: required"}},
		{"empty object", `{}`, []string{"defaultAction: required"}},
		{"notify default", `{"defaultAction": "SCMP_ACT_NOTIFY"}`,
			[]string{"defaultAction: SCMP_ACT_NOTIFY cannot be the default action"}},
		{"unknown action", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOWED"}`),
			[]string{`syscalls[0].action: unknown action "SCMP_ACT_ALLOWED"`}},
		{"missing action", minimal(`{"names": ["read"]}`), []string{"syscalls[0].action: required"}},
		{"unknown operator", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}`),
			[]string{`syscalls[0].args[0].op: unknown operator "SCMP_CMP_XX"`}},
		{"missing operator", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0}]}`),
			[]string{`syscalls[0].args[0].op: required`}},
		{"unknown arch", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_FOO"]}`,
			[]string{`architectures[0]: unknown architecture "SCMP_ARCH_FOO"`}},
		{"short arch name", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["x86_64"]}`,
			[]string{`architectures[0]: unknown architecture "x86_64" (the OCI name is "SCMP_ARCH_X86_64")`}},
		{"unknown archMap arch", `{"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "amd64", "subArchitectures": ["SCMP_ARCH_BAR"]}]}`,
			[]string{`archMap[0].architecture: unknown architecture "amd64"`, `archMap[0].subArchitectures[0]: unknown architecture "SCMP_ARCH_BAR"`}},
		{"missing archMap arch", `{"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"subArchitectures": []}]}`,
			[]string{`archMap[0].architecture: required`}},
		{"unknown flag", `{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BAR"]}`,
			[]string{`flags[0]: unknown flag "SECCOMP_FILTER_FLAG_BAR"`}},
		{"index 6", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "op": "SCMP_CMP_EQ"}, {"index": 6, "op": "SCMP_CMP_EQ"}]}`),
			[]string{"syscalls[0].args[1].index: must be < 6"}},
		{"errnoRet on allow", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}`),
			[]string{"syscalls[0].errnoRet: not allowed with SCMP_ACT_ALLOW"}},
		{"errnoRet on kill", minimal(`{"names": ["read"], "action": "SCMP_ACT_KILL", "errnoRet": 1}`),
			[]string{"syscalls[0].errnoRet: not allowed with SCMP_ACT_KILL_THREAD"}},
		{"defaultErrnoRet on allow", `{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}`,
			[]string{"defaultErrnoRet: not allowed with SCMP_ACT_ALLOW"}},
		{"errno over MAX_ERRNO", minimal(`{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4096}`),
			[]string{"syscalls[0].errnoRet: must be at most 4095 (MAX_ERRNO), got 4096"}},
		{"default errno over MAX_ERRNO", `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}`,
			[]string{"defaultErrnoRet: must be at most 4095"}},
		{"trace data over 16 bits", minimal(`{"names": ["read"], "action": "SCMP_ACT_TRACE", "errnoRet": 65536}`),
			[]string{"syscalls[0].errnoRet: must be at most 65535"}},
		{"name and names", minimal(`{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}`),
			[]string{"syscalls[0]: both name and names are set"}},
		{"architectures and archMap", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}`,
			[]string{"archMap: must not be set together with architectures"}},
		{"minKernel three parts", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8.1"}}`),
			[]string{`syscalls[0].includes.minKernel: invalid kernel version "4.8.1"`}},
		{"minKernel one part", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5"}}`),
			[]string{`syscalls[0].excludes.minKernel: invalid kernel version "5"`}},
		{"minKernel over 255", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "256.1"}}`),
			[]string{`syscalls[0].includes.minKernel: invalid kernel version "256.1": major must be a number 0..255`}},
		{"minKernel 0.0", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "0.0"}}`),
			[]string{`syscalls[0].includes.minKernel: invalid kernel version 0.0: must not be 0.0`}},
		{"minKernel not a string", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": 4.8}}`),
			[]string{`syscalls[0].includes.minKernel: expected a string, got a number`}},
		{"minKernel letters", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.x"}}`),
			[]string{`syscalls[0].includes.minKernel: invalid kernel version "4.x": minor must be a number`}},
		{"empty names", minimal(`{"names": [], "action": "SCMP_ACT_ALLOW"}`),
			[]string{"syscalls[0].names: must list at least one system call"}},
		{"no names", minimal(`{"action": "SCMP_ACT_ALLOW"}`),
			[]string{"syscalls[0].names: must list at least one system call"}},
		{"empty name string", minimal(`{"names": ["read", ""], "action": "SCMP_ACT_ALLOW"}`),
			[]string{"syscalls[0].names[1]: must not be empty"}},
		{"empty deprecated name", minimal(`{"name": "", "action": "SCMP_ACT_ALLOW"}`),
			[]string{"syscalls[0].names: must list at least one system call"}},
		{"string for number", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": "0", "op": "SCMP_CMP_EQ"}]}`),
			[]string{"syscalls[0].args[0].index: expected a number, got a string"}},
		{"number for string", minimal(`{"names": [1], "action": "SCMP_ACT_ALLOW"}`),
			[]string{"syscalls[0].names[0]: expected a string, got a number"}},
		{"object for array", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}`,
			[]string{"syscalls: expected an array, got an object"}},
		{"null entry", minimal(`null`), []string{"syscalls[0]: expected an object, got null"}},
		{"negative value", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}`),
			[]string{"syscalls[0].args[0].value: must not be negative, got -1"}},
		{"negative errnoRet", minimal(`{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": -1}`),
			[]string{"syscalls[0].errnoRet: must not be negative"}},
		{"value over 64 bits", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "valueTwo": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}`),
			[]string{"syscalls[0].args[0].valueTwo: must fit in 64 bits, got 18446744073709551616"}},
		{"fractional value", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1.0, "op": "SCMP_CMP_EQ"}]}`),
			[]string{"syscalls[0].args[0].index: must be an integer, got 1.0"}},
		{"unknown cap", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["SYS_ADMIN"]}}`),
			[]string{`syscalls[0].includes.caps[0]: unknown capability "SYS_ADMIN"`}},
		{"unknown filter arch", minimal(`{"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["x86_64"]}}`),
			[]string{`syscalls[0].excludes.arches[0]: unknown architecture "x86_64"`}},
		{"top level array", `[]`, []string{"profile: expected an object, got an array"}},
		{"top level null", `null`, []string{"profile: expected an object, got null"}},
		{"syntax error", "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [}\n}", []string{"line 3, column 16"}},
		{"truncated", "{\"defaultAction\": ", []string{"line 1, column 19: unexpected end of input"}},
		{"trailing data", `{"defaultAction": "SCMP_ACT_ALLOW"} {}`, []string{"line 1, column 37: unexpected data after the top-level value"}},
		{"empty input", "  \n", []string{"decode profile: empty input"}},
		{"config without seccomp", `{"ociVersion": "1.2.0", "linux": {}}`, []string{"linux.seccomp: missing"}},
		{"config without linux", `{"ociVersion": "1.2.0"}`, []string{"linux.seccomp: missing"}},
		{"config paths", `{"ociVersion": "1.2.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "X"}]}}}`,
			[]string{`linux.seccomp.syscalls[0].action: unknown action "X"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", p)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestDecodeCollectsAllErrors(t *testing.T) {
	in := `{"defaultAction": "SCMP_ACT_FOO", "flags": ["X"], "syscalls": [
		{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 7, "op": "SCMP_CMP_EQ"}]},
		{"names": [], "action": "SCMP_ACT_ERRNO", "errnoRet": 9999}]}`
	_, err := Decode([]byte(in))
	var fes []*FieldError
	for _, e := range unjoin(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			fes = append(fes, fe)
		}
	}
	var paths []string
	for _, fe := range fes {
		paths = append(paths, fe.Path)
	}
	want := []string{"defaultAction", "flags[0]", "syscalls[0].args[0].index", "syscalls[1].names", "syscalls[1].errnoRet"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %q, want %q\n%v", paths, want, err)
	}
}

// unjoin flattens errors.Join trees and fmt.Errorf wrappers into leaves.
func unjoin(err error) []error {
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, c := range e.Unwrap() {
			out = append(out, unjoin(c)...)
		}
		return out
	case *FieldError:
		return []error{e}
	case interface{ Unwrap() error }:
		return unjoin(e.Unwrap())
	}
	return []error{err}
}

func TestDecodeWarnings(t *testing.T) {
	in := `{"defaultAction": "SCMP_ACT_ALLOW", "foo": 1, "Syscalls": [
		{"names": ["read"], "action": "SCMP_ACT_ERRNO", "bar": true, "args": [{"index": 0, "op": "SCMP_CMP_EQ", "baz": 1}]}]}`
	p, warns, err := DecodeWithWarnings([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`Syscalls: read as "syscalls"`,
		"Syscalls[0].args[0].baz: unknown key ignored",
		"Syscalls[0].bar: unknown key ignored",
		"foo: unknown key ignored",
	}
	if !reflect.DeepEqual(warns, want) {
		t.Errorf("warnings = %q, want %q", warns, want)
	}
	if len(p.Syscalls) != 1 {
		t.Errorf("case-insensitive key not read: %+v", p)
	}
}

func TestDecodeForms(t *testing.T) {
	u := func(v uint16) *uint16 { return &v }
	tests := []struct {
		file  string
		check func(t *testing.T, p *Profile, warns []string)
	}{
		{"full.json", func(t *testing.T, p *Profile, _ []string) {
			if p.DefaultAction != Errno || *p.DefaultErrnoRet != 38 {
				t.Errorf("default = %v %v", p.DefaultAction, p.DefaultErrnoRet)
			}
			if len(p.ArchMap) != 2 || p.ArchMap[0].Arch != syscalls.X86_64 || !reflect.DeepEqual(p.ArchMap[0].SubArches, []*syscalls.Arch{syscalls.X86, syscalls.X32}) {
				t.Errorf("archMap = %+v", p.ArchMap)
			}
			if !p.Syscalls[1].UsedName || p.Syscalls[1].Action != KillThread {
				t.Errorf("syscalls[1] = %+v", p.Syscalls[1])
			}
			if a := p.Syscalls[2].Args[0]; a.Value != 1<<64-1 {
				t.Errorf("uint64 max decoded as %d", a.Value)
			}
			if s := p.Syscalls[4]; *s.ErrnoRet != 65535 || *s.Includes.MinKernel != (KernelVersion{4, 8}) || s.Excludes.Caps[0] != "CAP_SYS_ADMIN" {
				t.Errorf("syscalls[4] = %+v", s)
			}
			if !reflect.DeepEqual(p.Syscalls[3].ErrnoRet, u(97)) {
				t.Errorf("errnoRet = %v", p.Syscalls[3].ErrnoRet)
			}
		}},
		{"config.json", func(t *testing.T, p *Profile, warns []string) {
			if len(p.Architectures) != 2 || len(p.Syscalls) != 2 {
				t.Errorf("profile = %+v", p)
			}
			// runc reads linux.seccomp with the OCI types: includes is
			// not a condition there.
			if p.Syscalls[1].Includes != nil {
				t.Errorf("includes read in an OCI config")
			}
			if len(warns) != 1 || !strings.Contains(warns[0], "linux.seccomp.syscalls[1].includes: unknown key") {
				t.Errorf("warnings = %q", warns)
			}
		}},
		{"oci.json", func(t *testing.T, p *Profile, _ []string) {
			if p.DefaultAction != KillProcess || !reflect.DeepEqual(p.Flags, []string{FlagSpecAllow, FlagTSync}) {
				t.Errorf("profile = %+v", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			p, warns, err := DecodeWithWarnings(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("decoded profile does not validate: %v", err)
			}
			tt.check(t, p, warns)
		})
	}
}
