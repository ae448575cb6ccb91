package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/docker"
	"github.com/sysfence/sysfence/kernel"
)

func init() { commands = append(commands, newDumpCmd) }

func newDumpCmd() *cobra.Command {
	var (
		pid       int
		container string
		out       string
		format    string
		index     int
	)
	cmd := &cobra.Command{
		Use:   "dump (--pid N | --container NAME)",
		Short: "Show the seccomp filters a running process or container really has loaded",
		Long: `Read the seccomp filters of a running process with
ptrace(PTRACE_SECCOMP_GET_FILTER) (root: CAP_SYS_ADMIN, Linux 4.4 with
CONFIG_CHECKPOINT_RESTORE). With --container, the process is the container's
init process, found with 'docker inspect'. Filters are listed oldest first;
the kernel runs them all and the most severe verdict wins.`,
		Example: `  sudo sysfence dump --container web
  sudo sysfence dump --pid 1234 --index 1 -o filter.bpf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (pid == 0) == (container == "") {
				return usageError{fmt.Errorf("give exactly one of --pid N or --container NAME")}
			}
			if err := checkFormat(format, "bpf", "disasm"); err != nil {
				return err
			}
			if index < 0 {
				return usageError{fmt.Errorf("--index %d: want 1 (oldest filter) or more", index)}
			}
			if container != "" {
				var err error
				if pid, err = containerPid(container); err != nil {
					return err
				}
			}
			filters, err := kernel.Filters(pid)
			if err != nil {
				return err
			}
			return writeFilters(cmd, filters, out, format, index)
		},
	}
	cmd.Flags().IntVar(&pid, "pid", 0, "process `ID` to read")
	cmd.Flags().StringVar(&container, "container", "", "Docker container `NAME` or ID to read")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` (default: standard output)")
	cmd.Flags().StringVar(&format, "format", "", "bpf or disasm (default: disasm on a terminal, bpf otherwise)")
	cmd.Flags().IntVar(&index, "index", 0, "with several filters, the one to write as bpf, 1 = oldest")
	return cmd
}

// writeFilters prints every filter as disassembly, or one as raw BPF.
func writeFilters(cmd *cobra.Command, filters [][]bpf.Instruction, out, format string, index int) error {
	if index > len(filters) {
		return usageError{fmt.Errorf("--index %d: the process has %d filter(s)", index, len(filters))}
	}
	if format == "" {
		format = "bpf"
		if out == "" && isTerminal(cmd.OutOrStdout()) {
			format = "disasm"
		}
	}
	if format == "bpf" && index == 0 && len(filters) > 1 {
		return usageError{fmt.Errorf("the process has %d filters; choose one with --index 1..%d, or use --format disasm", len(filters), len(filters))}
	}
	w, closeOut, err := openOutput(cmd, out)
	if err != nil {
		return err
	}
	defer closeOut()
	switch format {
	case "disasm":
		for i, f := range filters {
			if index != 0 && i+1 != index {
				continue
			}
			fmt.Fprintf(w, "# filter %d of %d (%d instructions; 1 = oldest)\n", i+1, len(filters), len(f))
			io.WriteString(w, bpf.Disassemble(f))
		}
		return nil
	case "bpf":
		if index == 0 {
			index = 1
		}
		return writeProgram(w, filters[index-1], "bpf", nil)
	}
	return usageError{fmt.Errorf("--format: unknown format %q (want bpf or disasm)", format)}
}

// containerPid returns the host pid of a running container's main process.
func containerPid(name string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := docker.Running(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("find %w", err)
	}
	return c.Pid, nil
}
