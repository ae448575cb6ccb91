package audit

import (
	"testing"
	"time"
)

func TestParseKmsg(t *testing.T) {
	tests := []struct {
		name, line                       string
		comm, exe, arch, syscall, action string
		pid                              int
		compat                           bool
	}{
		{
			name: "x86_64 log",
			line: `5,5408,4769746191,-;audit: type=1326 audit(1764240000.123:456): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=unconfined pid=123 comm="mkdir" exe="/usr/bin/mkdir" sig=0 arch=c000003e syscall=83 compat=0 ip=0x7f3a1b2c3d4e code=0x7ffc0000`,
			comm: "mkdir", exe: "/usr/bin/mkdir", arch: "x86_64", syscall: "mkdir", action: "LOG", pid: 123,
		},
		{
			name: "i386 compat kill",
			line: `5,17,99000000,-;audit: type=1326 audit(1764240001.500:457): auid=1000 uid=1000 gid=1000 ses=2 pid=4242 comm="hello32" exe="/tmp/hello32" sig=31 arch=40000003 syscall=39 compat=1 ip=0xf7f1c549 code=0x80000000`,
			comm: "hello32", exe: "/tmp/hello32", arch: "x86", syscall: "mkdir", action: "KILL_PROCESS", pid: 4242, compat: true,
		},
		{
			name: "x32 number",
			line: `5,18,99000001,-;audit: type=1326 audit(1764240001.501:458): auid=0 uid=0 gid=0 ses=1 pid=77 comm="x32prog" exe="/tmp/x32prog" sig=0 arch=c000003e syscall=1073741907 compat=0 ip=0x401000 code=0x50001`,
			comm: "x32prog", exe: "/tmp/x32prog", arch: "x32", syscall: "mkdir", action: "ERRNO(1)", pid: 77,
		},
		{
			name: "hex comm and exe",
			line: `5,19,99000002,-;audit: type=1326 audit(1764240001.502:459): auid=0 uid=0 gid=0 ses=1 pid=78 comm=6D7920636F6D6D exe=2F746D702F6D792070726F67 sig=0 arch=c000003e syscall=272 compat=0 ip=0x401000 code=0x7ffc0000`,
			comm: "my comm", exe: "/tmp/my prog", arch: "x86_64", syscall: "unshare", action: "LOG", pid: 78,
		},
		{
			name: "unknown number",
			line: `5,20,99000003,-;audit: type=1326 audit(1764240001.503:460): auid=0 uid=0 gid=0 ses=1 pid=79 comm="t" exe="/t" sig=31 arch=c000003e syscall=1005 compat=0 ip=0x40ac0e code=0x0`,
			comm: "t", exe: "/t", arch: "x86_64", syscall: "#1005", action: "KILL_THREAD", pid: 79,
		},
		{
			name: "continuation lines",
			line: "5,21,99000004,-;audit: type=1326 audit(1764240001.504:461): pid=80 comm=\"c\" exe=\"/c\" sig=0 arch=c00000b7 syscall=34 compat=0 ip=0x1 code=0x7ffc0000\n SUBSYSTEM=audit\n",
			comm: "c", exe: "/c", arch: "aarch64", syscall: "mkdirat", action: "LOG", pid: 80,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok, err := ParseKmsg(tt.line)
			if err != nil || !ok || e.Record == nil {
				t.Fatalf("ParseKmsg: ok %v, err %v", ok, err)
			}
			r := e.Record
			got := []string{r.Comm, r.Exe, r.ArchName(), r.Syscall(), r.Action()}
			want := []string{tt.comm, tt.exe, tt.arch, tt.syscall, tt.action}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("field %d = %q, want %q", i, got[i], want[i])
				}
			}
			if r.PID != tt.pid || r.Compat != tt.compat {
				t.Errorf("pid %d compat %v, want %d %v", r.PID, r.Compat, tt.pid, tt.compat)
			}
			if e.Seq == 0 || e.Mono == 0 || r.Time.Before(time.Unix(1764240000, 0)) {
				t.Errorf("seq %d mono %v time %v", e.Seq, e.Mono, r.Time)
			}
		})
	}
}

func TestParseKmsgStamp(t *testing.T) {
	e, _, err := ParseKmsg(`5,5408,4769746191,-;audit: type=1326 audit(1764240000.123:456): pid=1 comm="a" exe="/a" arch=c000003e syscall=0 compat=0 ip=0x0 code=0x7ffc0000`)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1764240000, 123e6); !e.Record.Time.Equal(want) || e.Record.Serial != 456 {
		t.Errorf("time %v serial %d, want %v 456", e.Record.Time, e.Record.Serial, want)
	}
	if e.Seq != 5408 || e.Mono != 4769746191*time.Microsecond {
		t.Errorf("seq %d mono %v", e.Seq, e.Mono)
	}
}

func TestParseKmsgOther(t *testing.T) {
	tests := []struct {
		name, line string
		ok, loss   bool
		count      int
		err        bool
	}{
		{"unrelated", `6,1234,5678901,-;eth0: link up`, false, false, 0, false},
		{"other audit type", `5,1235,5678902,-;audit: type=1400 audit(1764240000.123:456): apparmor="DENIED"`, false, false, 0, false},
		{"suppressed", `4,5407,4769746186,-;kauditd_printk_skb: 18 callbacks suppressed`, true, true, 18, false},
		{"other suppressed", `4,5407,4769746186,-;net_ratelimit: 3 callbacks suppressed`, false, false, 0, false},
		{"audit_lost", `4,99,1000,-;audit: audit_lost=7 audit_rate_limit=0 audit_backlog_limit=64`, true, true, 7, false},
		{"no semicolon", `garbage`, false, false, 0, true},
		{"bad stamp", `5,1,1,-;audit: type=1326 audit(x): pid=1`, false, false, 0, true},
		{"missing field", `5,1,1,-;audit: type=1326 audit(1.000:1): pid=1 comm="a"`, false, false, 0, true},
		{"bad number", `5,1,1,-;audit: type=1326 audit(1.000:1): pid=1 arch=zz syscall=1 code=0x0`, false, false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok, err := ParseKmsg(tt.line)
			if (err != nil) != tt.err || ok != tt.ok || (e.Loss != nil) != tt.loss {
				t.Fatalf("ok %v loss %v err %v", ok, e.Loss, err)
			}
			if tt.loss && e.Loss.Count != tt.count {
				t.Errorf("count %d, want %d", e.Loss.Count, tt.count)
			}
		})
	}
}

func TestParseAuditLog(t *testing.T) {
	tests := []struct {
		name, line, comm, arch, syscall string
		ok                              bool
	}{
		{"SECCOMP", `type=SECCOMP msg=audit(1764240000.123:456): auid=0 uid=0 gid=0 ses=1 subj=unconfined pid=123 comm="x" exe="/usr/bin/x" sig=0 arch=c000003e syscall=272 compat=0 ip=0x7f00 code=0x7ffc0000`, "x", "x86_64", "unshare", true},
		{"enriched", "type=SECCOMP msg=audit(1764240000.123:457): auid=0 uid=0 gid=0 ses=1 pid=124 comm=\"y\" exe=\"/y\" sig=0 arch=40000003 syscall=39 compat=1 ip=0xf7 code=0x7ffc0000\x1dAUID=\"root\" UID=\"root\" GID=\"root\" ARCH=i386 SYSCALL=mkdir\n", "y", "x86", "mkdir", true},
		{"numeric type", `type=UNKNOWN[1326] msg=audit(1764240000.123:458): pid=125 comm="z" exe="/z" arch=c000003e syscall=1073741907 compat=0 ip=0x1 code=0x7ffc0000`, "z", "x32", "mkdir", true},
		{"other type", `type=SYSCALL msg=audit(1764240000.123:459): arch=c000003e syscall=59 success=yes`, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok, err := ParseAuditLog(tt.line)
			if err != nil || ok != tt.ok {
				t.Fatalf("ok %v err %v", ok, err)
			}
			if !ok {
				return
			}
			r := e.Record
			if r.Comm != tt.comm || r.ArchName() != tt.arch || r.Syscall() != tt.syscall || e.Seq != 0 {
				t.Errorf("got %q %q %q seq %d", r.Comm, r.ArchName(), r.Syscall(), e.Seq)
			}
		})
	}
}

func TestUntrusted(t *testing.T) {
	for in, want := range map[string]string{
		`"plain"`:  "plain",
		"414243":   "ABC",
		"(null)":   "(null)",
		"41424":    "41424",
		"abcd":     "abcd", // the kernel writes upper-case hex
		`""`:       "",
		"2F746D70": "/tmp",
	} {
		if got := untrusted(in); got != want {
			t.Errorf("untrusted(%q) = %q, want %q", in, got, want)
		}
	}
}
