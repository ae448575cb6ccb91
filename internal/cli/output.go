package cli

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/bpf"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// openOutput returns the writer for -o (a file, or standard output for ""
// and "-") and a function that closes it.
func openOutput(cmd *cobra.Command, path string) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return cmd.OutOrStdout(), func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open output: %w", err)
	}
	return f, f.Close, nil
}

// writeProgram writes prog in one of the program formats.
func writeProgram(w io.Writer, prog []bpf.Instruction, format string, extra any) error {
	switch format {
	case "bpf":
		_, err := w.Write(bpf.Marshal(prog, binary.NativeEndian))
		return err
	case "disasm":
		_, err := io.WriteString(w, bpf.Disassemble(prog))
		return err
	case "c":
		_, err := io.WriteString(w, cArray(prog))
		return err
	case "json":
		type insn struct {
			Code uint16 `json:"code"`
			Jt   uint8  `json:"jt"`
			Jf   uint8  `json:"jf"`
			K    uint32 `json:"k"`
		}
		out := struct {
			Instructions []insn `json:"instructions"`
			Extra        any    `json:"stats,omitempty"`
		}{Extra: extra}
		for _, i := range prog {
			out.Instructions = append(out.Instructions, insn{i.Op, i.Jt, i.Jf, i.K})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return usageError{fmt.Errorf("--format: unknown format %q (want bpf, disasm, c or json)", format)}
}

// cArray renders prog as a C initializer for struct sock_filter, ready for
// prctl(PR_SET_SECCOMP) or seccomp(2).
func cArray(prog []bpf.Instruction) string {
	var b strings.Builder
	b.WriteString("#include <linux/filter.h>\n\n")
	b.WriteString("static struct sock_filter sysfence_filter[] = {\n")
	for _, i := range prog {
		fmt.Fprintf(&b, "\t{ 0x%02x, %d, %d, 0x%08x },\n", i.Op, i.Jt, i.Jf, i.K)
	}
	b.WriteString("};\n\n")
	b.WriteString("static struct sock_fprog sysfence_prog = {\n")
	b.WriteString("\t.len = sizeof(sysfence_filter) / sizeof(sysfence_filter[0]),\n")
	b.WriteString("\t.filter = sysfence_filter,\n")
	b.WriteString("};\n")
	return b.String()
}

// checkFormat fails with a usage error unless format is "" (the default)
// or one of valid.
func checkFormat(format string, valid ...string) error {
	if format == "" || slices.Contains(valid, format) {
		return nil
	}
	return usageError{fmt.Errorf("--format: unknown format %q (want %s)", format, strings.Join(valid, ", "))}
}
