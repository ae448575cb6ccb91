package recorder

import (
	"fmt"
	"io"
	"time"

	"github.com/sysfence/sysfence/syscalls"
)

// Options controls a recording.
type Options struct {
	// Args turns on the argument captures (Captures). Without it only
	// counts are kept.
	Args bool
	// Progress, when set, is called about every ProgressEvery with what has
	// been seen so far; a back end that cannot tell cheaply reports what it
	// can.
	Progress func(Progress)
}

// ProgressEvery is how often Options.Progress is called.
const ProgressEvery = 250 * time.Millisecond

// Progress is a live summary of a recording in progress.
type Progress struct {
	Elapsed  time.Duration
	Calls    uint64 // system calls recorded so far
	Distinct int    // distinct (ABI, number) pairs so far
	Lost     uint64 // Loss.Total so far
}

// String formats p as the one-line status `sysfence record` shows on a
// terminal.
func (p Progress) String() string {
	return fmt.Sprintf("%6.1fs  %d syscalls  %d distinct  %d lost", p.Elapsed.Seconds(), p.Calls, p.Distinct, p.Lost)
}

// Stdio are the standard streams of a command the recorder starts.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// Exit is how a recorded command ended.
type Exit struct {
	Code   int // exit status when Signal is 0
	Signal int // the signal that killed it, or 0
}

// String formats e like a shell would describe it.
func (e Exit) String() string {
	if e.Signal != 0 {
		return fmt.Sprintf("killed by signal %d", e.Signal)
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// launchNote explains why execve is in every recording of a command.
const launchNote = "execve is included: it is the call that starts the recorded command, made before the recording sees the new program"

// addLaunch adds to a command's recording the execve that starts it: the
// recorder's own child makes it on the native ABI just before the command
// runs, and a profile enforced with `sysfence run` must allow it.
func addLaunch(o *Observation) {
	b := newBuilder()
	b.addLaunch()
	b.merge(o)
	b.fill(o)
	o.Notes = append(o.Notes, launchNote)
}

// addLaunch counts the launching execve into b (see addLaunch).
func (b *builder) addLaunch() {
	nr, _ := syscalls.X86_64.Number("execve")
	b.count(syscalls.X86_64, nr, 1)
}
