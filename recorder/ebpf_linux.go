package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/sysfence/sysfence/internal/unix"
	"github.com/sysfence/sysfence/kernel"
	"github.com/sysfence/sysfence/profile"
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

// countsSpec is the counts map: for one constant cgroup, an array with a
// row of slots per possible CPU (memory-mapped to be read); a per-CPU hash
// keyed by (cgroup, slot) otherwise.
func countsSpec(cfg progConfig) (ebpf.MapSpec, error) {
	if cfg.Cgroup != 0 {
		cpus, err := ebpf.PossibleCPU()
		if err != nil {
			return ebpf.MapSpec{}, err
		}
		return ebpf.MapSpec{Name: "sf_counts", Type: ebpf.Array, KeySize: 4, ValueSize: 8,
			MaxEntries: uint32(cpus * numSlots), Flags: unix.BPF_F_MMAPABLE}, nil
	}
	return ebpf.MapSpec{Name: "sf_counts", Type: ebpf.PerCPUHash, KeySize: 16, ValueSize: 8, MaxEntries: countMapEntries}, nil
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

// eachSlot calls fn with every non-zero count of an array of per-CPU rows
// of slots (countsSpec), summed over the CPUs.
func eachSlot(m *ebpf.Map, fn func(slot uint32, n uint64)) error {
	mem, err := m.Memory()
	if err != nil {
		return fmt.Errorf("mapping the counts: %w", err)
	}
	var sum [numSlots]uint64
	row := make([]byte, 8*numSlots) // one CPU's row at a time: machines with many CPUs have big arrays
	for off := 0; off+len(row) <= 8*int(m.MaxEntries()); off += len(row) {
		if _, err := mem.ReadAt(row, int64(off)); err != nil {
			return fmt.Errorf("reading the counts: %w", err)
		}
		for slot := range sum {
			sum[slot] += binary.NativeEndian.Uint64(row[8*slot:])
		}
	}
	for slot, n := range sum {
		if n > 0 {
			fn(uint32(slot), n)
		}
	}
	return nil
}

func sumCPUs(per []uint64) (n uint64) {
	for _, v := range per {
		n += v
	}
	return n
}

// ebpfSession is a loaded, attached recording program and its maps.
type ebpfSession struct {
	cfg                                   progConfig
	armed, counts, values, distinct, lost *ebpf.Map
	prog                                  *ebpf.Program
	link                                  link.Link
	special                               *specialized // once the program has learned the cgroup's pointer
}

// offsets finds, in the running kernel's BTF, where the program reads
// TS_COMPAT (to tell i386 calls from x86_64 ones, as seccomp does) and the
// task's cgroup pointers. Parsing the kernel's BTF takes tens of
// milliseconds, so it is done once.
var offsets = sync.OnceValues(readOffsets)

// kernelBTF is the kernel's BTF, parsed once for the process: every program
// load looks its attach point up there, and cilium/ebpf would otherwise
// parse it afresh for each (about 20 ms here).
var kernelBTF = btf.NewCache()

func readOffsets() (kernelOffsets, error) {
	spec, err := kernelBTF.Kernel()
	if err != nil {
		return kernelOffsets{}, fmt.Errorf("reading kernel BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF): %w", err)
	}
	field := func(structName, memberName string) (int16, error) {
		var st *btf.Struct
		if err := spec.TypeByName(structName, &st); err != nil {
			return 0, fmt.Errorf("kernel BTF: %w", err)
		}
		off, err := member(st, memberName)
		if err != nil {
			return 0, err
		}
		if off > math.MaxInt16 {
			return 0, fmt.Errorf("kernel BTF: %s.%s at offset %d, beyond what a load instruction reaches", structName, memberName, off)
		}
		return int16(off), nil
	}
	var o kernelOffsets
	ti, err := field("task_struct", "thread_info")
	if err != nil {
		return o, err
	}
	st, err := field("thread_info", "status")
	if err != nil {
		return o, err
	}
	o.Status = ti + st
	if o.Cgroups, err = field("task_struct", "cgroups"); err != nil {
		return o, err
	}
	if o.DflCgrp, err = field("css_set", "dfl_cgrp"); err != nil {
		return o, err
	}
	return o, nil
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
// sys_enter tracepoint. Close detaches it.
func openEBPF(cfg progConfig) (s *ebpfSession, err error) {
	if cfg.Offsets == (kernelOffsets{}) {
		if cfg.Offsets, err = offsets(); err != nil {
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
	countsMap, err := countsSpec(cfg)
	if err != nil {
		return nil, err
	}
	specs := []struct {
		m    **ebpf.Map
		spec ebpf.MapSpec
	}{
		{&s.armed, ebpf.MapSpec{Name: "sf_armed", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: armedMapEntries}},
		{&s.counts, countsMap},
		{&s.values, ebpf.MapSpec{Name: "sf_values", Type: ebpf.Hash, KeySize: 32, ValueSize: 8, MaxEntries: valueMapEntries}},
		{&s.distinct, ebpf.MapSpec{Name: "sf_distinct", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: numSlots * capturesPerSlot}},
		{&s.lost, ebpf.MapSpec{Name: "sf_lost", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: numLost}},
	}
	for _, m := range specs {
		if *m.m, err = ebpf.NewMap(&m.spec); err != nil {
			return nil, fmt.Errorf("creating eBPF map %s: %w", m.spec.Name, err)
		}
	}
	if cfg.Cgroup != 0 { // where the program stores what it learns
		if err := s.armed.Put(cfg.Cgroup, armedValue{}); err != nil {
			return nil, fmt.Errorf("arming cgroup %d: %w", cfg.Cgroup, err)
		}
	}
	if s.prog, s.link, err = attachProgram(cfg, s.maps(s.counts)); err != nil {
		return nil, err
	}
	return s, nil
}

// maps are the session's map descriptors, with counts as the counts map.
func (s *ebpfSession) maps(counts *ebpf.Map) progMaps {
	return progMaps{Armed: s.armed.FD(), Counts: counts.FD(), Values: s.values.FD(), Distinct: s.distinct.FD(), Lost: s.lost.FD()}
}

// attachProgram loads the recording program for cfg and maps and attaches
// it to the sys_enter tracepoint.
func attachProgram(cfg progConfig, maps progMaps) (*ebpf.Program, link.Link, error) {
	const name = "sysfence_record"
	coll, err := ebpf.NewCollectionWithOptions(&ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{name: {
		Name:         name,
		Type:         ebpf.Tracing,
		AttachType:   ebpf.AttachTraceRawTp,
		AttachTo:     "sys_enter",
		License:      "GPL", // the task and cgroup helpers are GPL-only
		Instructions: program(cfg, maps),
	}}}, ebpf.CollectionOptions{Cache: kernelBTF})
	var prog *ebpf.Program
	if err == nil {
		prog = coll.DetachProgram(name)
		coll.Close()
	}
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, nil, fmt.Errorf("loading the recording program: %w\n%+v", err, ve)
		}
		return nil, nil, fmt.Errorf("loading the recording program: %w", err)
	}
	l, err := link.AttachTracing(link.TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp})
	if err != nil {
		prog.Close()
		return nil, nil, fmt.Errorf("attaching to the sys_enter tracepoint: %w", err)
	}
	return prog, l, nil
}

// specialized is the program a session switches to once it knows the one
// cgroup it records and the cgroup pointer the program learned for it: a
// pointer compare instead of a cgroup-id lookup on every system call of the
// machine. Its counts are an array of per-CPU rows: the session's own for a
// constant cgroup, a new one after record --docker's per-cgroup hash.
type specialized struct {
	id     uint64
	pin    *ebpf.Map // a cgroup array holding a reference to the cgroup
	counts *ebpf.Map // nil when it shares the session's
	prog   *ebpf.Program
	link   link.Link
}

func (sp *specialized) close() {
	if sp.link != nil {
		sp.link.Close()
	}
	if sp.prog != nil {
		sp.prog.Close()
	}
	for _, m := range []*ebpf.Map{sp.counts, sp.pin} {
		if m != nil {
			m.Close()
		}
	}
}

// learned returns the cgroup pointer the program stored for cgroup id, or 0.
func (s *ebpfSession) learned(id uint64) uint64 {
	var v armedValue
	if err := s.armed.Lookup(id, &v); err != nil {
		return 0
	}
	return v.Cgroup
}

// specialize attaches the pointer-comparing program for cgroup id (whose
// directory is path), sharing this session's value and loss maps, and then
// detaches the session's own program. While both are attached a call may be
// counted twice; none is missed. It does nothing until the program has
// learned id's cgroup pointer (at id's first recorded call), or when the
// cgroup is gone; it reports whether it switched.
//
// The cgroup is pinned first: while a cgroup array holds it, its struct
// cgroup cannot be freed, so no other cgroup can take its address.
func (s *ebpfSession) specialize(id uint64, path string) (bool, error) {
	if s.special != nil {
		return false, nil
	}
	ptr := s.learned(id)
	if ptr == 0 {
		return false, nil
	}
	sp := &specialized{id: id}
	switched := false
	defer func() {
		if !switched {
			sp.close()
		}
	}()
	var err error
	if sp.pin, err = pinCgroup(id, path); err != nil || sp.pin == nil {
		return false, err
	}
	cfg := progConfig{Cgroup: id, CgroupPtr: ptr, Args: s.cfg.Args, Offsets: s.cfg.Offsets}
	counts := s.counts
	if s.cfg.Cgroup == 0 {
		spec, err := countsSpec(cfg)
		if err != nil {
			return false, err
		}
		if sp.counts, err = ebpf.NewMap(&spec); err != nil {
			return false, fmt.Errorf("creating eBPF map %s: %w", spec.Name, err)
		}
		counts = sp.counts
	}
	if sp.prog, sp.link, err = attachProgram(cfg, s.maps(counts)); err != nil {
		return false, err
	}
	switched = true
	s.special = sp
	s.link.Close()
	s.link = nil
	return true, nil
}

// pinCgroup puts the cgroup at path into a one-entry cgroup array, which
// holds a reference to it, after checking that path is still cgroup id
// (ids are never reused). It returns nil, nil when the cgroup is gone.
func pinCgroup(id uint64, path string) (*ebpf.Map, error) {
	dir, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("opening cgroup %s: %w", path, err)
	}
	defer dir.Close()
	fi, err := dir.Stat()
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	ino, err := inode(path, fi)
	if err != nil {
		return nil, err
	}
	if ino != id {
		return nil, nil // removed and replaced by another cgroup of the same name
	}
	pin, err := ebpf.NewMap(&ebpf.MapSpec{Name: "sf_pin", Type: ebpf.CGroupArray, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		return nil, fmt.Errorf("creating the cgroup array that pins the recorded cgroup: %w", err)
	}
	if err := pin.Put(uint32(0), uint32(dir.Fd())); err != nil {
		pin.Close()
		return nil, fmt.Errorf("pinning cgroup %s: %w", path, err)
	}
	return pin, nil
}

// specializeWhenLearned calls specialize(id, path) every few milliseconds until it
// switched, failed, or stop is called; stop returns its error and may be
// called more than once.
func (s *ebpfSession) specializeWhenLearned(id uint64, path string) (stop func() error) {
	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for {
			switched, err := s.specialize(id, path)
			if switched || err != nil {
				done <- err
				return
			}
			select {
			case <-quit:
				done <- nil
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return sync.OnceValue(func() error {
		close(quit)
		return <-done
	})
}

// Close detaches the program and frees the maps.
func (s *ebpfSession) Close() {
	if s.special != nil {
		s.special.close()
	}
	if s.link != nil {
		s.link.Close()
	}
	if s.prog != nil {
		s.prog.Close()
	}
	for _, m := range []*ebpf.Map{s.armed, s.counts, s.values, s.distinct, s.lost} {
		if m != nil {
			m.Close()
		}
	}
}

// armedCgroups lists the cgroups the program has armed, by user space or by
// itself.
func (s *ebpfSession) armedCgroups() ([]uint64, error) {
	var out []uint64
	var k uint64
	var v armedValue
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

// ebpfUnavailable says why the eBPF back end cannot run here, or nil.
func ebpfUnavailable() error {
	if os.Geteuid() != 0 {
		// CAP_BPF+CAP_PERFMON would do, but without root we also cannot
		// make the cgroup the command runs in.
		return errors.New("eBPF recording needs root (CAP_BPF, CAP_PERFMON and write access to the cgroup v2 hierarchy)")
	}
	if err := kernelSupportsTracing(); err != nil {
		return err
	}
	if _, err := offsets(); err != nil {
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

// kernelSupportsTracing reports whether this kernel runs the recording
// program: a BTF-typed raw tracepoint (Linux 5.5) that calls
// bpf_get_current_task_btf (Linux 5.11).
func kernelSupportsTracing() error {
	release, err := kernel.Release()
	if err != nil {
		return err
	}
	v, err := profile.ParseKernel(release)
	if err != nil {
		return err
	}
	if !v.AtLeast(profile.KernelVersion{Major: 5, Minor: 11}) {
		return fmt.Errorf("eBPF recording needs Linux 5.11 or later (bpf_get_current_task_btf); this is %s", release)
	}
	return nil
}
