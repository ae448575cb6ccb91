package audit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Paths of the two sources.
const (
	KmsgPath     = "/dev/kmsg"
	AuditLogPath = "/var/log/audit/audit.log"
)

// Reader reads entries from one source: the kernel log or auditd's log.
type Reader struct {
	// Source is the file read: KmsgPath or an audit.log path.
	Source string
	f      *os.File
	kmsg   bool
	br     *bufio.Reader
	// Poll is how often a followed audit.log is checked for new lines.
	Poll time.Duration
}

// AuditdRunning reports whether a process named auditd runs, in which case
// the kernel sends audit records to it instead of the kernel log.
func AuditdRunning() bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == "auditd" {
			return true
		}
	}
	return false
}

// Open opens auditd's log at AuditLogPath when auditd runs, else the kernel
// log.
func Open() (*Reader, error) {
	if AuditdRunning() {
		return OpenAuditLog(AuditLogPath)
	}
	return OpenKmsg()
}

// OpenKmsg opens /dev/kmsg at its oldest record, non-blocking.
func OpenKmsg() (*Reader, error) {
	f, err := os.OpenFile(KmsgPath, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open kernel log: %w", err)
	}
	return &Reader{Source: KmsgPath, f: f, kmsg: true}, nil
}

// OpenAuditLog opens an auditd log file.
func OpenAuditLog(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &Reader{Source: path, f: f, br: bufio.NewReaderSize(f, 64<<10), Poll: 250 * time.Millisecond}, nil
}

// Close closes the source.
func (r *Reader) Close() error { return r.f.Close() }

// Read calls fn for each seccomp record and loss notice, oldest first.
// Without follow it returns at the end of the log; with follow it waits
// for new entries until ctx is done. Malformed seccomp records are
// reported through fn as an Entry with Err rather than stopping the read.
func (r *Reader) Read(ctx context.Context, follow bool, fn func(Entry) error) error {
	if r.kmsg {
		return r.readKmsg(ctx, follow, fn)
	}
	return r.readAuditLog(ctx, follow, fn)
}

// readKmsg reads one kmsg record per read(2). EAGAIN ends the log; EPIPE
// means the kernel overwrote records before they were read.
func (r *Reader) readKmsg(ctx context.Context, follow bool, fn func(Entry) error) error {
	rc, err := r.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("read kernel log: %w", err)
	}
	if follow {
		stop := context.AfterFunc(ctx, func() { _ = r.f.SetReadDeadline(time.Now()) })
		defer stop()
	}
	buf := make([]byte, 16<<10)
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), buf)
			// Returning false on EAGAIN waits in the poller for more.
			return !(follow && rerr == syscall.EAGAIN)
		})
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil
		case err != nil:
			return fmt.Errorf("read kernel log: %w", err)
		case rerr == syscall.EAGAIN:
			return nil
		case rerr == syscall.EPIPE:
			err = fn(Entry{Loss: &Loss{Text: "the kernel log buffer overwrote records before they were read"}})
		case rerr == syscall.EINTR:
			continue
		case rerr != nil:
			return fmt.Errorf("read kernel log: %w", rerr)
		default:
			err = r.emit(ParseKmsg, string(buf[:n]), fn)
		}
		if err != nil {
			return err
		}
	}
}

// emit parses one line and hands what matters to fn.
func (r *Reader) emit(parse func(string) (Entry, bool, error), line string, fn func(Entry) error) error {
	e, ok, err := parse(line)
	if err != nil {
		return fn(Entry{Seq: e.Seq, Mono: e.Mono, Err: err})
	}
	if !ok {
		return nil
	}
	return fn(e)
}

// readAuditLog reads whole lines; following, it polls for growth.
func (r *Reader) readAuditLog(ctx context.Context, follow bool, fn func(Entry) error) error {
	var partial string
	for {
		line, err := r.br.ReadString('\n')
		partial += line
		if err == nil {
			if err := r.emit(ParseAuditLog, partial, fn); err != nil {
				return err
			}
			partial = ""
			continue
		}
		if !errors.Is(err, io.EOF) {
			return fmt.Errorf("read audit log %s: %w", r.Source, err)
		}
		if !follow {
			if partial != "" {
				return r.emit(ParseAuditLog, partial, fn)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.Poll):
		}
		if err := r.reopenIfRotated(); err != nil {
			return err
		}
	}
}

// reopenIfRotated starts reading a new file at Source once auditd has
// rotated the one being read.
func (r *Reader) reopenIfRotated() error {
	now, err := os.Stat(r.Source)
	if err != nil {
		return nil // between rename and create
	}
	cur, err := r.f.Stat()
	if err != nil || os.SameFile(now, cur) {
		return nil
	}
	f, err := os.Open(r.Source)
	if err != nil {
		return fmt.Errorf("reopen rotated audit log: %w", err)
	}
	r.f.Close()
	r.f, r.br = f, bufio.NewReaderSize(f, 64<<10)
	return nil
}

// BootTime returns the wall-clock time of boot, to convert kmsg
// timestamps: now minus /proc/uptime. (Uptime counts suspended time,
// which kmsg timestamps do not; a seccomp record's own audit stamp is
// exact, so this serves only for entries without one.)
func BootTime() (time.Time, error) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return time.Time{}, fmt.Errorf("read uptime: %w", err)
	}
	up, err := strconv.ParseFloat(strings.Fields(string(b) + " ")[0], 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("read uptime %q: %w", b, err)
	}
	return time.Now().Add(-time.Duration(up * float64(time.Second))), nil
}

// RateLimit is the kernel's printk rate limit, which drops audit records
// written to the kernel log: at most Burst messages per Interval; an
// Interval of 0 turns it off.
type RateLimit struct {
	Interval time.Duration
	Burst    int
}

// ReadRateLimit reads kernel.printk_ratelimit and kernel.printk_ratelimit_burst.
func ReadRateLimit() (RateLimit, error) {
	var l RateLimit
	secs, err := readInt("/proc/sys/kernel/printk_ratelimit")
	if err != nil {
		return l, err
	}
	l.Interval = time.Duration(secs) * time.Second
	l.Burst, err = readInt("/proc/sys/kernel/printk_ratelimit_burst")
	return l, err
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return n, nil
}
