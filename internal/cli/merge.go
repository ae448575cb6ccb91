package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/generate"
	"github.com/sysfence/sysfence/profile"
)

func init() { commands = append(commands, newMergeCmd) }

func newMergeCmd() *cobra.Command {
	var out, format string
	cmd := &cobra.Command{
		Use:   "merge PROFILE PROFILE… [-o FILE] [--format docker|oci]",
		Short: "Unite profiles recorded from several runs or replicas into one",
		Long: `Write the semantic union of the profiles: a call any of them allows without
conditions is allowed without conditions; argument-conditional rules of a
call are united; the architectures are united. Each entry's comment says in
how many of the inputs the call was allowed. Inputs whose union cannot be
written exactly (different default actions or flags, includes/excludes,
conditional rules with other actions than ALLOW) are refused, never
widened.`,
		Example: `  sysfence merge run1.json run2.json run3.json -o app.json`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := profile.FormatDocker
			switch format {
			case "docker":
			case "oci":
				f = profile.FormatOCI
			default:
				return usageError{fmt.Errorf("--format: unknown format %q (want docker or oci)", format)}
			}
			var inputs []generate.Input
			for _, a := range args {
				p, err := loadProfile(cmd, a)
				if err != nil {
					return err
				}
				inputs = append(inputs, generate.Input{Name: a, Profile: p})
			}
			merged, err := generate.Merge(inputs)
			if err != nil {
				return err
			}
			data, err := profile.Encode(merged, f)
			if err != nil {
				return err
			}
			w, closeOut, err := openOutput(cmd, out)
			if err != nil {
				return err
			}
			if _, err := w.Write(data); err != nil {
				closeOut()
				return err
			}
			return closeOut()
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the merged profile to FILE (default: standard output)")
	cmd.Flags().StringVar(&format, "format", "docker", "docker or oci")
	return cmd
}
