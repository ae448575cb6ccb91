package recorder

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/sysfence/sysfence/syscalls"
)

// Map sizes. Counts hold one entry per (cgroup, slot) seen; values one per
// distinct captured tuple, bounded per (slot, capture) by MaxValues.
const (
	armedMapEntries = 256
	countMapEntries = 16384
	valueMapEntries = 16384
)

type countKey struct {
	Cgroup uint64
	Slot   uint32
	Pad    uint32
}

type valueKey struct {
	Cgroup  uint64
	Slot    uint32
	Capture uint32 // capture index + 1
	A, B    uint64
}

// countsSpec is the counts map: a per-CPU array of slots for one constant
// cgroup, a per-CPU hash keyed by (cgroup, slot) otherwise.
func countsSpec(cfg progConfig) ebpf.MapSpec {
	if cfg.Cgroup != 0 {
		return ebpf.MapSpec{Name: "sf_counts", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: numSlots}
	}
	return ebpf.MapSpec{Name: "sf_counts", Type: ebpf.PerCPUHash, KeySize: 16, ValueSize: 8, MaxEntries: countMapEntries}
}

// eachCount calls fn with every non-zero count of cgroup id, summed over
// the CPUs.
func (s *ebpfSession) eachCount(id uint64, fn func(slot uint32, n uint64)) error {
	if s.cfg.Cgroup != 0 {
		if id != s.cfg.Cgroup {
			return nil
		}
		return eachSlot(s.counts, fn)
	}
	var k countKey
	var per []uint64
	it := s.counts.Iterate()
	for it.Next(&k, &per) {
		if n := sumCPUs(per); k.Cgroup == id && n > 0 {
			fn(k.Slot, n)
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if sp := s.special; sp != nil && sp.id == id {
		return eachSlot(sp.counts, fn)
	}
	return nil
}

// eachSlot calls fn with every non-zero count of a per-CPU array of slots.
func eachSlot(m *ebpf.Map, fn func(slot uint32, n uint64)) error {
	var slot uint32
	var per []uint64
	it := m.Iterate()
	for it.Next(&slot, &per) {
		if n := sumCPUs(per); n > 0 {
			fn(slot, n)
		}
	}
	return it.Err()
}

func sumCPUs(per []uint64) (n uint64) {
	for _, v := range per {
		n += v
	}
	return n
}

// ebpfSession is a loaded, attached recording program and its maps.
type ebpfSession struct {
	cfg                                          progConfig
	armed, counts, specs, values, distinct, lost *ebpf.Map
	prog                                         *ebpf.Program
	link                                         link.Link
	special                                      *specialized // record --docker, once the container is armed
}

// statusOffset finds offsetof(struct task_struct, thread_info.status) in the
// running kernel's BTF: the program reads TS_COMPAT there to tell i386 calls
// from x86_64 ones, as seccomp does. Parsing the kernel's BTF takes tens of
// milliseconds, so it is done once.
var statusOffset = sync.OnceValues(readStatusOffset)

func readStatusOffset() (int32, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return 0, fmt.Errorf("reading kernel BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF): %w", err)
	}
	var task, info *btf.Struct
	if err := spec.TypeByName("task_struct", &task); err != nil {
		return 0, fmt.Errorf("kernel BTF: %w", err)
	}
	if err := spec.TypeByName("thread_info", &info); err != nil {
		return 0, fmt.Errorf("kernel BTF: %w", err)
	}
	ti, err := member(task, "thread_info")
	if err != nil {
		return 0, err
	}
	st, err := member(info, "status")
	if err != nil {
		return 0, err
	}
	return int32(ti + st), nil
}

func member(s *btf.Struct, name string) (uint32, error) {
	for _, m := range s.Members {
		if m.Name == name {
			return m.Offset.Bytes(), nil
		}
	}
	return 0, fmt.Errorf("kernel BTF: struct %s has no member %s", s.Name, name)
}

// openEBPF loads the maps and the program for cfg and attaches it to the
// sys_enter raw tracepoint. Close detaches it.
func openEBPF(cfg progConfig) (s *ebpfSession, err error) {
	if cfg.StatusOffset == 0 {
		if cfg.StatusOffset, err = statusOffset(); err != nil {
			return nil, err
		}
	}
	if err := rlimit.RemoveMemlock(); err != nil { // kernels before 5.11 charge maps to RLIMIT_MEMLOCK
		return nil, fmt.Errorf("raising RLIMIT_MEMLOCK: %w", err)
	}
	sess := &ebpfSession{cfg: cfg}
	defer func() {
		if err != nil {
			sess.Close()
		}
	}()
	s = sess
	specs := []struct {
		m    **ebpf.Map
		spec ebpf.MapSpec
	}{
		{&s.armed, ebpf.MapSpec{Name: "sf_armed", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: armedMapEntries}},
		{&s.counts, countsSpec(cfg)},
		{&s.specs, ebpf.MapSpec{Name: "sf_specs", Type: ebpf.Array, KeySize: 4, ValueSize: capturesPerSlot * specEntrySize, MaxEntries: numSlots}},
		{&s.values, ebpf.MapSpec{Name: "sf_values", Type: ebpf.Hash, KeySize: 32, ValueSize: 8, MaxEntries: valueMapEntries}},
		{&s.distinct, ebpf.MapSpec{Name: "sf_distinct", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: numSlots * capturesPerSlot}},
		{&s.lost, ebpf.MapSpec{Name: "sf_lost", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: numLost}},
	}
	for _, m := range specs {
		if *m.m, err = ebpf.NewMap(&m.spec); err != nil {
			return nil, fmt.Errorf("creating eBPF map %s: %w", m.spec.Name, err)
		}
	}
	for slot, entries := range specsFor() {
		if err := s.specs.Put(slot, marshalSpecs(entries)); err != nil {
			return nil, fmt.Errorf("filling the capture table: %w", err)
		}
	}
	maps := progMaps{Armed: s.armed.FD(), Counts: s.counts.FD(), Specs: s.specs.FD(),
		Values: s.values.FD(), Distinct: s.distinct.FD(), Lost: s.lost.FD()}
	if s.prog, s.link, err = attachProgram(cfg, maps); err != nil {
		return nil, err
	}
	return s, nil
}

// attachProgram loads the recording program for cfg and maps and attaches
// it to the sys_enter raw tracepoint.
func attachProgram(cfg progConfig, maps progMaps) (*ebpf.Program, link.Link, error) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "sysfence_record",
		Type:         ebpf.RawTracepoint,
		License:      "GPL", // the probe_read and task helpers are GPL-only
		Instructions: program(cfg, maps),
	})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, nil, fmt.Errorf("loading the recording program: %w\n%+v", err, ve)
		}
		return nil, nil, fmt.Errorf("loading the recording program: %w", err)
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: prog})
	if err != nil {
		prog.Close()
		return nil, nil, fmt.Errorf("attaching to the sys_enter tracepoint: %w", err)
	}
	return prog, l, nil
}

// specialized is the program a `record --docker` session switches to once
// it knows the container's cgroup and the cgroup is armed: a constant
// compare instead of the armed-hash lookup on every system call of the
// machine, and counts in a per-CPU array of its own.
type specialized struct {
	id     uint64
	counts *ebpf.Map
	prog   *ebpf.Program
	link   link.Link
}

// specialize attaches the constant-cgroup program for cgroup id, sharing
// this session's value and loss maps, and then detaches the session's own
// program. While both are attached a call may be counted twice; none is
// missed.
func (s *ebpfSession) specialize(id uint64) error {
	cfg := progConfig{Cgroup: id, Args: s.cfg.Args, StatusOffset: s.cfg.StatusOffset}
	spec := countsSpec(cfg)
	counts, err := ebpf.NewMap(&spec)
	if err != nil {
		return fmt.Errorf("creating eBPF map %s: %w", spec.Name, err)
	}
	maps := progMaps{Armed: s.armed.FD(), Counts: counts.FD(), Specs: s.specs.FD(),
		Values: s.values.FD(), Distinct: s.distinct.FD(), Lost: s.lost.FD()}
	prog, l, err := attachProgram(cfg, maps)
	if err != nil {
		counts.Close()
		return err
	}
	s.special = &specialized{id: id, counts: counts, prog: prog, link: l}
	s.link.Close()
	s.link = nil
	return nil
}

// Close detaches the program and frees the maps.
func (s *ebpfSession) Close() {
	if sp := s.special; sp != nil {
		sp.link.Close()
		sp.prog.Close()
		sp.counts.Close()
	}
	if s.link != nil {
		s.link.Close()
	}
	if s.prog != nil {
		s.prog.Close()
	}
	for _, m := range []*ebpf.Map{s.armed, s.counts, s.specs, s.values, s.distinct, s.lost} {
		if m != nil {
			m.Close()
		}
	}
}

// armedCgroups lists the cgroups the program has armed, by user space or by
// itself.
func (s *ebpfSession) armedCgroups() ([]uint64, error) {
	var out []uint64
	var k, v uint64
	it := s.armed.Iterate()
	for it.Next(&k, &v) {
		out = append(out, k)
	}
	return out, it.Err()
}

// slotCall maps a slot back to its ABI and the number the kernel sees.
func slotCall(slot uint32) (*syscalls.Arch, uint32, bool) {
	if slot >= slotOther {
		return nil, 0, false
	}
	abi, nr := slot/slotsPerABI, slot%slotsPerABI
	if abi == abiX32 {
		nr |= x32Bit
	}
	return RecordedArches[abi], nr, true
}

// tally is what the maps hold for one cgroup so far.
type tally struct {
	b    *builder
	lost Loss
}

// read collects the counts (and argument values when withArgs) of cgroup id.
func (s *ebpfSession) read(id uint64, withArgs bool) (*tally, error) {
	t := &tally{b: newBuilder()}
	err := s.eachCount(id, func(slot uint32, n uint64) {
		arch, nr, ok := slotCall(slot)
		if ok {
			_, ok = arch.SyscallName(nr)
		}
		if ok {
			t.b.count(arch, nr, n)
		} else { // past the slots, or a slot the table has no call for
			t.lost.OutOfTable += n
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading the counts: %w", err)
	}
	var lost [numLost]uint64
	for i := range lost {
		if err := s.lost.Lookup(uint32(i), &lost[i]); err != nil {
			return nil, fmt.Errorf("reading the loss counters: %w", err)
		}
	}
	t.lost.MapFull = lost[lostCountsFull] + lost[lostValuesFull]
	t.lost.Unreadable = lost[lostUnreadable]
	if st, err := s.prog.Stats(); err == nil {
		t.lost.Skipped = st.RecursionMisses
	}
	if sp := s.special; sp != nil {
		if st, err := sp.prog.Stats(); err == nil {
			t.lost.Skipped += st.RecursionMisses
		}
	}
	if withArgs {
		if err := s.readValues(id, t.b); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// readValues adds the captured tuples of cgroup id to b, and marks the
// (slot, capture) pairs whose budget overflowed.
func (s *ebpfSession) readValues(id uint64, b *builder) error {
	var k valueKey
	var one uint64
	it := s.values.Iterate()
	for it.Next(&k, &one) {
		arch, nr, ok := slotCall(k.Slot)
		if k.Cgroup != id || !ok || k.Capture == 0 || int(k.Capture) > len(Captures) {
			continue
		}
		b.value(arch, nr, int(k.Capture-1), [2]uint64{k.A, k.B})
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("reading the argument values: %w", err)
	}
	for slot, entries := range specsFor() {
		arch, nr, _ := slotCall(slot)
		for i, e := range entries {
			if e.ID == 0 {
				continue
			}
			var n uint64
			if err := s.distinct.Lookup(slot*capturesPerSlot+uint32(i), &n); err != nil {
				return fmt.Errorf("reading the value budgets: %w", err)
			}
			if n > MaxValues {
				b.overflow(arch, nr, int(e.ID-1))
			}
		}
	}
	return nil
}

// progress sums what cgroup id has recorded so far, cheaply enough to call a
// few times a second.
func (s *ebpfSession) progress(id uint64) (calls uint64, distinct int) {
	slots := map[uint32]bool{}
	s.eachCount(id, func(slot uint32, n uint64) {
		calls += n
		slots[slot] = true
	})
	return calls, len(slots)
}

// progressOf samples what cgroup id has recorded so far, for Options.Progress.
func (s *ebpfSession) progressOf(id uint64) func() Progress {
	return func() Progress {
		calls, distinct := s.progress(id)
		return Progress{Calls: calls, Distinct: distinct}
	}
}

// isArmed reports whether the program records cgroup id.
func (s *ebpfSession) isArmed(id uint64) bool {
	var v uint64
	return s.armed.Lookup(id, &v) == nil
}

// ebpfUnavailable says why the eBPF back end cannot run here, or nil.
func ebpfUnavailable() error {
	if os.Geteuid() != 0 {
		// CAP_BPF+CAP_PERFMON would do, but without root we also cannot
		// make the cgroup the command runs in.
		return errors.New("eBPF recording needs root (CAP_BPF, CAP_PERFMON and write access to the cgroup v2 hierarchy)")
	}
	if _, err := statusOffset(); err != nil {
		return err
	}
	if _, err := cgroup2Root(); err != nil {
		return err
	}
	return nil
}

// EBPFReady returns nil when `sysfence record` can use the eBPF back end
// here, or why not (then commands are recorded with ptrace).
func EBPFReady() error { return ebpfUnavailable() }

// Cgroup2Root is where the cgroup v2 hierarchy the recorder uses is mounted.
func Cgroup2Root() (string, error) { return cgroup2Root() }
