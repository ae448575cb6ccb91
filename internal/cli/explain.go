package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/analysis"
	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

func init() { commands = append(commands, newExplainCmd) }

func newExplainCmd() *cobra.Command {
	var (
		tf       targetFlags
		callArch string
		format   string
	)
	cmd := &cobra.Command{
		Use:   "explain PROFILE SYSCALL [ARGS…]",
		Short: "Show the verdict for one call and the profile entry or rule that decided it",
		Long: `Explain the verdict of PROFILE for one system call: the action, taken by
running the compiled filter, and what decided it: a profile entry (its index,
names and argument conditions) or one of Docker's rules (default action,
architecture not in the filter, x32 guard, runc's ENOSYS stub).

SYSCALL is a name or number; ARGS are decimal or 0x hex. --call-arch picks
the ABI of the call (x86, x32 …) when it differs from the target's.`,
		Example: `  sysfence explain default personality 0xffffffff
  sysfence explain default socket 40
  sysfence explain default --call-arch x86 socketcall 1
  sysfence explain profile.json clone 0x10000000 --format json`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			prog, res, err := compileProfile(cmd, args[0], &tf)
			if err != nil {
				return err
			}
			arch := res.Target.Arch
			if callArch != "" {
				if arch, err = syscalls.Lookup(callArch); err != nil {
					return usageError{fmt.Errorf("--call-arch: %w", err)}
				}
			}
			d, _, err := parseCall(arch.Name + " " + strings.Join(args[1:], " "))
			if err != nil {
				return usageError{err}
			}
			got, err := bpf.Run(prog.Instructions, d, arch.BigEndian)
			if err != nil {
				return err
			}
			v := analysis.Evaluate(res, d.Arch, uint32(d.Nr), d.Args)
			if v.Action.Value() != got {
				return fmt.Errorf("explain: internal disagreement: the compiled filter returns %s, the reference semantics %v; please report this with the profile",
					profile.FormatRet(got), v)
			}
			return printExplanation(cmd, format, arch, d, v)
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&callArch, "call-arch", "", "ABI of the call when not the target's native one (x86, x32, …)")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func printExplanation(cmd *cobra.Command, format string, arch *syscalls.Arch, d bpf.Data, v analysis.Verdict) error {
	w := cmd.OutOrStdout()
	name, _ := arch.SyscallName(uint32(d.Nr))
	switch format {
	case "json":
		out := map[string]any{
			"arch": arch.Name, "syscall": name, "number": uint32(d.Nr), "args": d.Args,
			"verdict": v.Action.String(), "reason": string(v.Reason),
		}
		if v.Rule != nil {
			out["entry"] = v.Rule.Entry
			out["rule"] = v.Rule.Name + analysis.FormatArgs(v.Rule.Args)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "text":
		fmt.Fprintf(w, "%s %s(%s) → %v\n", arch.Name, nameOr(name, uint32(d.Nr)), formatCallArgs(d.Args), v.Action)
		if v.Rule != nil {
			fmt.Fprintf(w, "decided by syscalls[%d]: %s%s → %v\n", v.Rule.Entry, v.Rule.Name, analysis.FormatArgs(v.Rule.Args), v.Rule.Action)
		} else {
			fmt.Fprintf(w, "decided by: %s\n", v.Reason)
		}
		return nil
	}
	return usageError{fmt.Errorf("--format: unknown format %q (want text or json)", format)}
}

func nameOr(name string, nr uint32) string {
	if name == "" {
		return fmt.Sprintf("#%d", nr)
	}
	return name
}

func formatCallArgs(args [6]uint64) string {
	last := -1
	for i, a := range args {
		if a != 0 {
			last = i
		}
	}
	var parts []string
	for _, a := range args[:last+1] {
		parts = append(parts, fmt.Sprintf("%#x", a))
	}
	return strings.Join(parts, ", ")
}
