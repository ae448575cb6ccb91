//go:build !linux

package recorder

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
)

func notLinux(what string) error {
	return fmt.Errorf("%s needs Linux, this is %s", what, runtime.GOOS)
}

// RecordCommand needs Linux.
func RecordCommand(ctx context.Context, cmd *exec.Cmd, opts Options) (*Observation, Exit, error) {
	return nil, Exit{}, notLinux("recording")
}

// RecordEBPF needs Linux.
func RecordEBPF(ctx context.Context, cmd *exec.Cmd, opts Options) (*Observation, Exit, error) {
	return nil, Exit{}, notLinux("eBPF recording")
}

// RecordContainer needs Linux.
func RecordContainer(ctx context.Context, name string, opts Options) (*Observation, error) {
	return nil, notLinux("recording a container")
}

// RecordDocker needs Linux.
func RecordDocker(ctx context.Context, args []string, stdio Stdio, opts Options) (*Observation, Exit, error) {
	return nil, Exit{}, notLinux("recording a container")
}

// EBPFReady needs Linux.
func EBPFReady() error { return notLinux("eBPF recording") }

// Cgroup2Root needs Linux.
func Cgroup2Root() (string, error) { return "", notLinux("cgroup v2") }
