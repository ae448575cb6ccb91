package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/analysis"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/report"
)

func init() { commands = append(commands, newReportCmd) }

func newReportCmd() *cobra.Command {
	var (
		tf  targetFlags
		vs  string
		out string
	)
	cmd := &cobra.Command{
		Use:   "report PROFILE [--vs BASELINE] -o report.html [target flags]",
		Short: "Write one self-contained HTML page: syscall map, findings, diff and cost",
		Long: `Write an HTML report of PROFILE as resolved for the target: every system
call of the target's arch grouped by kind (file, network, process, memory,
IPC, time, system, security) and coloured by verdict, with marks on the
dangerous ones and on those that differ from the baseline; the audit
findings; the diff against BASELINE (default: Docker's default profile,
"none" for no diff); and the filter's cost. The page loads nothing from the
network.`,
		Example: `  sysfence report app.json -o app.html
  sysfence report app.json --vs old.json -o app.html`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError{fmt.Errorf("-o FILE is required (the report is HTML)")}
			}
			p, res, err := loadResolved(cmd, args[0], &tf)
			if err != nil {
				return err
			}
			in := report.Input{Profile: args[0], Arch: res.Target.Arch, Resolved: res, Audit: analysis.Audit(p, res)}
			in.Target = describeTarget(res.Target)
			if prog, err := compiler.Compile(res, compiler.Options{}); err == nil {
				st := prog.Stats()
				in.Cost = &st
			}
			if vs != "none" {
				_, base, err := loadResolved(cmd, vs, &tf)
				if err != nil {
					return fmt.Errorf("--vs: %w", err)
				}
				in.Baseline, in.Diff = vs, analysis.Diff(res, base)
			}
			w, closeOut, err := openOutput(cmd, out)
			if err != nil {
				return err
			}
			if err := report.Render(w, in); err != nil {
				closeOut()
				return err
			}
			return closeOut()
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&vs, "vs", "default", "baseline to diff against: a path, - , default, or none")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the HTML to `FILE`")
	return cmd
}
