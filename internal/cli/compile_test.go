package cli_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/cli"
)

// decodeBPF checks that data is a raw filter the kernel would accept.
func decodeBPF(t *testing.T, data []byte) []bpf.Instruction {
	t.Helper()
	if len(data) == 0 || len(data)%bpf.InstructionSize != 0 {
		t.Fatalf("raw filter has %d bytes, want a positive multiple of %d", len(data), bpf.InstructionSize)
	}
	prog, err := bpf.Unmarshal(data, binary.NativeEndian)
	if err != nil {
		t.Fatal(err)
	}
	if err := bpf.Validate(prog); err != nil {
		t.Fatalf("compiled filter does not validate: %v", err)
	}
	return prog
}

func TestCompileFormats(t *testing.T) {
	tests := []struct {
		format string
		check  func(t *testing.T, out []byte)
	}{
		{"bpf", func(t *testing.T, out []byte) { decodeBPF(t, out) }},
		{"c", func(t *testing.T, out []byte) {
			for _, s := range []string{"struct sock_filter", "struct sock_fprog", "#include <linux/filter.h>"} {
				if !bytes.Contains(out, []byte(s)) {
					t.Errorf("C output lacks %q", s)
				}
			}
		}},
		{"json", func(t *testing.T, out []byte) {
			var doc struct {
				Instructions []struct {
					Code uint16 `json:"code"`
					Jt   uint8  `json:"jt"`
					Jf   uint8  `json:"jf"`
					K    uint32 `json:"k"`
				} `json:"instructions"`
				Stats map[string]any `json:"stats"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("json output does not parse: %v", err)
			}
			if len(doc.Instructions) == 0 {
				t.Error("json output has no instructions")
			}
			if len(doc.Stats) == 0 {
				t.Error("json output has no stats")
			}
		}},
		{"disasm", func(t *testing.T, out []byte) {
			first, _, _ := strings.Cut(string(out), "\n")
			if !strings.Contains(first, "ld [4]") {
				t.Errorf("first line %q does not load the arch (ld [4])", first)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			path := tmp(t, "out")
			r := mustRun(t, "", withTarget("compile", "default", "--format", tt.format, "-o", path)...)
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing with -o", r.stdout)
			}
			tt.check(t, readFile(t, path))
		})
	}
}

// TestCompileDefaultFormat checks that without --format, -o and a pipe
// both get raw BPF, the same bytes.
func TestCompileDefaultFormat(t *testing.T) {
	path := tmp(t, "f.bpf")
	mustRun(t, "", withTarget("compile", "default", "-o", path)...)
	file := readFile(t, path)
	decodeBPF(t, file)
	r := mustRun(t, "", withTarget("compile", "default")...)
	if r.stdout != string(file) {
		t.Errorf("stdout (%d bytes) differs from -o output (%d bytes)", len(r.stdout), len(file))
	}
}

func TestCompileStats(t *testing.T) {
	r := mustRun(t, "", withTarget("compile", "default", "--stats", "-o", tmp(t, "f"))...)
	for _, s := range []string{"instructions:", "x86_64"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("--stats output lacks %q:\n%s", s, r.stderr)
		}
	}
}

func TestCompileArch(t *testing.T) {
	for _, arch := range []string{"aarch64", "SCMP_ARCH_AARCH64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			r := mustRun(t, "", "compile", "default", "--arch", arch, "--kernel", "6.1", "--format", "disasm")
			if !strings.Contains(r.stdout, "0xc00000b7") {
				t.Errorf("aarch64 filter does not test AUDIT_ARCH_AARCH64:\n%.400s", r.stdout)
			}
			if strings.Contains(r.stdout, "0xc000003e") {
				t.Errorf("aarch64 filter tests AUDIT_ARCH_X86_64")
			}
		})
	}
	wantFail(t, run(t, "", "compile", "default", "--arch", "vax"), cli.ExitUsage, "--arch", "vax")
}

func TestCompileCaps(t *testing.T) {
	base := mustRun(t, "", withTarget("compile", "default")...).stdout
	admin := mustRun(t, "", withTarget("compile", "default", "--cap-add", "SYS_ADMIN")...).stdout
	if base == admin {
		t.Error("--cap-add SYS_ADMIN does not change the default profile's program")
	}
	decodeBPF(t, []byte(admin))
	// CAP_ prefix and case do not matter.
	if again := mustRun(t, "", withTarget("compile", "default", "--cap-add", "cap_sys_admin")...).stdout; again != admin {
		t.Error("--cap-add cap_sys_admin differs from --cap-add SYS_ADMIN")
	}
	if priv := mustRun(t, "", withTarget("compile", "default", "--privileged")...).stdout; priv == base {
		t.Error("--privileged does not change the default profile's program")
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"bogus cap-add", []string{"--cap-add", "bogus"}, []string{"--cap-add", "CAP_BOGUS"}},
		{"bogus cap-drop", []string{"--cap-drop", "NOPE"}, []string{"--cap-drop", "CAP_NOPE"}},
		{"bad kernel", []string{"--kernel", "bad"}, []string{"--kernel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"compile", "default", "--arch", "x86_64"}, tt.args...)
			wantFail(t, run(t, "", args...), cli.ExitUsage, tt.want...)
		})
	}
}

func TestCompileStdin(t *testing.T) {
	src := string(readFile(t, "testdata/verdicts.json"))
	fromFile := mustRun(t, "", withTarget("compile", "testdata/verdicts.json")...).stdout
	fromStdin := mustRun(t, src, withTarget("compile", "-")...).stdout
	if fromFile != fromStdin {
		t.Error("compiling from standard input differs from compiling the file")
	}
	decodeBPF(t, []byte(fromStdin))
}

func TestCompileErrors(t *testing.T) {
	t.Run("invalid profile", func(t *testing.T) {
		wantFail(t, run(t, "", withTarget("compile", "testdata/invalid.json")...), cli.ExitFailure,
			"testdata/invalid.json", "syscalls[1].action", "SCMP_ACT_BOGUS")
	})
	t.Run("malformed stdin", func(t *testing.T) {
		wantFail(t, run(t, "{\n  \"defaultAction\": ", withTarget("compile", "-")...), cli.ExitFailure, "line 2")
	})
	t.Run("missing file", func(t *testing.T) {
		wantFail(t, run(t, "", withTarget("compile", "testdata/no-such.json")...), cli.ExitFailure, "read profile", "no-such.json")
	})
	t.Run("unwritable output", func(t *testing.T) {
		wantFail(t, run(t, "", withTarget("compile", "default", "-o", tmp(t, "no/such/dir/f.bpf"))...), cli.ExitFailure, "open output")
	})
	t.Run("unknown format", func(t *testing.T) {
		path := tmp(t, "f")
		wantFail(t, run(t, "", withTarget("compile", "default", "--format", "yaml", "-o", path)...), cli.ExitUsage, "--format", "yaml")
	})
}
