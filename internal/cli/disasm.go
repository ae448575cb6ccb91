package cli

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
)

func init() {
	commands = append(commands, newDisasmCmd, newAsmCmd, newDefaultCmd)
}

func newDisasmCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "disasm FILE",
		Short:   "Disassemble a raw BPF filter (struct sock_filter array)",
		Example: "  sysfence compile default -o default.bpf && sysfence disasm default.bpf",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readFileOrStdin(cmd, args[0])
			if err != nil {
				return err
			}
			prog, err := bpf.Unmarshal(data, binary.NativeEndian)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if err := bpf.Validate(prog); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s: the kernel would refuse this filter: %v\n", args[0], err)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), bpf.Disassemble(prog))
			return err
		},
	}
}

func newAsmCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "asm FILE -o OUT",
		Short: "Assemble the disassembly format back into a raw BPF filter",
		Example: `  sysfence compile default --format disasm > f.s
  sysfence asm f.s -o f.bpf`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError{fmt.Errorf("-o OUT is required (the output is binary)")}
			}
			src, err := readFileOrStdin(cmd, args[0])
			if err != nil {
				return err
			}
			prog, err := bpf.Assemble(string(src))
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if err := bpf.Validate(prog); err != nil {
				return fmt.Errorf("%s: the kernel would refuse this filter: %w", args[0], err)
			}
			if err := os.WriteFile(out, bpf.Marshal(prog, binary.NativeEndian), 0o644); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the raw filter to `OUT`")
	return cmd
}

func newDefaultCmd() *cobra.Command {
	var (
		tf     targetFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "default",
		Short: "Print Docker's built-in default seccomp profile",
		Long: `Print Docker's built-in default seccomp profile (from the
github.com/moby/profiles/seccomp module). --format docker prints it as
Docker ships it, with archMap and includes/excludes; --format oci prints
what Docker hands runc for the target (this host unless target flags say
otherwise): the native archMap entry as architectures, and only the
entries whose conditions hold.`,
		Example: `  sysfence default > docker-default.json
  sysfence default --format oci --cap-add SYS_ADMIN > oci.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "docker", "oci"); err != nil {
				return err
			}
			def, err := profile.Default()
			if err != nil {
				return err
			}
			f := profile.FormatDocker
			if format == "oci" {
				t, err := tf.target()
				if err != nil {
					return err
				}
				if def, err = profile.Flatten(def, t); err != nil {
					return err
				}
				f = profile.FormatOCI
			}
			data, err := profile.Encode(def, f)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "docker", "docker (as shipped) or oci (resolved for the target, as Docker hands it to runc)")
	return cmd
}

// readFileOrStdin reads a path, or standard input for "-".
func readFileOrStdin(cmd *cobra.Command, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	return data, nil
}
