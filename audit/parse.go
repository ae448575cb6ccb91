package audit

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// TypeSeccomp is the audit record type of a seccomp record (AUDIT_SECCOMP).
const TypeSeccomp = 1326

// Record is one seccomp audit record.
type Record struct {
	Time   time.Time // the audit(SECONDS.MILLIS:SERIAL) stamp, wall clock
	Serial uint64    // the audit serial number
	PID    int       // the thread group id in the initial pid namespace
	UID    uint32
	GID    uint32
	Comm   string // the task's name, decoded when hex-encoded
	Exe    string // the executable's path, decoded when hex-encoded
	Signal int    // the signal the action delivers, 0 for none
	Token  uint32 // the audit-arch token, seccomp_data.arch
	Compat bool   // a 32-bit (compat) call on a 64-bit kernel
	Number uint32 // the syscall number, with the x32 bit when set
	IP     uint64 // the instruction pointer of the call
	Code   uint32 // the filter's SECCOMP_RET_* value
}

// Arch returns the architecture the call was made on, telling x32 from
// x86_64 by the number; nil for a token sysfence does not know.
func (r *Record) Arch() *syscalls.Arch { return syscalls.ForNumber(r.Token, r.Number) }

// ArchName names the architecture, or shows the token in hex.
func (r *Record) ArchName() string {
	if a := r.Arch(); a != nil {
		return a.Name
	}
	return fmt.Sprintf("arch 0x%x", r.Token)
}

// Syscall names the call in its own architecture's table, or gives its
// number as "#N" when the table has no name for it.
func (r *Record) Syscall() string {
	if a := r.Arch(); a != nil {
		if name, ok := a.SyscallName(r.Number); ok {
			return name
		}
	}
	return fmt.Sprintf("#%d", r.Number)
}

// Action decodes the filter's verdict: "LOG", "ERRNO(1)", "KILL_PROCESS"…
func (r *Record) Action() string { return profile.FormatRet(r.Code) }

// Loss is a kernel notice that records were dropped.
type Loss struct {
	Count int    // records dropped, when the notice says; 0 when unknown
	Text  string // the notice itself
}

// Entry is one line of a log that matters here: a record, a loss notice
// or a malformed record.
type Entry struct {
	Seq    uint64        // the kmsg sequence number; 0 from audit.log
	Mono   time.Duration // the kmsg timestamp, time since boot; 0 from audit.log
	Record *Record
	Loss   *Loss
	Err    error // a seccomp record that could not be parsed
}

// ParseKmsg parses one /dev/kmsg record ("PRI,SEQ,USEC,FLAGS;MESSAGE",
// continuation lines after it). ok is false for a record that is neither
// a seccomp record nor a loss notice; err is set for a malformed one.
func ParseKmsg(line string) (e Entry, ok bool, err error) {
	head, msg, found := strings.Cut(line, ";")
	if !found {
		return e, false, fmt.Errorf("parse kmsg record %.40q: no ';'", line)
	}
	msg, _, _ = strings.Cut(msg, "\n")
	f := strings.Split(head, ",")
	if len(f) < 3 {
		return e, false, fmt.Errorf("parse kmsg record %.40q: want PRI,SEQ,USEC", line)
	}
	if e.Seq, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return e, false, fmt.Errorf("parse kmsg sequence %q: %w", f[1], err)
	}
	usec, err := strconv.ParseUint(f[2], 10, 63)
	if err != nil {
		return e, false, fmt.Errorf("parse kmsg timestamp %q: %w", f[2], err)
	}
	e.Mono = time.Duration(usec) * time.Microsecond
	if e.Loss = parseLoss(msg); e.Loss != nil {
		return e, true, nil
	}
	body, found := strings.CutPrefix(msg, "audit: type=1326 ")
	if !found {
		return e, false, nil
	}
	e.Record, err = parseRecord(body)
	return e, err == nil, err
}

// ParseAuditLog parses one line of auditd's log. auditd names the type
// SECCOMP (or UNKNOWN[1326] when it does not know it) and may append
// interpreted fields after a 0x1d byte; they are ignored.
func ParseAuditLog(line string) (e Entry, ok bool, err error) {
	line, _, _ = strings.Cut(strings.TrimRight(line, "\n"), "\x1d")
	for _, p := range []string{"type=SECCOMP ", "type=1326 ", "type=UNKNOWN[1326] "} {
		if body, found := strings.CutPrefix(line, p); found {
			body = strings.TrimPrefix(body, "msg=")
			e.Record, err = parseRecord(body)
			return e, err == nil, err
		}
	}
	return e, false, nil
}

// parseLoss recognises the kernel's notices of dropped audit records:
// "audit: audit_lost=N …" (audit backlog or rate limit) and
// "FUNC: N callbacks suppressed" (the printk rate limit).
func parseLoss(msg string) *Loss {
	if rest, ok := strings.CutPrefix(msg, "audit: audit_lost="); ok {
		n, _ := strconv.Atoi(strings.Fields(rest + " ")[0])
		return &Loss{Count: n, Text: msg}
	}
	if fn, rest, ok := strings.Cut(msg, ": "); ok && strings.HasSuffix(rest, " callbacks suppressed") &&
		strings.Contains(fn, "audit") {
		n, _ := strconv.Atoi(strings.TrimSuffix(rest, " callbacks suppressed"))
		return &Loss{Count: n, Text: msg}
	}
	return nil
}

// parseRecord parses "audit(SECONDS.MILLIS:SERIAL): key=value …".
func parseRecord(body string) (*Record, error) {
	stamp, fields, ok := strings.Cut(body, "): ")
	stamp, found := strings.CutPrefix(stamp, "audit(")
	if !ok || !found {
		return nil, fmt.Errorf("parse seccomp record %.60q: no audit(…) stamp", body)
	}
	r := &Record{}
	if err := r.parseStamp(stamp); err != nil {
		return nil, err
	}
	kv := fieldMap(fields)
	for _, k := range []string{"pid", "arch", "syscall", "code"} {
		if _, ok := kv[k]; !ok {
			return nil, fmt.Errorf("parse seccomp record %.60q: no %s field", body, k)
		}
	}
	var err error
	num := func(key string, base, bits int) uint64 {
		v, e := strconv.ParseUint(strings.TrimPrefix(kv[key], "0x"), base, bits)
		if e != nil && err == nil && kv[key] != "" {
			err = fmt.Errorf("parse seccomp record field %s=%q: %w", key, kv[key], e)
		}
		return v
	}
	r.PID = int(num("pid", 10, 31))
	r.UID, r.GID = uint32(num("uid", 10, 32)), uint32(num("gid", 10, 32))
	r.Signal = int(num("sig", 10, 8))
	r.Token, r.Number = uint32(num("arch", 16, 32)), uint32(num("syscall", 10, 32))
	r.Compat, r.IP, r.Code = kv["compat"] == "1", num("ip", 16, 64), uint32(num("code", 16, 32))
	r.Comm, r.Exe = untrusted(kv["comm"]), untrusted(kv["exe"])
	return r, err
}

// parseStamp parses "SECONDS.MILLIS:SERIAL".
func (r *Record) parseStamp(s string) error {
	t, serial, ok := strings.Cut(s, ":")
	sec, milli, ok2 := strings.Cut(t, ".")
	if !ok || !ok2 {
		return fmt.Errorf("parse audit stamp %q: want SECONDS.MILLIS:SERIAL", s)
	}
	secs, err1 := strconv.ParseInt(sec, 10, 64)
	ms, err2 := strconv.ParseInt(milli, 10, 32)
	n, err3 := strconv.ParseUint(serial, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return fmt.Errorf("parse audit stamp %q: not numbers", s)
	}
	r.Time, r.Serial = time.Unix(secs, ms*int64(time.Millisecond)), n
	return nil
}

// fieldMap splits "k=v k2="quoted" k3=HEX" into a map of raw values. The
// kernel writes untrusted strings (comm, exe) quoted when they are plain,
// or as hex when they hold spaces, quotes or control bytes, so no value
// contains a space.
func fieldMap(s string) map[string]string {
	kv := make(map[string]string)
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		kv[k] = v
	}
	return kv
}

// untrusted decodes a value the kernel logged with audit_log_untrustedstring.
func untrusted(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	if len(v) < 2 || len(v)%2 != 0 || strings.ToUpper(v) != v || v == "(null)" {
		return v
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return v
	}
	return string(b)
}
