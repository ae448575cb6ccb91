package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/analysis"
	"github.com/sysfence/sysfence/syscalls"
)

func init() { commands = append(commands, newDiffCmd, newCheckCmd) }

func newDiffCmd() *cobra.Command {
	var (
		tf       targetFlags
		format   string
		callArch string
	)
	cmd := &cobra.Command{
		Use:   "diff A B [--call-arch ARCH] [--format text|json] [target flags]",
		Short: "Show the system calls whose verdict differs between two profiles",
		Long: `Compare what two profiles enforce, not how they are written: both are
resolved for the target, and every system call of every arch of either
filter is evaluated with argument values taken from every condition either
profile has on it. Two JSON files that enforce the same thing have no diff.
Each change shows one call (arch, syscall, arguments) with both verdicts;
"partial" means the verdicts agree for other argument values.

Exit status: 0 when the profiles enforce the same thing, 3 when they differ
(like diff(1), for scripts), 1 on errors, 2 on bad usage.`,
		Example: `  sysfence diff default app.json
  sysfence diff old.json new.json --call-arch x86_64 --format json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, a, err := loadResolved(cmd, args[0], &tf)
			if err != nil {
				return err
			}
			_, b, err := loadResolved(cmd, args[1], &tf)
			if err != nil {
				return err
			}
			changes := analysis.Diff(a, b)
			if callArch != "" {
				arch, err := syscalls.Lookup(callArch)
				if err != nil {
					return usageError{fmt.Errorf("--call-arch: %w", err)}
				}
				var kept []analysis.Change
				for _, c := range changes {
					if c.Arch == arch.Name {
						kept = append(kept, c)
					}
				}
				changes = kept
			}
			if err := writeChanges(cmd.OutOrStdout(), args, changes, format); err != nil {
				return err
			}
			if len(changes) > 0 {
				return exitError{code: ExitFindings}
			}
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	cmd.Flags().StringVar(&callArch, "call-arch", "", "show only the changes of this ABI (x86_64, x86, x32…)")
	return cmd
}

func writeChanges(w io.Writer, names []string, changes []analysis.Change, format string) error {
	switch format {
	case "json":
		if changes == nil {
			changes = []analysis.Change{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"a": names[0], "b": names[1], "changes": changes})
	case "text":
		_, err := io.WriteString(w, changesText(names, changes))
		return err
	}
	return usageError{fmt.Errorf("--format: unknown format %q (want text or json)", format)}
}

// changesText lists the changes that allow or deny a call one per line,
// then the changes from one denial to another (ERRNO(38) to ERRNO(1), for
// example when runc's ENOSYS stub moves) grouped per arch and verdict pair.
func changesText(names []string, changes []analysis.Change) string {
	var b strings.Builder
	if len(changes) == 0 {
		fmt.Fprintf(&b, "%s and %s enforce the same verdicts\n", names[0], names[1])
	}
	type pair struct{ arch, a, b string }
	denials := map[pair][]string{}
	var order []pair
	for _, c := range changes {
		if allowed(c.A) == allowed(c.B) && !allowed(c.A) {
			k := pair{c.Arch, c.A, c.B}
			if denials[k] == nil {
				order = append(order, k)
			}
			denials[k] = append(denials[k], c.Syscall)
			continue
		}
		fmt.Fprintf(&b, "%-7s %-22s %-14s → %-14s %s\n", c.Arch, c.Syscall, c.A, c.B, describeChange(c))
	}
	for _, k := range order {
		calls := denials[k]
		shown := calls[:min(len(calls), 6)]
		more := ""
		if len(calls) > len(shown) {
			more = ", …"
		}
		fmt.Fprintf(&b, "%-7s %d denied calls change how: %s → %s (%s%s)\n", k.arch, len(calls), k.a, k.b, strings.Join(shown, ", "), more)
	}
	return b.String()
}

// allowed reports whether a verdict, as Action.String writes it, lets the
// call run.
func allowed(verdict string) bool { return verdict == "ALLOW" || verdict == "LOG" }

// describeChange says for which arguments the verdicts differ.
func describeChange(c analysis.Change) string {
	if !c.Partial {
		return "(all arguments)"
	}
	var args []string
	last := 0
	for i, v := range c.Args {
		if v != 0 {
			last = i + 1
		}
	}
	for _, v := range c.Args[:max(last, 1)] {
		args = append(args, fmt.Sprintf("%#x", v))
	}
	return fmt.Sprintf("(only some arguments, e.g. %s(%s))", c.Syscall, strings.Join(args, ", "))
}

func newCheckCmd() *cobra.Command {
	var (
		tf     targetFlags
		within string
		format string
	)
	cmd := &cobra.Command{
		Use:   "check --within BASELINE PROFILE [--format text|json] [target flags]",
		Short: "Check that a profile allows nothing its baseline denies",
		Long: `Check that PROFILE is no more permissive than BASELINE for every arch,
system call and argument value (argument values taken from every condition
either profile has on the call, as diff does): every call PROFILE allows,
BASELINE allows too. A CI gate or an admission check uses it, e.g. "every
team profile stays within Docker's default".

Exit status: 0 when PROFILE is within BASELINE; 3 with a counter-example
(arch, syscall, arguments, both verdicts) when it is not; 1 on errors, 2 on
bad usage.`,
		Example: `  sysfence check --within default app.json
  sysfence check --within team-baseline.json app.json --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if within == "" {
				return usageError{fmt.Errorf("--within BASELINE is required")}
			}
			if format != "text" && format != "json" {
				return usageError{fmt.Errorf("--format: unknown format %q (want text or json)", format)}
			}
			_, p, err := loadResolved(cmd, args[0], &tf)
			if err != nil {
				return err
			}
			_, base, err := loadResolved(cmd, within, &tf)
			if err != nil {
				return err
			}
			c, ok := analysis.Within(p, base)
			w := cmd.OutOrStdout()
			if format == "json" {
				doc := map[string]any{"profile": args[0], "baseline": within, "within": ok}
				if !ok {
					doc["counterExample"] = c
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(doc); err != nil {
					return err
				}
			} else if ok {
				fmt.Fprintf(w, "%s is within %s\n", args[0], within)
			} else {
				fmt.Fprintf(w, "%s is NOT within %s: %s %s %s gets %s, the baseline %s\n",
					args[0], within, c.Arch, c.Syscall, describeChange(c), c.A, c.B)
			}
			if !ok {
				return exitError{code: ExitFindings}
			}
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&within, "within", "", "the baseline PROFILE must stay within (a path, - or default)")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}
