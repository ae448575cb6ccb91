package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/compiler"
)

func init() { commands = append(commands, newCompileCmd) }

func newCompileCmd() *cobra.Command {
	var (
		tf     targetFlags
		out    string
		format string
		stats  bool
	)
	cmd := &cobra.Command{
		Use:   "compile PROFILE",
		Short: "Compile a Docker/OCI seccomp profile to a BPF program",
		Long: `Compile a Docker or OCI seccomp profile to the classic BPF program that
Docker (runc + libseccomp) would enforce, laid out to run fewer instructions.

PROFILE is a path, - for standard input, or "default" for Docker's default
profile. Without target flags the target is what 'docker run' uses on this
host: native architecture, Docker's default capabilities, this kernel.

Formats: bpf (raw struct sock_filter array in native byte order, as
PTRACE_SECCOMP_GET_FILTER returns and bwrap --seccomp reads; the default
with -o or in a pipe), disasm (the default on a terminal), c, json.`,
		Example: `  sysfence compile default --stats
  sysfence compile profile.json -o filter.bpf
  sysfence compile profile.json --arch aarch64 --cap-add SYS_ADMIN --format c`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "bpf", "disasm", "c", "json"); err != nil {
				return err
			}
			prog, _, err := compileProfile(cmd, args[0], &tf)
			if err != nil {
				return err
			}
			w, closeOut, err := openOutput(cmd, out)
			if err != nil {
				return err
			}
			if format == "" {
				format = "bpf"
				if out == "" && isTerminal(w) {
					format = "disasm"
				}
			}
			var extra any
			if format == "json" {
				extra = prog.Stats()
			}
			if err := writeProgram(w, prog.Instructions, format, extra); err != nil {
				closeOut()
				return err
			}
			if err := closeOut(); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			if stats {
				printStats(cmd.ErrOrStderr(), prog.Stats())
			}
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the program to `FILE` (default: standard output)")
	cmd.Flags().StringVar(&format, "format", "", "output format: bpf, disasm, c or json")
	cmd.Flags().BoolVar(&stats, "stats", false, "print program size, path lengths and action-cache coverage to standard error")
	return cmd
}

// printStats writes compiler.Stats as a small table.
func printStats(w io.Writer, s compiler.Stats) {
	fmt.Fprintf(w, "instructions: %d (%d before optimization), built in %v\n", s.Instructions, s.NaiveInstructions, s.BuildTime)
	fmt.Fprintf(w, "%-12s %8s %9s %8s %18s\n", "arch", "numbers", "mean path", "max path", "cacheable/ideal")
	for _, a := range s.Arches {
		fmt.Fprintf(w, "%-12s %8d %9.2f %8d %11d/%-6d\n", a.Arch, a.Numbers, a.MeanPath, a.MaxPath, a.Cacheable, a.Ideal)
		if len(a.Uncached) > 0 {
			fmt.Fprintf(w, "  allowed but not cacheable: %v\n", a.Uncached)
		}
	}
	for _, p := range s.Probes {
		fmt.Fprintf(w, "path %-8s %s(%#x, …) = %d instructions → %s\n", p.Arch, p.Syscall, p.Args[0], p.Path, p.Verdict)
	}
}
