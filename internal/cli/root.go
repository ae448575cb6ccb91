// Package cli holds sysfence's cobra commands: one file per command, flags
// and output formats; the work itself is done by the other packages.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitUsage    = 2
	ExitFindings = 3
)

// usageError marks an error caused by how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError carries a specific exit code and an optional message.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "sysfence",
		Short:         "Compile, enforce, record, generate and audit seccomp profiles",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, add := range commands {
		cmd := add()
		if check := cmd.Args; check != nil {
			cmd.Args = func(c *cobra.Command, args []string) error {
				if err := check(c, args); err != nil {
					return usageError{err}
				}
				return nil
			}
		}
		root.AddCommand(cmd)
	}
	return root
}

// commands lists the constructors of the subcommands; each command's file
// registers itself in an init function.
var commands []func() *cobra.Command

// Execute runs the command line and returns the process exit code.
func Execute() int { return Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) }

// Run runs sysfence with args and the given standard streams and returns
// the exit code: 0 success, 1 failure, 2 bad usage, or a command's
// documented code (3: findings present).
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "sysfence:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "sysfence:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitFailure
}

// isCobraUsage recognises cobra's own untyped usage errors: an unknown
// command (its argument-count errors are wrapped in usageError).
func isCobraUsage(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}
