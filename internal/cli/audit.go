package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/analysis"
	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/kernel"
	"github.com/sysfence/sysfence/profile"
)

func init() { commands = append(commands, newAuditCmd) }

// auditOutput is the JSON document `sysfence audit --format json` writes
// (schema: docs/json.md).
type auditOutput struct {
	Profile  string                 `json:"profile"`
	Target   string                 `json:"target"`
	Findings []analysis.Finding     `json:"findings"`
	Summary  []analysis.ArchSummary `json:"summary"`
	Cost     *compiler.Stats        `json:"cost,omitempty"`
	CostNote string                 `json:"costNote,omitempty"`
}

func newAuditCmd() *cobra.Command {
	var (
		tf        targetFlags
		format    string
		failOn    string
		bpfFile   string
		pid       int
		container string
	)
	cmd := &cobra.Command{
		Use:   "audit (PROFILE | --bpf FILE | --pid N | --container NAME) [--format text|json|sarif] [--fail-on SEVERITY] [target flags]",
		Short: "List what a profile risks: dangerous calls, bypasses, mistakes, and a per-arch summary",
		Long: `Audit PROFILE as resolved for the target (what docker run would enforce
here, or the target flags). Findings have a stable ID and a severity
(info, low, medium, high, critical):

  SF1xx  dangerous calls allowed whatever their arguments (keyring, bpf,
         userfaultfd, perf, ptrace, io_uring, namespaces and mounts,
         kexec and modules, open_by_handle_at, personality, system-wide
         state), with why and the CVEs that went through them
  SF2xx  bypasses: socket rules sidestepped through i386 socketcall
         (SF201), the i386 (SF202) or x32 (SF203) ABI open on an x86_64
         profile, open/execve/clone limited while openat(2)/execveat/clone3
         are free (SF204-SF206)
  SF3xx  mistakes: unknown names runc ignores silently (SF301), entries with
         no effect (SF302), rules shadowed by an unconditional one (SF303),
         several conditions on one argument, which runc ORs (SF305), a
         condition no value satisfies (SF306)
  SF4xx  future-proofing: calls libcs probe fail with EPERM instead of
         ENOSYS (SF401)

  SF304  a raw filter that never checks the architecture

The summary counts, per arch, the system calls allowed whatever the
arguments, allowed for some, and blocked, out of all the arch has; the
cost is the compiled filter's size and instructions per call.

--bpf, --pid and --container audit raw filters: a file of struct
sock_filter, or the filters a running process or container has loaded (all
of them, as the kernel runs them: the most severe verdict wins; needs
root). Calls are classified by running the filter on argument values taken
from every constant it compares an argument with; the checks of a
profile's entries (SF3xx but SF304, SF401) need the profile.

Exit status: 0, or 3 when --fail-on is given and a finding is at least that
severe (for CI gates); 1 on errors, 2 on bad usage.`,
		Example: `  sysfence audit default
  sysfence audit app.json --fail-on high
  sysfence audit app.json --format sarif > audit.sarif
  sudo sysfence audit --container web`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var threshold *analysis.Severity
			if failOn != "" {
				s, err := analysis.ParseSeverity(failOn)
				if err != nil {
					return usageError{fmt.Errorf("--fail-on: %w", err)}
				}
				threshold = &s
			}
			sources := 0
			for _, given := range []bool{len(args) == 1, bpfFile != "", pid != 0, container != ""} {
				if given {
					sources++
				}
			}
			if sources != 1 {
				return usageError{fmt.Errorf("give exactly one of PROFILE, --bpf FILE, --pid N or --container NAME")}
			}
			var out *auditOutput
			var err error
			if len(args) == 1 {
				out, err = runAudit(cmd, args[0], &tf)
			} else {
				out, err = runRawAudit(bpfFile, pid, container, &tf)
			}
			if err != nil {
				return err
			}
			if err := writeAudit(cmd.OutOrStdout(), out, format); err != nil {
				return err
			}
			for _, f := range out.Findings {
				if threshold != nil && f.Severity >= *threshold {
					return exitError{code: ExitFindings}
				}
			}
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&bpfFile, "bpf", "", "audit a raw filter `FILE` (struct sock_filter array, native byte order)")
	cmd.Flags().IntVar(&pid, "pid", 0, "audit the filters process `ID` has loaded")
	cmd.Flags().StringVar(&container, "container", "", "audit the filters of Docker container `NAME`")
	cmd.Flags().StringVar(&format, "format", "text", "text, json or sarif")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit 3 when a finding is at least this severe: info, low, medium, high or critical")
	return cmd
}

func runAudit(cmd *cobra.Command, arg string, tf *targetFlags) (*auditOutput, error) {
	p, res, err := loadResolved(cmd, arg, tf)
	if err != nil {
		return nil, err
	}
	r := analysis.Audit(p, res)
	out := &auditOutput{Profile: arg, Target: describeTarget(res.Target), Findings: r.Findings, Summary: r.Summary}
	if out.Findings == nil {
		out.Findings = []analysis.Finding{}
	}
	if prog, err := compiler.Compile(res, compiler.Options{}); err == nil {
		st := prog.Stats()
		out.Cost = &st
	} else {
		out.CostNote = "not compiled: " + err.Error()
	}
	return out, nil
}

// runRawAudit audits a raw filter file or the filters of a process.
func runRawAudit(bpfFile string, pid int, container string, tf *targetFlags) (*auditOutput, error) {
	t, err := tf.target()
	if err != nil {
		return nil, err
	}
	var filters [][]bpf.Instruction
	var what string
	switch {
	case bpfFile != "":
		prog, err := readBPF(bpfFile)
		if err != nil {
			return nil, err
		}
		filters, what = [][]bpf.Instruction{prog}, bpfFile
	default:
		what = fmt.Sprintf("pid %d", pid)
		if container != "" {
			if pid, err = containerPid(container); err != nil {
				return nil, err
			}
			what = fmt.Sprintf("container %s (pid %d)", container, pid)
		}
		if filters, err = kernel.Filters(pid); err != nil {
			return nil, err
		}
	}
	r, err := analysis.AuditBPF(filters, t.Arch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	n := 0
	for _, f := range filters {
		n += len(f)
	}
	out := &auditOutput{Profile: what, Target: t.Arch.Name + " process", Findings: r.Findings, Summary: r.Summary,
		CostNote: fmt.Sprintf("%d raw filter(s), %d instructions", len(filters), n)}
	if out.Findings == nil {
		out.Findings = []analysis.Finding{}
	}
	return out, nil
}

func describeTarget(t profile.Target) string {
	return fmt.Sprintf("%s, kernel %d.%d, %d capabilities", t.Arch.Name, t.Kernel.Major, t.Kernel.Minor, len(t.Caps))
}

func writeAudit(w io.Writer, out *auditOutput, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "sarif":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sarif(out))
	case "text":
		return writeAuditText(w, out)
	}
	return usageError{fmt.Errorf("--format: unknown format %q (want text, json or sarif)", format)}
}

func writeAuditText(w io.Writer, out *auditOutput) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s for %s\n\n", out.Profile, out.Target)
	fmt.Fprintf(&b, "%-8s %6s %8s %12s %8s\n", "arch", "total", "allowed", "conditional", "blocked")
	for _, s := range out.Summary {
		fmt.Fprintf(&b, "%-8s %6d %8d %12d %8d\n", s.Arch, s.Total, s.Allowed, s.Conditional, s.Blocked)
	}
	if out.Cost != nil {
		fmt.Fprintf(&b, "\nfilter: %d instructions", out.Cost.Instructions)
		for _, a := range out.Cost.Arches {
			fmt.Fprintf(&b, "; %s %.1f per call (max %d)", a.Arch, a.MeanPath, a.MaxPath)
		}
		b.WriteString("\n")
	} else if out.CostNote != "" {
		fmt.Fprintf(&b, "\nfilter: %s\n", out.CostNote)
	}
	fmt.Fprintf(&b, "\n%d findings\n", len(out.Findings))
	for _, f := range out.Findings {
		fmt.Fprintf(&b, "\n%s %-8s %s\n", f.ID, f.Severity, f.Title)
		if len(f.Arches) > 0 {
			fmt.Fprintf(&b, "  arch:     %s\n", strings.Join(f.Arches, ", "))
		}
		if len(f.Syscalls) > 0 {
			fmt.Fprintf(&b, "  syscalls: %s\n", strings.Join(f.Syscalls, ", "))
		}
		fmt.Fprintf(&b, "  why:      %s\n", f.Reason)
		if len(f.CVEs) > 0 {
			fmt.Fprintf(&b, "  CVEs:     %s\n", strings.Join(f.CVEs, ", "))
		}
		fmt.Fprintf(&b, "  fix:      %s\n", f.Fix)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sarif renders the findings as a SARIF 2.1.0 log, the format code
// scanning dashboards (GitHub, GitLab) read.
func sarif(out *auditOutput) any {
	type msg struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID               string `json:"id"`
		ShortDescription msg    `json:"shortDescription"`
		Help             msg    `json:"help"`
	}
	type location struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
		} `json:"physicalLocation"`
	}
	type result struct {
		RuleID    string     `json:"ruleId"`
		Level     string     `json:"level"`
		Message   msg        `json:"message"`
		Locations []location `json:"locations"`
	}
	var rules []rule
	var results []result
	seen := map[string]bool{}
	for _, f := range out.Findings {
		if !seen[f.ID] {
			seen[f.ID] = true
			rules = append(rules, rule{ID: f.ID, ShortDescription: msg{f.Title}, Help: msg{f.Fix}})
		}
		var loc location
		loc.PhysicalLocation.ArtifactLocation.URI = out.Profile
		level := map[analysis.Severity]string{analysis.Critical: "error", analysis.High: "error", analysis.Medium: "warning"}[f.Severity]
		if level == "" {
			level = "note"
		}
		text := f.Title + ": " + f.Reason
		if len(f.Syscalls) > 0 {
			text += " [" + strings.Join(f.Syscalls, ", ") + "]"
		}
		results = append(results, result{RuleID: f.ID, Level: level, Message: msg{text}, Locations: []location{loc}})
	}
	if results == nil {
		results = []result{}
	}
	return map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": map[string]any{"name": "sysfence", "informationUri": "https://github.com/sysfence/sysfence", "rules": rules}},
			"results": results,
		}},
	}
}
