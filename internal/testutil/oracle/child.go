package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/internal/unix"
	"github.com/sysfence/sysfence/kernel"
)

// childName is the child function that installs a program and probes it.
const childName = "oracle.probe"

func init() { testutil.RegisterChild(childName, probeChild) }

// childInput is what the parent sends the child on standard input.
type childInput struct {
	Prog  []bpf.Instruction
	Calls [][7]uint64 // nr, then six arguments
}

// childOutput is what the child answers: the errno of each call made, and
// the index of the call that killed the probing thread, or -1.
type childOutput struct {
	Errnos []uint64
	Killed int
}

// probeChild installs the guarded program on one locked OS thread only (no
// TSYNC), so the runtime's other threads never see it, makes the calls
// there with raw system calls and prints their errnos as JSON.
//
// Every `ret` of the program is an ERRNO, but the kernel ends a program
// that divides by a zero X with an implicit `ret 0`, KILL_THREAD: then the
// probing thread vanishes, and the child reports which call did it.
func probeChild([]string) error {
	var in childInput
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return fmt.Errorf("decode input: %w", err)
	}
	// A garbage collection would wait forever for a killed thread's
	// goroutine to stop.
	debug.SetGCPercent(-1)
	out := childOutput{Errnos: make([]uint64, len(in.Calls)), Killed: -1}
	var tid, next atomic.Int64
	done := make(chan error, 1)
	go probe(in, out.Errnos, &tid, &next, done)
	for {
		select {
		case err := <-done:
			if err != nil {
				return err
			}
			return json.NewEncoder(os.Stdout).Encode(out)
		case <-time.After(time.Millisecond):
		}
		if id := tid.Load(); id != 0 && !threadAlive(int(id)) {
			// The thread also exits, with its goroutine, after a normal
			// finish: only a thread gone without a result was killed.
			select {
			case err := <-done:
				if err != nil {
					return err
				}
				return json.NewEncoder(os.Stdout).Encode(out)
			default:
			}
			out.Killed = int(next.Load())
			out.Errnos = out.Errnos[:out.Killed]
			return json.NewEncoder(os.Stdout).Encode(out)
		}
	}
}

// probe runs on its own OS thread, which it never unlocks: the thread
// exits with the goroutine, taking the filter with it.
func probe(in childInput, errnos []uint64, tid, next *atomic.Int64, done chan<- error) {
	runtime.LockOSThread()
	if err := kernel.SetNoNewPrivs(); err != nil {
		done <- err
		return
	}
	if err := kernel.Install(in.Prog, 0); err != nil {
		done <- err
		return
	}
	tid.Store(int64(unix.Gettid()))
	for i, c := range in.Calls {
		next.Store(int64(i))
		_, _, e := unix.RawSyscall6(uintptr(c[0]), uintptr(c[1]), uintptr(c[2]),
			uintptr(c[3]), uintptr(c[4]), uintptr(c[5]), uintptr(c[6]))
		errnos[i] = uint64(e)
	}
	done <- nil
}

// threadAlive reports whether thread tid of this process still runs. A
// killed thread's directory disappears, except when it is the thread group
// leader (the goroutine may run on the main thread): that one stays, as a
// zombie, until the whole process exits.
func threadAlive(tid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state != 'Z' && state != 'X'
}
