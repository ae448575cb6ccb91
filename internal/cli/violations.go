package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/audit"
	"github.com/sysfence/sysfence/profile"
)

func init() { commands = append(commands, newViolationsCmd) }

// violationsOptions are the flags of `sysfence violations`.
type violationsOptions struct {
	tf        targetFlags
	since     time.Duration
	pid       int
	container string
	follow    bool
	byPID     bool
	format    string
	source    string
	auditLog  string
	profile   string
	update    string
}

func newViolationsCmd() *cobra.Command {
	var o violationsOptions
	cmd := &cobra.Command{
		Use:   "violations [--since D] [--pid N | --container NAME] [--follow] [--profile P --update OUT]",
		Short: "Report the calls seccomp filters logged, killed or denied (audit records)",
		Long: `Read the kernel's seccomp audit records (type 1326) and print each
distinct (process, arch, syscall, action) with its count and first and last
time. The syscall is named in the table of the architecture it was made
on: an i386 program's calls (arch=40000003) by the i386 table, x32 calls
(numbers with 0x40000000) by the x32 table.

Records come from auditd's log (/var/log/audit/audit.log) when auditd runs,
else from the kernel log (/dev/kmsg); the first output line says which.
The kernel writes a record for LOG verdicts ('sysfence run --complain'),
for every non-ALLOW verdict of a filter installed with --log, and for
KILL verdicts, when the action is in /proc/sys/kernel/seccomp/actions_logged.

Without auditd the kernel rate-limits these records (kernel.printk_ratelimit,
by default 10 per 5 s) and only counts what it drops; violations warns when
it sees such counts. To keep every record run auditd, or set
'sysctl -w kernel.printk_ratelimit=0' while recording.

--container NAME keeps the records of the container's processes: its init
process (docker inspect) and every process that, when violations reads the
record, is in the container's pid namespace, cgroup, or descends from its
init. A process that has exited by then cannot be attributed: use --follow
while the workload runs, or --pid.

--profile P --update OUT writes P plus one ALLOW entry per group of
architectures listing the syscalls the records show P lacks.`,
		Example: `  sysfence violations --since 10m
  sysfence violations --container web --follow
  sysfence run --profile p.json --complain -- ./server &
  sysfence violations --pid $! --profile p.json --update p-new.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return violations(cmd, &o) },
	}
	o.tf.register(cmd)
	fl := cmd.Flags()
	fl.DurationVar(&o.since, "since", 0, "only records of the last D (a Go duration: 10m, 1h30m); 0 for all")
	fl.IntVar(&o.pid, "pid", 0, "only records of process N")
	fl.StringVar(&o.container, "container", "", "only records of the processes of Docker container NAME")
	fl.BoolVar(&o.follow, "follow", false, "keep reading, printing each record as it comes, until interrupted; then print the summary")
	fl.BoolVar(&o.byPID, "by-pid", false, "group by process id too")
	fl.StringVar(&o.format, "format", "text", "output format: text or json")
	fl.StringVar(&o.source, "source", "auto", "where to read: auto, kmsg (/dev/kmsg) or audit (auditd's log)")
	fl.StringVar(&o.auditLog, "audit-log", audit.AuditLogPath, "auditd's log file, for --source audit")
	fl.StringVar(&o.profile, "profile", "", "profile to extend with --update: a path, - or default")
	fl.StringVar(&o.update, "update", "", "write --profile plus the syscalls the records show it lacks to OUT (- for standard output)")
	return cmd
}

// violationsReport is the json output.
type violationsReport struct {
	Source   string        `json:"source"`
	Reason   string        `json:"reason"` // why this source was read
	Records  int           `json:"records"`
	Lost     int           `json:"lost"`
	Groups   []audit.Group `json:"groups"`
	Warnings []string      `json:"warnings,omitempty"`
}

func violations(cmd *cobra.Command, o *violationsOptions) error {
	if err := checkViolationsFlags(o); err != nil {
		return err
	}
	r, why, err := openViolationsSource(o)
	if err != nil {
		return err
	}
	defer r.Close()
	keep, err := newPIDMatcher(o.pid, o.container)
	if err != nil {
		return err
	}
	c := &collector{o: o, keep: keep, sum: audit.Summary{ByPID: o.byPID}, w: cmd.OutOrStdout()}
	if o.since > 0 {
		c.cutoff = time.Now().Add(-o.since)
	}
	if c.boot, err = audit.BootTime(); err != nil {
		return err
	}
	if o.format == "text" {
		fmt.Fprintf(c.w, "source: %s (%s)\n", r.Source, why)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if o.follow {
		// An interrupt ends following; the summary is printed after it.
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	if err := r.Read(ctx, o.follow, c.add); err != nil {
		return err
	}
	rep := violationsReport{Source: r.Source, Reason: why, Records: c.sum.Records(), Lost: c.lost, Groups: c.sum.Groups()}
	rep.Warnings = c.warnings(r.Source == audit.KmsgPath)
	if err := writeViolations(c.w, &rep, o.format); err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
	}
	if o.update != "" {
		return updateProfile(cmd, o, rep.Groups)
	}
	return nil
}

func checkViolationsFlags(o *violationsOptions) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	switch {
	case o.pid != 0 && o.container != "":
		return usageError{errors.New("--pid and --container exclude each other")}
	case o.pid < 0:
		return usageError{fmt.Errorf("--pid: %d is not a process id", o.pid)}
	case o.since < 0:
		return usageError{fmt.Errorf("--since: %v is negative", o.since)}
	case (o.profile == "") != (o.update == ""):
		return usageError{errors.New("--profile and --update go together")}
	case o.source != "auto" && o.source != "kmsg" && o.source != "audit":
		return usageError{fmt.Errorf("--source: unknown source %q (want auto, kmsg or audit)", o.source)}
	}
	return nil
}

// openViolationsSource opens the source --source names and says why it
// was chosen.
func openViolationsSource(o *violationsOptions) (*audit.Reader, string, error) {
	src := o.source
	why := "--source " + src
	if src == "auto" {
		src, why = "kmsg", "kernel log: auditd is not running"
		if audit.AuditdRunning() {
			src, why = "audit", "auditd's log: auditd is running"
		}
	}
	if src == "audit" {
		r, err := audit.OpenAuditLog(o.auditLog)
		return r, why, err
	}
	r, err := audit.OpenKmsg()
	if errors.Is(err, os.ErrPermission) {
		err = fmt.Errorf("%w (run as root, or allow reading the kernel log with sysctl kernel.dmesg_restrict=0)", err)
	}
	return r, why, err
}

// collector filters entries and counts what it keeps.
type collector struct {
	o        *violationsOptions
	keep     *pidMatcher
	cutoff   time.Time
	boot     time.Time
	sum      audit.Summary
	lost     int
	losses   []string
	lossSeen int
	bad      int
	w        io.Writer
}

func (c *collector) add(e audit.Entry) error {
	if e.Err != nil {
		c.bad++
		return nil
	}
	if e.Loss != nil {
		return c.addLoss(e)
	}
	r := e.Record
	if r.Time.Before(c.cutoff) || !c.keep.match(r.PID) {
		return nil
	}
	c.sum.Add(r)
	if c.o.follow {
		return writeRecord(c.w, r, c.o.format)
	}
	return nil
}

// addLoss counts a loss notice inside the --since window.
func (c *collector) addLoss(e audit.Entry) error {
	if e.Mono != 0 && c.boot.Add(e.Mono).Before(c.cutoff) {
		return nil
	}
	c.lossSeen++
	c.lost += e.Loss.Count
	if len(c.losses) < 3 {
		c.losses = append(c.losses, fmt.Sprintf("%q", e.Loss.Text))
	}
	return nil
}

// warnings says what the counts may miss and how to avoid it.
func (c *collector) warnings(kmsg bool) []string {
	var out []string
	if c.lossSeen > 0 {
		fix := "run auditd with a larger backlog and no rate limit (auditctl -b 8192 -r 0)"
		if kmsg {
			fix = "run auditd, or while recording set 'sysctl -w kernel.printk_ratelimit=0'" +
				" or raise kernel.printk_ratelimit_burst"
			switch l, err := audit.ReadRateLimit(); {
			case err != nil:
			case l.Interval == 0:
				fix += " (the limit is off now)"
			default:
				fix += fmt.Sprintf(" (now: at most %d records per %v)", l.Burst, l.Interval)
			}
		}
		out = append(out, fmt.Sprintf("the kernel dropped audit records (%d counted: %s): the counts above may be short; to keep every record, %s",
			c.lost, strings.Join(c.losses, ", "), fix))
	}
	if c.bad > 0 {
		out = append(out, fmt.Sprintf("%d seccomp records could not be parsed and were skipped", c.bad))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_logged"); err == nil &&
		!strings.Contains(" "+strings.TrimSpace(string(b))+" ", " log ") {
		out = append(out, "LOG verdicts leave no record: add log to /proc/sys/kernel/seccomp/actions_logged")
	}
	return out
}

// timeFormat shows record times to the millisecond the audit stamp has.
const timeFormat = "2006-01-02 15:04:05.000"

// writeViolations prints the summary.
func writeViolations(w io.Writer, rep *violationsReport, format string) error {
	if format == "json" {
		if rep.Groups == nil {
			rep.Groups = []audit.Group{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(w, "%d records, %d groups\n", rep.Records, len(rep.Groups))
	if len(rep.Groups) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNT\tARCH\tSYSCALL\tACTION\tCOMM\tEXE\tPIDS\tFIRST\tLAST")
	for _, g := range rep.Groups {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Count, g.Arch, g.Syscall, g.Action, g.Comm, g.Exe,
			pidList(g.PIDs), g.First.Format(timeFormat), g.Last.Format(timeFormat))
	}
	return tw.Flush()
}

// pidList shows up to four pids.
func pidList(pids []int) string {
	var parts []string
	for i, p := range pids {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("+%d", len(pids)-4))
			break
		}
		parts = append(parts, fmt.Sprint(p))
	}
	return strings.Join(parts, ",")
}

// writeRecord prints one record as --follow sees it.
func writeRecord(w io.Writer, r *audit.Record, format string) error {
	if format == "json" {
		return json.NewEncoder(w).Encode(map[string]any{"time": r.Time, "pid": r.PID, "comm": r.Comm, "exe": r.Exe,
			"arch": r.ArchName(), "syscall": r.Syscall(), "number": r.Number, "action": r.Action()})
	}
	_, err := fmt.Fprintf(w, "%s  pid %d  %s (%s)  %s %s  %s\n", r.Time.Format(timeFormat), r.PID, r.Comm, r.Exe,
		r.ArchName(), r.Syscall(), r.Action())
	return err
}

// pidMatcher keeps the records of --pid or --container; nil keeps all.
type pidMatcher struct {
	pid  int
	tree *audit.Tree
}

func newPIDMatcher(pid int, container string) (*pidMatcher, error) {
	if container == "" {
		if pid == 0 {
			return nil, nil
		}
		return &pidMatcher{pid: pid}, nil
	}
	init, err := containerPid(container)
	if err != nil {
		return nil, err
	}
	tree, err := audit.NewTree(init)
	if err != nil {
		return nil, fmt.Errorf("inspect container %s: %w", container, err)
	}
	return &pidMatcher{tree: tree}, nil
}

func (m *pidMatcher) match(pid int) bool {
	switch {
	case m == nil:
		return true
	case m.tree != nil:
		return m.tree.Contains(pid)
	}
	return pid == m.pid
}

// updateProfile writes --profile plus an ALLOW entry per group of
// architectures for the syscalls the records show it does not allow.
func updateProfile(cmd *cobra.Command, o *violationsOptions, groups []audit.Group) error {
	p, err := loadProfile(cmd, o.profile)
	if err != nil {
		return err
	}
	t, err := o.tf.target()
	if err != nil {
		return err
	}
	res, err := profile.Resolve(p, t)
	if err != nil {
		return fmt.Errorf("resolve profile %s: %w", o.profile, err)
	}
	added, skipped := audit.Missing(res, groups)
	for _, s := range skipped {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", s)
	}
	out := p.Clone()
	for _, a := range added {
		out.Syscalls = append(out.Syscalls, profile.Syscall{Names: a.Names, Action: profile.Allow,
			Comment: fmt.Sprintf("added by sysfence violations: %d records (%s)", a.Records, strings.Join(a.Arches, ", "))})
	}
	data, err := profile.Encode(out, profile.FormatDocker)
	if err != nil {
		return fmt.Errorf("encode updated profile: %w", err)
	}
	w, closeOut, err := openOutput(cmd, o.update)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		closeOut()
		return fmt.Errorf("write updated profile: %w", err)
	}
	if err := closeOut(); err != nil {
		return fmt.Errorf("write updated profile: %w", err)
	}
	n := 0
	for _, a := range added {
		n += len(a.Names)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s plus %d syscalls in %d entries\n", o.update, o.profile, n, len(added))
	return nil
}
