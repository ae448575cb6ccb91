package cli

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

func init() { commands = append(commands, newEvalCmd) }

func newEvalCmd() *cobra.Command {
	var (
		tf      targetFlags
		bpfFile string
	)
	cmd := &cobra.Command{
		Use:   "eval (PROFILE | --bpf FILE)",
		Short: "Run syscalls read from standard input through a compiled filter",
		Long: `Evaluate system calls against a filter, one per line of standard input:

  ARCH SYSCALL [A0 … A5]

ARCH is an OCI (SCMP_ARCH_X86_64) or short (x86_64, x86, x32, aarch64…)
architecture name; SYSCALL a name or a decimal number; arguments decimal or
0x hex, missing ones 0. A number is given to the filter as it is, except
that an x32 number below 0x40000000 gets the x32 bit. Each line prints the
verdict of the compiled program run in sysfence's BPF VM: ALLOW, ERRNO(n),
KILL_THREAD, KILL_PROCESS, TRAP(n), TRACE(n), LOG or NOTIFY. Blank lines and
# comments are echoed; a bad line prints "ERROR: reason" and the run goes on,
ending with exit status 1.`,
		Example: `  printf 'x86_64 personality 0xffffffff\nx86 socketcall 1\n' | sysfence eval default
  sysfence dump --container web -o web.bpf && sysfence eval --bpf web.bpf < calls.txt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prog, err := evalProgram(cmd, args, bpfFile, &tf)
			if err != nil {
				return err
			}
			bad := evalLines(cmd.InOrStdin(), cmd.OutOrStdout(), prog)
			if bad > 0 {
				return exitError{code: ExitFailure, err: fmt.Errorf("eval: %d bad input line(s)", bad)}
			}
			return nil
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVar(&bpfFile, "bpf", "", "evaluate a raw BPF filter `FILE` (struct sock_filter array) instead of a profile")
	return cmd
}

// evalProgram returns the program to evaluate: a compiled PROFILE or a raw
// filter file, never both.
func evalProgram(cmd *cobra.Command, args []string, bpfFile string, tf *targetFlags) ([]bpf.Instruction, error) {
	switch {
	case bpfFile != "" && len(args) > 0:
		return nil, usageError{fmt.Errorf("give either PROFILE or --bpf FILE, not both")}
	case bpfFile != "":
		return readBPF(bpfFile)
	case len(args) == 0:
		return nil, usageError{fmt.Errorf("missing PROFILE (a path, - or default) or --bpf FILE")}
	}
	prog, _, err := compileProfile(cmd, args[0], tf)
	if err != nil {
		return nil, err
	}
	return prog.Instructions, nil
}

// readBPF reads and validates a raw filter file.
func readBPF(path string) ([]bpf.Instruction, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read filter: %w", err)
	}
	prog, err := bpf.Unmarshal(data, binary.NativeEndian)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := bpf.Validate(prog); err != nil {
		return nil, fmt.Errorf("%s: invalid filter: %w", path, err)
	}
	return prog, nil
}

// evalLines evaluates every line and returns how many were bad.
func evalLines(r io.Reader, w io.Writer, prog []bpf.Instruction) int {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	bad := 0
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			fmt.Fprintln(bw, sc.Text())
			continue
		}
		d, arch, err := parseCall(text)
		if err != nil {
			fmt.Fprintf(bw, "ERROR: line %d: %v\n", line, err)
			bad++
			continue
		}
		ret, err := bpf.Run(prog, d, arch.BigEndian)
		if err != nil {
			fmt.Fprintf(bw, "ERROR: line %d: %v\n", line, err)
			bad++
			continue
		}
		fmt.Fprintln(bw, profile.FormatRet(ret))
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(bw, "ERROR: read input: %v\n", err)
		bad++
	}
	return bad
}

// parseCall parses "ARCH SYSCALL [A0 … A5]".
func parseCall(text string) (bpf.Data, *syscalls.Arch, error) {
	var d bpf.Data
	f := strings.Fields(text)
	if len(f) < 2 {
		return d, nil, fmt.Errorf("want ARCH SYSCALL [A0 … A5], got %q", text)
	}
	if len(f) > 8 {
		return d, nil, fmt.Errorf("%d arguments, at most 6", len(f)-2)
	}
	arch, err := syscalls.Lookup(f[0])
	if err != nil {
		return d, nil, err
	}
	nr, err := parseNumber(arch, f[1])
	if err != nil {
		return d, nil, err
	}
	d.Arch, d.Nr = arch.Audit, int32(nr)
	for i, s := range f[2:] {
		v, err := parseArg(s)
		if err != nil {
			return d, nil, fmt.Errorf("argument %d: %w", i, err)
		}
		d.Args[i] = v
	}
	return d, arch, nil
}

// parseNumber resolves a syscall name, or parses a decimal number (adding
// the x32 bit to small x32 numbers).
func parseNumber(arch *syscalls.Arch, s string) (uint32, error) {
	if nr, ok := arch.Number(s); ok {
		return nr, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if syscalls.Known(s) {
			return 0, fmt.Errorf("syscall %q does not exist on %s", s, arch.Name)
		}
		return 0, fmt.Errorf("unknown syscall %q (not a name in the table, nor a decimal number)", s)
	}
	if n < -(1<<31) || n > 0xffffffff {
		return 0, fmt.Errorf("syscall number %s out of 32-bit range", s)
	}
	nr := uint32(n)
	if arch == syscalls.X32 && nr < syscalls.X32Bit {
		nr |= syscalls.X32Bit
	}
	return nr, nil
}

// parseArg parses a decimal (possibly negative) or 0x hex 64-bit value.
func parseArg(s string) (uint64, error) {
	if strings.HasPrefix(s, "-") {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad value %q: want decimal or 0x hex within 64 bits", s)
		}
		return uint64(v), nil
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil || strings.Contains(s, "_") || strings.HasPrefix(s, "0") && len(s) > 1 && !strings.HasPrefix(strings.ToLower(s), "0x") {
		return 0, fmt.Errorf("bad value %q: want decimal or 0x hex within 64 bits", s)
	}
	return v, nil
}
