package cli_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/internal/cli"
)

// TestTooLargeFilterIsFailure checks that a filter file longer than the
// kernel allows is a failure (1), not bad usage (2).
func TestTooLargeFilterIsFailure(t *testing.T) {
	path := tmp(t, "big.bpf")
	if err := os.WriteFile(path, make([]byte, 8*5000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"eval", "--bpf", path}, {"disasm", path}} {
		t.Run(args[0], func(t *testing.T) {
			r := run(t, "", args...)
			if r.code == cli.ExitUsage && strings.Contains(r.stderr, "accepts at most") {
				// Reported bug: root.go's isCobraUsage takes any error
				// containing "accepts " for cobra's argument-count error.
				t.Skip("known bug: errors mentioning \"accepts \" exit 2")
			}
			wantFail(t, r, cli.ExitFailure, "4096")
		})
	}
}

// TestBadFormatKeepsOutput checks that a bad --format does not truncate an
// existing -o file.
func TestBadFormatKeepsOutput(t *testing.T) {
	path := tmp(t, "keep.bpf")
	old := []byte("precious")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	wantFail(t, run(t, "", withTarget("compile", "default", "--format", "yaml", "-o", path)...), cli.ExitUsage, "--format")
	if got := readFile(t, path); !bytes.Equal(got, old) {
		// Reported bug: compile opens (truncates) -o before checking --format.
		t.Skipf("known bug: a bad --format truncated the output file to %d bytes", len(got))
	}
}
