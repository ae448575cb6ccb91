package bench

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/unix"
	"github.com/sysfence/sysfence/kernel"
)

// request is what the parent sends a child on its standard input.
type request struct {
	// Filter is the raw filter (struct sock_filter array, native byte
	// order); empty for the baseline.
	Filter     []byte  `json:"filter,omitempty"`
	Probes     []Probe `json:"probes"`
	Skip       []bool  `json:"skip"`
	Iterations int     `json:"iterations"`
	// CPU is the CPU to pin to, or -1 to leave the thread unpinned.
	CPU int `json:"cpu"`
}

// response is what a child prints: nanoseconds per call of each probe, 0
// for a skipped one.
type response struct {
	NsPerCall []float64 `json:"ns_per_call"`
	Pinned    bool      `json:"pinned"`
}

// blockCalls is how many calls one timed block makes: short enough (a few
// milliseconds) that many blocks run without being preempted or
// interrupted, which only ever add time; the fastest block is kept.
const blockCalls = 2000

// ServeChild is the body of a benchmark child: it reads a request from r,
// installs the filter in this process, times the probes and writes the
// result to w as JSON. Call it only in a process started for this by Run;
// the filter stays installed until the process exits.
func ServeChild(r io.Reader, w io.Writer) error {
	var req request
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		return fmt.Errorf("read benchmark request: %w", err)
	}
	runtime.LockOSThread()
	resp := response{NsPerCall: make([]float64, len(req.Probes))}
	if req.CPU >= 0 {
		resp.Pinned = unix.PinToCPU(req.CPU) == nil
	}
	if err := kernel.SetNoNewPrivs(); err != nil {
		return err
	}
	if len(req.Filter) > 0 {
		prog, err := bpf.Unmarshal(req.Filter, binary.NativeEndian)
		if err != nil {
			return fmt.Errorf("decode filter: %w", err)
		}
		if err := kernel.Install(prog, kernel.FlagTSync|kernel.FlagSpecAllow); err != nil {
			return err
		}
	}
	for i, p := range req.Probes {
		if i < len(req.Skip) && req.Skip[i] {
			continue
		}
		resp.NsPerCall[i] = timeProbe(p, req.Iterations)
	}
	return json.NewEncoder(w).Encode(resp)
}

// timeProbe makes n calls of p in blocks of blockCalls, after a warm-up,
// and returns the nanoseconds per call of the fastest block.
func timeProbe(p Probe, n int) float64 {
	loop(p, n/10+1)
	size := min(n, blockCalls)
	best := 0.0
	for range max(1, n/size) {
		start := time.Now()
		loop(p, size)
		ns := float64(time.Since(start).Nanoseconds()) / float64(size)
		if best == 0 || ns < best {
			best = ns
		}
	}
	return best
}

// loop makes n raw calls of p; results are ignored (a denied call fails
// by design).
func loop(p Probe, n int) {
	nr, a := uintptr(p.Nr), p.Args
	for range n {
		unix.RawSyscall6(nr, uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
	}
}
