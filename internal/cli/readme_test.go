package cli_test

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/internal/cli"
)

// transcript is a command shown in the README after "$ " and the output
// shown under it.
type transcript struct {
	line int
	args []string
	want []string
}

// selfContained matches the README commands this test can run anywhere:
// no shell syntax, no files but the built-in default profile and the
// repository's examples.
var selfContained = regexp.MustCompile(`^sysfence (explain default|run --dry-run --|audit default$|diff examples/|check --within default examples/)[^;|&<>$'"]*$`)

// readmeTranscripts returns the README's self-contained transcripts that
// show output.
func readmeTranscripts(t *testing.T) []transcript {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []transcript
	var cur *transcript
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"), strings.HasPrefix(line, "$ "):
			if cur != nil && len(cur.want) > 0 {
				out = append(out, *cur)
			}
			cur = nil
			if cmd, ok := strings.CutPrefix(line, "$ "); ok && selfContained.MatchString(cmd) {
				cur = &transcript{line: n, args: strings.Fields(cmd)[1:]}
			}
		case cur != nil:
			cur.want = append(cur.want, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestREADMETranscripts runs the README's self-contained examples and
// checks that their output is what the README shows (diff and check exit 3
// when they find a difference: either status passes). A README line "…"
// stands for any number of lines, a line ending in "…" for any ending, and
// "kernel X.Y" for this machine's kernel.
func TestREADMETranscripts(t *testing.T) {
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Skip("the README's examples show an x86_64 Linux host")
	}
	t.Chdir("../..") // the README's paths are the repository's
	ts := readmeTranscripts(t)
	if len(ts) < 6 {
		t.Fatalf("found %d transcripts in README.md, want at least 6 (explain, run --dry-run, audit, diff, check)", len(ts))
	}
	kernel := regexp.MustCompile(`kernel \d+\.\d+`)
	for _, tc := range ts {
		r := run(t, "", tc.args...)
		if r.code != cli.ExitOK && r.code != cli.ExitFindings {
			t.Errorf("README.md:%d: sysfence %s: exit %d: %s", tc.line, strings.Join(tc.args, " "), r.code, r.stderr)
			continue
		}
		got := strings.Split(kernel.ReplaceAllString(strings.TrimRight(r.stdout, "\n"), "kernel X.Y"), "\n")
		want := strings.Split(kernel.ReplaceAllString(strings.Join(tc.want, "\n"), "kernel X.Y"), "\n")
		if diff := matchTranscript(want, got); diff != "" {
			t.Errorf("README.md:%d: sysfence %s: %s\ngot:\n%s", tc.line, strings.Join(tc.args, " "), diff, r.stdout)
		}
	}
}

// matchTranscript returns "" when got matches want, else the first README
// line that does not match.
func matchTranscript(want, got []string) string {
	g := 0
	for w := 0; w < len(want); w++ {
		if want[w] == "…" {
			if w+1 == len(want) {
				return ""
			}
			for g < len(got) && !lineMatches(want[w+1], got[g]) {
				g++
			}
			continue
		}
		if g >= len(got) || !lineMatches(want[w], got[g]) {
			return fmt.Sprintf("README shows %q", want[w])
		}
		g++
	}
	if g < len(got) {
		return fmt.Sprintf("the output goes on after the README's last line: %q", got[g])
	}
	return ""
}

func lineMatches(want, got string) bool {
	if prefix, ok := strings.CutSuffix(want, "…"); ok {
		return strings.HasPrefix(got, prefix)
	}
	return want == got
}
