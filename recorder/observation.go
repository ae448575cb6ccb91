// Package recorder records which system calls a process tree or a container
// makes, per ABI, with the values of the arguments that decide their risk,
// into an Observation; it has an eBPF back end and a ptrace back end.
package recorder

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sysfence/sysfence/syscalls"
)

// Observation is what one recording saw: per ABI, each system call number
// with how often it was made and, for the captured arguments, the distinct
// values seen. It is the input of package generate and is written as JSON by
// `sysfence record --format observation`.
type Observation struct {
	Backend string    `json:"backend"` // "ebpf" or "ptrace"
	Why     string    `json:"why,omitempty"`
	Target  string    `json:"target"`          // what was recorded, for people
	Started time.Time `json:"started"`         // when recording began
	Seconds float64   `json:"seconds"`         // how long it ran
	ABIs    []ABI     `json:"abis"`            // sorted by arch name
	Lost    Loss      `json:"lost"`            // data the recording could not keep
	Notes   []string  `json:"notes,omitempty"` // facts a reader of the profile needs
	Runs    int       `json:"runs,omitempty"`  // recordings merged into this one (0 means 1)
	Added   []string  `json:"added,omitempty"` // calls added that were not observed, with why
}

// ABI is the calls seen on one system call table: x86_64, x86 (i386 compat)
// and x32 are different tables and are never mixed.
type ABI struct {
	Arch  string `json:"arch"`  // syscalls.Arch name: "x86_64", "x86", "x32"
	Calls []Call `json:"calls"` // sorted by number
}

// Call is one system call number of one ABI.
type Call struct {
	Nr    uint32   `json:"nr"`             // as the kernel and seccomp see it (x32 bit included)
	Name  string   `json:"name,omitempty"` // "" when the table does not know the number
	Count uint64   `json:"count"`
	Args  []ArgSet `json:"args,omitempty"` // one per capture of this call, in Captures order
}

// ArgSet is the distinct values one Capture saw for one call.
type ArgSet struct {
	Capture  string     `json:"capture"`            // Capture.ID
	Values   [][]uint64 `json:"values"`             // sorted tuples, one value per Capture.Args entry
	Overflow bool       `json:"overflow,omitempty"` // more distinct values than MaxValues: some were not kept
}

// Loss counts what a recording could not keep. Zero in every field is the
// target; any other value is reported in the output and the profile.
type Loss struct {
	// OutOfTable counts calls whose number is outside every known table
	// slot (for example nr -1, or numbers above the table's size); they are
	// counted, not attributed to a call.
	OutOfTable uint64 `json:"outOfTable,omitempty"`
	// MapFull counts values or calls a full kernel map refused.
	MapFull uint64 `json:"mapFull,omitempty"`
	// Skipped counts times the kernel skipped the recording program
	// (bpf_prog_info.recursion_misses).
	Skipped uint64 `json:"skipped,omitempty"`
	// Unreadable counts argument values the recorder could not read. Only
	// recordings by sysfence versions whose program copied arguments with
	// bpf_probe_read_kernel have it; the program now loads them directly.
	Unreadable uint64 `json:"unreadable,omitempty"`
}

// Total is the sum of all losses.
func (l Loss) Total() uint64 { return l.OutOfTable + l.MapFull + l.Skipped + l.Unreadable }

// String describes the losses in one line, or "none".
func (l Loss) String() string {
	var parts []string
	add := func(n uint64, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(l.OutOfTable, "calls with a number outside the tables")
	add(l.MapFull, "values refused by a full map")
	add(l.Skipped, "program runs skipped by the kernel")
	add(l.Unreadable, "unreadable arguments")
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Add adds m to l.
func (l *Loss) Add(m Loss) {
	l.OutOfTable += m.OutOfTable
	l.MapFull += m.MapFull
	l.Skipped += m.Skipped
	l.Unreadable += m.Unreadable
}

// Total is the number of system calls recorded over all ABIs.
func (o *Observation) Total() uint64 {
	var n uint64
	for _, a := range o.ABIs {
		for _, c := range a.Calls {
			n += c.Count
		}
	}
	return n
}

// Distinct is the number of distinct (ABI, number) pairs recorded.
func (o *Observation) Distinct() int {
	n := 0
	for _, a := range o.ABIs {
		n += len(a.Calls)
	}
	return n
}

// ABI returns the calls of the named arch, or nil.
func (o *Observation) ABI(arch string) *ABI {
	for i := range o.ABIs {
		if o.ABIs[i].Arch == arch {
			return &o.ABIs[i]
		}
	}
	return nil
}

// Names returns the sorted names of the calls seen on arch (unknown numbers
// as "#NR").
func (o *Observation) Names(arch string) []string {
	a := o.ABI(arch)
	if a == nil {
		return nil
	}
	var out []string
	for _, c := range a.Calls {
		out = append(out, c.Label())
	}
	sort.Strings(out)
	return out
}

// Label is the call's name, or "#NR" when the table does not know it.
func (c Call) Label() string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("#%d", c.Nr)
}

// Decode reads an Observation written by Encode.
func Decode(data []byte) (*Observation, error) {
	var o Observation
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("observation: %w", err)
	}
	for i, a := range o.ABIs {
		if _, err := syscalls.Lookup(a.Arch); err != nil {
			return nil, fmt.Errorf("observation: abis[%d].arch: %w", i, err)
		}
	}
	return &o, nil
}

// Encode writes o as indented JSON.
func Encode(o *Observation) ([]byte, error) {
	data, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// builder accumulates calls and argument values from a back end and turns
// them into a sorted Observation.
type builder struct {
	calls map[key]*Call
	args  map[argKey]map[[2]uint64]bool
	over  map[argKey]bool
}

type key struct {
	arch *syscalls.Arch
	nr   uint32
}

type argKey struct {
	key
	capture int // index into Captures
}

func newBuilder() *builder {
	return &builder{calls: map[key]*Call{}, args: map[argKey]map[[2]uint64]bool{}, over: map[argKey]bool{}}
}

// count adds n calls of nr on arch.
func (b *builder) count(arch *syscalls.Arch, nr uint32, n uint64) {
	k := key{arch, nr}
	c := b.calls[k]
	if c == nil {
		name, _ := arch.SyscallName(nr)
		c = &Call{Nr: nr, Name: name}
		b.calls[k] = c
	}
	c.Count += n
}

// value records one captured tuple for capture ci of nr on arch.
func (b *builder) value(arch *syscalls.Arch, nr uint32, ci int, v [2]uint64) {
	k := argKey{key{arch, nr}, ci}
	set := b.args[k]
	if set == nil {
		set = map[[2]uint64]bool{}
		b.args[k] = set
	}
	if !set[v] && len(set) >= MaxValues {
		b.over[k] = true
		return
	}
	set[v] = true
}

// overflow marks capture ci of nr on arch as having lost values.
func (b *builder) overflow(arch *syscalls.Arch, nr uint32, ci int) {
	b.over[argKey{key{arch, nr}, ci}] = true
}

// fill writes the calls into o, sorted by arch name and number.
func (b *builder) fill(o *Observation) {
	byArch := map[*syscalls.Arch][]Call{}
	for k, c := range b.calls {
		call := *c
		for ci, capt := range Captures {
			ak := argKey{k, ci}
			set, over := b.args[ak], b.over[ak]
			if set == nil && !over {
				continue
			}
			as := ArgSet{Capture: capt.ID, Overflow: over}
			for v := range set {
				as.Values = append(as.Values, v[:len(capt.Args)])
			}
			slices.SortFunc(as.Values, slices.Compare)
			call.Args = append(call.Args, as)
		}
		byArch[k.arch] = append(byArch[k.arch], call)
	}
	o.ABIs = nil
	for arch, calls := range byArch {
		slices.SortFunc(calls, func(a, b Call) int { return int(a.Nr) - int(b.Nr) })
		o.ABIs = append(o.ABIs, ABI{Arch: arch.Name, Calls: calls})
	}
	slices.SortFunc(o.ABIs, func(a, b ABI) int { return strings.Compare(a.Arch, b.Arch) })
}

// merge adds the calls and values of o to b.
func (b *builder) merge(o *Observation) {
	for _, a := range o.ABIs {
		arch, err := syscalls.Lookup(a.Arch)
		if err != nil {
			continue
		}
		for _, c := range a.Calls {
			b.count(arch, c.Nr, c.Count)
			for _, set := range c.Args {
				ci := slices.IndexFunc(Captures, func(capt Capture) bool { return capt.ID == set.Capture })
				if ci < 0 {
					continue
				}
				for _, v := range set.Values {
					var t [2]uint64
					copy(t[:], v)
					b.value(arch, c.Nr, ci, t)
				}
				if set.Overflow {
					b.overflow(arch, c.Nr, ci)
				}
			}
		}
	}
}
