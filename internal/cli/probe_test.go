package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/testutil"
)

// probe runs sysfence probe with args and an optional hook, in-process.
func probe(t *testing.T, hook func(*probeEnv), args ...string) (string, string, int) {
	t.Helper()
	probeHook = hook
	t.Cleanup(func() { probeHook = nil })
	var out, errb bytes.Buffer
	code := Run(append([]string{"probe"}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func probeJSON(t *testing.T, hook func(*probeEnv)) (*probeReport, []byte) {
	t.Helper()
	out, stderr, code := probe(t, hook, "--format", "json")
	if code != ExitOK {
		t.Fatalf("probe --format json: exit %d: %s", code, stderr)
	}
	var r probeReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("probe JSON does not parse: %v\n%s", err, out)
	}
	return &r, []byte(out)
}

// TestProbeJSONKeys checks the JSON has every documented key, so that a
// renamed field breaks this test rather than a user's script.
func TestProbeJSONKeys(t *testing.T) {
	r, raw := probeJSON(t, nil)
	var doc map[string]map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"kernel": {"name", "status", "value", "fix"},
		"seccomp": {"filter", "actions", "actions_avail", "actions_logged", "flags",
			"notif_sizes", "action_cache", "bpf_jit"},
		"record": {"privileges", "tracefs", "raw_syscalls", "btf", "memlock", "unprivileged_bpf_disabled", "cgroup2", "backend"},
		"docker": {"engine", "runc"},
	}
	for section, keys := range want {
		for _, k := range keys {
			if _, ok := doc[section][k]; !ok {
				t.Errorf("JSON lacks %s.%s", section, k)
			}
		}
		if len(doc[section]) != len(keys) {
			t.Errorf("JSON %s has %d keys, want %d", section, len(doc[section]), len(keys))
		}
	}
	var names []string
	for _, a := range r.Seccomp.Actions {
		names = append(names, a.Name)
	}
	if want := []string{"KILL_PROCESS", "KILL_THREAD", "TRAP", "ERRNO", "USER_NOTIF", "TRACE", "LOG", "ALLOW"}; !slices.Equal(names, want) {
		t.Errorf("actions = %v, want %v", names, want)
	}
	names = nil
	for _, f := range r.Seccomp.Flags {
		names = append(names, f.Name)
	}
	if want := []string{"TSYNC", "LOG", "SPEC_ALLOW", "NEW_LISTENER", "TSYNC_ESRCH", "WAIT_KILLABLE_RECV"}; !slices.Equal(names, want) {
		t.Errorf("flags = %v, want %v", names, want)
	}
	for _, sec := range r.sections() {
		for _, it := range sec.items {
			checkItem(t, it)
		}
	}
}

// checkItem checks an item's status is known and that a missing item
// carries a fix and the others none.
func checkItem(t *testing.T, it probeItem) {
	t.Helper()
	switch {
	case !slices.Contains([]string{probeOK, probeMissing, probeUnknown}, it.Status):
		t.Errorf("%s: status %q", it.Name, it.Status)
	case (it.Status == probeMissing) != (it.Fix != ""):
		t.Errorf("%s: status %s with fix %q", it.Name, it.Status, it.Fix)
	case it.Value == "":
		t.Errorf("%s: empty value", it.Name)
	}
}

// TestProbeThisMachine checks what every machine sysfence is tested on
// has: root and seccomp with the LOG flag (Linux 4.14).
func TestProbeThisMachine(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireSeccomp(t)
	r, _ := probeJSON(t, nil)
	find := func(items []probeItem, name string) probeItem {
		for _, it := range items {
			if it.Name == name {
				return it
			}
		}
		t.Fatalf("no item %s", name)
		return probeItem{}
	}
	for _, it := range []probeItem{r.Kernel, r.Seccomp.Filter, find(r.Seccomp.Actions, "ALLOW"),
		find(r.Seccomp.Flags, "LOG"), r.Record.Privileges} {
		if it.Status != probeOK {
			t.Errorf("%s: %s (%s), want ok", it.Name, it.Status, it.Value)
		}
	}
}

// TestProbeTextListsEveryItem checks the text output has one line per item.
func TestProbeTextListsEveryItem(t *testing.T) {
	out, stderr, code := probe(t, nil)
	if code != ExitOK {
		t.Fatalf("probe: exit %d: %s", code, stderr)
	}
	r, _ := probeJSON(t, nil)
	for _, sec := range r.sections() {
		if !strings.Contains(out, sec.title+"\n") {
			t.Errorf("text lacks section %q", sec.title)
		}
		for _, it := range sec.items {
			if !strings.Contains(out, " "+it.Name+" ") {
				t.Errorf("text lacks item %q:\n%s", it.Name, out)
			}
		}
	}
}

// TestProbeMissingFix fakes missing items through the hook and checks the
// text prints each one's fix on the line after it, and the exit status
// stays 0.
func TestProbeMissingFix(t *testing.T) {
	procSys := t.TempDir()
	for rel, content := range map[string]string{
		"net/core/bpf_jit_enable":       "0\n",
		"kernel/seccomp/actions_logged": "kill_process kill_thread\n",
	} {
		p := filepath.Join(procSys, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nowhere := filepath.Join(t.TempDir(), "nowhere")
	hook := func(e *probeEnv) {
		e.procSys = procSys
		e.btf = nowhere
		e.docker = "sysfence-test-no-docker"
		e.runc = "sysfence-test-no-runc"
	}
	tests := []struct{ name, fix string }{
		{"btf", "use a kernel built with CONFIG_DEBUG_INFO_BTF=y"},
		{"bpf_jit", "sysctl -w net.core.bpf_jit_enable=1"},
		{"actions_logged", "add log to it: echo kill_process kill_thread log > " + procSys + "/kernel/seccomp/actions_logged"},
		{"actions_avail", "upgrade the kernel to Linux 4.14 or later"},
		{"engine", "install Docker Engine: https://docs.docker.com/engine/install/"},
		{"runc", "install runc (apt-get install runc), or Docker Engine which ships it"},
	}
	out, stderr, code := probe(t, hook)
	if code != ExitOK {
		t.Fatalf("probe: exit %d, want 0 with items missing: %s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := slices.IndexFunc(lines, func(l string) bool {
				f := strings.Fields(l)
				return len(f) >= 2 && f[1] == tt.name
			})
			if i < 0 || i+1 >= len(lines) {
				t.Fatalf("no line for %s in:\n%s", tt.name, out)
			}
			if f := strings.Fields(lines[i]); f[0] != probeMissing {
				t.Errorf("%s: status %s, want missing", tt.name, f[0])
			}
			if got := strings.TrimSpace(lines[i+1]); got != "fix: "+tt.fix {
				t.Errorf("%s: fix line %q, want %q", tt.name, got, "fix: "+tt.fix)
			}
		})
	}
	r, _ := probeJSON(t, hook)
	if r.Record.BTF.Status != probeMissing || r.Record.BTF.Fix != tests[0].fix {
		t.Errorf("JSON btf = %+v, want missing with its fix", r.Record.BTF)
	}
}

func TestProbeUsage(t *testing.T) {
	for _, args := range [][]string{{"--format", "yaml"}, {"extra"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if _, _, code := probe(t, nil, args...); code != ExitUsage {
				t.Errorf("probe %v: exit %d, want %d", args, code, ExitUsage)
			}
		})
	}
}

// TestProbeDockerTimeout checks a docker CLI that never answers is
// reported missing after the timeout instead of hanging probe.
func TestProbeDockerTimeout(t *testing.T) {
	docker := filepath.Join(t.TempDir(), "docker")
	if err := os.WriteFile(docker, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, _ := probeJSON(t, func(e *probeEnv) {
		e.docker = docker
		e.timeout = 200 * time.Millisecond
	})
	if e := r.Docker.Engine; e.Status != probeMissing || !strings.Contains(e.Value, "no answer within 200ms") {
		t.Errorf("engine = %+v, want missing: no answer within 200ms", e)
	}
}
