// Command sysfence compiles, enforces, records, generates and audits seccomp
// profiles for containers. See the README for every command.
package main

import (
	"os"

	"github.com/sysfence/sysfence/internal/cli"
)

func main() { os.Exit(cli.Execute()) }
