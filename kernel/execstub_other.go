//go:build !amd64

package kernel

import "github.com/sysfence/sysfence/bpf"

// execStub has no program for this architecture: Exec installs the filter
// from Go and execs.
func execStub([]bpf.Instruction, Flags) []byte { return nil }
