package audit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/testutil"
)

const (
	logA = `type=SECCOMP msg=audit(1764240000.100:1): pid=10 comm="a" exe="/a" sig=0 arch=c000003e syscall=83 compat=0 ip=0x1 code=0x7ffc0000`
	logB = `type=SECCOMP msg=audit(1764240000.200:2): pid=11 comm="a" exe="/a" sig=0 arch=c000003e syscall=83 compat=0 ip=0x1 code=0x7ffc0000`
	logC = `type=SECCOMP msg=audit(1764240000.300:3): pid=10 comm="a" exe="/a" sig=0 arch=40000003 syscall=39 compat=1 ip=0x1 code=0x7ffc0000`
	logD = `type=SECCOMP msg=audit(1764240000.050:4): pid=10 comm="a" exe="/a" sig=0 arch=c000003e syscall=83 compat=0 ip=0x1 code=0x7ffc0000`
)

func records(t *testing.T, lines ...string) []*Record {
	t.Helper()
	var out []*Record
	for _, l := range lines {
		e, ok, err := ParseAuditLog(l)
		if !ok || err != nil {
			t.Fatalf("parse %q: %v", l, err)
		}
		out = append(out, e.Record)
	}
	return out
}

func TestSummary(t *testing.T) {
	tests := []struct {
		name  string
		byPID bool
		want  []string // syscall/arch/pid count
	}{
		{"by process", false, []string{"mkdir x86_64 [10 11] 3", "mkdir x86 [10] 1"}},
		{"by pid", true, []string{"mkdir x86_64 [10] 2", "mkdir x86_64 [11] 1", "mkdir x86 [10] 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summary{ByPID: tt.byPID}
			for _, r := range records(t, logA, logB, logC, logD) {
				s.Add(r)
			}
			var got []string
			for _, g := range s.Groups() {
				got = append(got, fmt.Sprintf("%s %s %v %d", g.Syscall, g.Arch, g.PIDs, g.Count))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("groups\n%q\nwant\n%q", got, tt.want)
			}
			if s.Records() != 4 {
				t.Errorf("records %d, want 4", s.Records())
			}
		})
	}
	var s Summary
	for _, r := range records(t, logA, logB, logD) {
		s.Add(r)
	}
	g := s.Groups()[0]
	if !g.First.Equal(time.Unix(1764240000, 50e6)) || !g.Last.Equal(time.Unix(1764240000, 200e6)) {
		t.Errorf("first %v last %v", g.First, g.Last)
	}
}

func TestReadAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	content := logA + "\n" + `type=SYSCALL msg=audit(1764240000.100:1): arch=c000003e syscall=83` + "\n" + logB + "\n" + logC
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	if err := r.Read(t.Context(), false, func(e Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("read %d records, want 3", n)
	}
	// Following: a line appended later arrives; cancelling ends the read.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	r.Poll = 10 * time.Millisecond
	go func() { _, _ = f.WriteString("\n" + logD + "\n") }()
	var got *Record
	err = r.Read(ctx, true, func(e Entry) error {
		got = e.Record
		cancel()
		return nil
	})
	if err != nil || got == nil || got.Serial != 4 {
		t.Fatalf("follow: record %+v, err %v", got, err)
	}
}

func TestReadKmsg(t *testing.T) {
	testutil.RequireRoot(t)
	r, err := OpenKmsg()
	if err != nil {
		testutil.Unavailable(t, "open /dev/kmsg: %v", err)
	}
	defer r.Close()
	// The log ends (EAGAIN) rather than blocking.
	done := make(chan error, 1)
	go func() { done <- r.Read(t.Context(), false, func(Entry) error { return nil }) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("reading /dev/kmsg without follow did not end")
	}
	// Following ends when the context does.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := r.Read(ctx, true, func(Entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestBootTimeAndRateLimit(t *testing.T) {
	b, err := BootTime()
	if err != nil || !b.Before(time.Now()) {
		t.Fatalf("boot %v, err %v", b, err)
	}
	if _, err := ReadRateLimit(); err != nil {
		t.Fatal(err)
	}
}

func TestTree(t *testing.T) {
	self := os.Getpid()
	tree, err := NewTree(self)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if !tree.Contains(self) || !tree.Contains(cmd.Process.Pid) {
		t.Errorf("tree of %d lacks itself or its child %d", self, cmd.Process.Pid)
	}
	if _, err := NewTree(1 << 30); err == nil {
		t.Error("NewTree of a missing process: no error")
	}
}
