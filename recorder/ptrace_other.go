//go:build !linux

package recorder

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
)

// ErrPtraceUnavailable is wrapped by the error of RecordPtrace when ptrace
// cannot be used here at all.
var ErrPtraceUnavailable = errors.New("ptrace recording is not available")

// RecordPtrace records system calls with ptrace on Linux; elsewhere it
// returns an error wrapping ErrPtraceUnavailable without starting cmd.
func RecordPtrace(ctx context.Context, cmd *exec.Cmd, opts Options) (*Observation, Exit, error) {
	return nil, Exit{}, fmt.Errorf("%w: it needs Linux, this is %s", ErrPtraceUnavailable, runtime.GOOS)
}
