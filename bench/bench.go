package bench

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/unix"
	"github.com/sysfence/sysfence/syscalls"
)

// Config is one set-up to measure: a named filter, or a nil Filter for the
// no-filter baseline.
type Config struct {
	Name   string
	Filter []bpf.Instruction
	// Floor marks the reference filters of Floors: "cached" or "uncached".
	Floor string
}

// Floors returns two reference filters that allow everything: one the
// kernel's action cache answers for every call without running it (`ret
// ALLOW`), and one it cannot cache because it loads an argument (`ld
// [16]; ret ALLOW`). Their overheads are the least any filter adds to a
// cached and to an uncached call on this machine.
func Floors() []Config {
	return []Config{
		{Name: "floor-cached", Filter: []bpf.Instruction{bpf.Ret(bpf.RetAllow)}, Floor: "cached"},
		{Name: "floor-uncached", Filter: []bpf.Instruction{bpf.LoadAbs(16), bpf.Ret(bpf.RetAllow)}, Floor: "uncached"},
	}
}

// Options control Run.
type Options struct {
	// Runs is the number of interleaved rounds (default 15).
	Runs int
	// Iterations is the number of calls per timed loop (default 200000).
	Iterations int
	// Command is the argv that starts a child running ServeChild, e.g.
	// the sysfence executable and its hidden child subcommand.
	Command []string
	// Env, when not nil, is the children's environment (default: this
	// process's).
	Env []string
	// Arch is the ABI the probes are made in (the host's).
	Arch *syscalls.Arch
	// Progress, when not nil, receives one line per finished round.
	Progress io.Writer
}

// Result is what Run measured. Its JSON form is `sysfence bench --format
// json`'s output.
type Result struct {
	Runs       int      `json:"runs"`
	Iterations int      `json:"iterations"`
	Arch       string   `json:"arch"`
	CPU        int      `json:"cpu"`    // CPU the children ran on, -1 if not pinned
	Probes     []string `json:"probes"` // spelled as Probe.String
	// Baseline is the index in Configs of the no-filter configuration.
	Baseline int            `json:"baseline"`
	Configs  []ConfigResult `json:"configs"`
	Ratios   []Ratio        `json:"ratios"`
}

// ConfigResult is one configuration's measurements, one per probe.
type ConfigResult struct {
	Name         string        `json:"name"`
	Instructions int           `json:"instructions"` // 0 for the baseline
	Floor        string        `json:"floor,omitempty"`
	Probes       []ProbeResult `json:"probes"`
}

// ProbeResult is one probe under one configuration.
type ProbeResult struct {
	Probe string `json:"probe"`
	// Verdict is the filter's action for the probe (bpf.ActionString),
	// "none" for the baseline.
	Verdict string `json:"verdict"`
	// PathLength is how many filter instructions the probe runs.
	PathLength int `json:"path_length"`
	// Cached reports whether the kernel's action cache (Linux ≥ 5.11)
	// allows the probe without running the filter (bpf.ConstantAllow).
	Cached bool `json:"cached"`
	// MedianNs is the median over rounds of the nanoseconds per call.
	MedianNs float64 `json:"median_ns"`
	// IQRNs is the interquartile range of the rounds, a noise estimate.
	IQRNs float64 `json:"iqr_ns"`
	// OverheadNs is the median over rounds of this configuration's time
	// minus the baseline's in the same round (0 for the baseline).
	OverheadNs float64 `json:"overhead_ns"`
	// OverheadIQRNs is the interquartile range of those differences.
	OverheadIQRNs float64 `json:"overhead_iqr_ns"`
	// BeyondFloorNs is OverheadNs minus the overhead of the floor filter
	// of the same kind (cached or not, per Cached) on this probe; present
	// only when the floors were measured (Floors) and for other filters.
	BeyondFloorNs *float64 `json:"beyond_floor_ns,omitempty"`
	// Measurable reports whether the filter made the call slower in at
	// least three rounds out of four (the lower quartile of the
	// differences is positive); otherwise the overhead is within noise.
	Measurable bool `json:"measurable"`
	// Samples are the per-round nanoseconds per call, each the fastest
	// block of calls in that round's child.
	Samples []float64 `json:"samples_ns"`
	// Skipped says why the probe was not run: its verdict would kill or
	// stop the child.
	Skipped string `json:"skipped,omitempty"`
}

// Ratio compares two filters' overheads on one probe: Value is Of's
// overhead divided by Over's. Of is always the first filter configuration
// given to Run. It is absent when Over's overhead is not
// positive, since a ratio to nothing means nothing.
type Ratio struct {
	Probe string   `json:"probe"`
	Of    string   `json:"of"`
	Over  string   `json:"over"`
	Value *float64 `json:"value"`
	// BeyondFloor is the ratio of the overheads beyond the floor, when
	// both are known and Over's is positive.
	BeyondFloor *float64 `json:"beyond_floor,omitempty"`
}

// Run measures every configuration on every probe, in child processes,
// Runs rounds of one child per configuration each. Exactly one
// configuration must be the baseline (nil Filter).
func Run(configs []Config, probes []Probe, opts Options) (*Result, error) {
	opts = withDefaults(opts)
	base := slices.IndexFunc(configs, func(c Config) bool { return c.Filter == nil })
	switch {
	case base < 0:
		return nil, errors.New("run benchmark: no baseline configuration (nil filter)")
	case len(probes) == 0:
		return nil, errors.New("run benchmark: no probes")
	case len(opts.Command) == 0 || opts.Arch == nil:
		return nil, errors.New("run benchmark: Options.Command and Options.Arch are required")
	}
	res, reqs, err := prepare(configs, probes, opts)
	if err != nil {
		return nil, err
	}
	res.Baseline = base
	for round := range opts.Runs {
		for ci := range configs {
			resp, err := runChild(opts, reqs[ci])
			if err != nil {
				return nil, fmt.Errorf("run benchmark child for %s: %w", configs[ci].Name, err)
			}
			if !resp.Pinned {
				res.CPU = -1
			}
			for pi, ns := range resp.NsPerCall {
				pr := &res.Configs[ci].Probes[pi]
				if pr.Skipped == "" {
					pr.Samples = append(pr.Samples, ns)
				}
			}
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "round %d/%d done\n", round+1, opts.Runs)
		}
	}
	summarize(res)
	return res, nil
}

func withDefaults(o Options) Options {
	if o.Runs <= 0 {
		o.Runs = 15
	}
	if o.Iterations <= 0 {
		o.Iterations = 200000
	}
	return o
}

// prepare evaluates each probe under each filter with the VM, to report
// verdicts and path lengths and to skip probes the filter would kill, and
// builds each configuration's child request.
func prepare(configs []Config, probes []Probe, opts Options) (*Result, []request, error) {
	res := &Result{Runs: opts.Runs, Iterations: opts.Iterations, Arch: opts.Arch.Name, CPU: pinCPU()}
	for _, p := range probes {
		res.Probes = append(res.Probes, p.String())
	}
	reqs := make([]request, len(configs))
	for ci, c := range configs {
		cr := ConfigResult{Name: c.Name, Instructions: len(c.Filter), Floor: c.Floor}
		req := request{Probes: probes, Skip: make([]bool, len(probes)), Iterations: opts.Iterations, CPU: res.CPU}
		var vm *bpf.Program
		if c.Filter != nil {
			var err error
			if vm, err = bpf.NewProgram(c.Filter); err != nil {
				return nil, nil, fmt.Errorf("filter %s: %w", c.Name, err)
			}
			req.Filter = bpf.Marshal(c.Filter, binary.NativeEndian)
		}
		for pi, p := range probes {
			pr := ProbeResult{Probe: p.String(), Verdict: "none"}
			if vm != nil {
				d := bpf.Data{Nr: int32(p.Nr), Arch: opts.Arch.Audit, Args: p.Args}
				v := vm.Run(d, opts.Arch.BigEndian)
				pr.Verdict, pr.PathLength = bpf.ActionString(v), vm.PathLength(d, opts.Arch.BigEndian)
				pr.Cached = bpf.ConstantAllow(c.Filter, opts.Arch.Audit, p.Nr)
				if !survivable(v) {
					pr.Skipped = "the filter's verdict " + pr.Verdict + " would stop the child"
					req.Skip[pi] = true
				}
			}
			cr.Probes = append(cr.Probes, pr)
		}
		res.Configs = append(res.Configs, cr)
		reqs[ci] = req
	}
	return res, reqs, nil
}

// survivable reports whether a verdict lets the calling thread go on
// without a tracer or listener: ALLOW, LOG and ERRNO.
func survivable(v uint32) bool {
	switch v & bpf.RetActionFull {
	case bpf.RetAllow, bpf.RetLog, bpf.RetErrno:
		return true
	}
	return false
}

// pinCPU picks the CPU all children run on: the last one this process may
// use (CPU 0 takes most interrupts), or -1 when affinity is unavailable.
func pinCPU() int {
	cpus, err := unix.AllowedCPUs()
	if err != nil || len(cpus) == 0 {
		return -1
	}
	return cpus[len(cpus)-1]
}

// runChild starts one child with req and decodes its response.
func runChild(opts Options, req request) (response, error) {
	var resp response
	in, err := json.Marshal(req)
	if err != nil {
		return resp, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(opts.Command[0], opts.Command[1:]...)
	cmd.Env = opts.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return resp, fmt.Errorf("%w: %s", err, msg)
		}
		return resp, err
	}
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return resp, fmt.Errorf("decode child output %q: %w", stdout.String(), err)
	}
	if len(resp.NsPerCall) != len(req.Probes) {
		return resp, fmt.Errorf("child measured %d probes, want %d", len(resp.NsPerCall), len(req.Probes))
	}
	return resp, nil
}
