package recorder

import (
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/syscalls"
)

// requireEBPF skips (fails in CI) when the eBPF back end cannot run here.
func requireEBPF(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	if why := ebpfUnavailable(); why != nil {
		testutil.Unavailable(t, "eBPF recording: %v", why)
	}
}

func TestSlotLayout(t *testing.T) {
	for _, arch := range RecordedArches {
		for _, name := range arch.Names() {
			nr, _ := arch.Number(name)
			if nr&^x32Bit >= slotsPerABI {
				t.Errorf("%s %s = %d does not fit a slot of %d", arch, name, nr, slotsPerABI)
			}
		}
	}
	specs := specsFor()
	for _, c := range []struct {
		arch *syscalls.Arch
		abi  uint32
		name string
		ids  []string
	}{
		{syscalls.X86_64, abiX86_64, "socket", []string{"socket.family", "socket.type"}},
		{syscalls.X86, abiX86, "socketcall", []string{"socketcall.call"}},
		{syscalls.X86, abiX86, "mmap2", []string{"mmap2.prot"}},
		{syscalls.X32, abiX32, "ioctl", []string{"ioctl.request"}},
		{syscalls.X86_64, abiX86_64, "setsockopt", []string{"setsockopt.option"}},
	} {
		nr, _ := c.arch.Number(c.name)
		slot := c.abi*slotsPerABI + nr&^x32Bit
		arch, back, ok := slotCall(slot)
		if !ok || arch != c.arch || back != nr {
			t.Errorf("slot %d maps back to %v %d, want %s %d", slot, arch, back, c.arch, nr)
		}
		entries := specs[slot]
		for i, id := range c.ids {
			e := entries[i]
			if e.ID == 0 || Captures[e.ID-1].ID != id {
				t.Errorf("%s %s entry %d = %+v, want capture %s", c.arch, c.name, i, e, id)
			}
			if c.arch.Bits == 32 && e.MaskA>>32 != 0 {
				t.Errorf("%s %s: mask %#x keeps the upper half of a 32-bit argument", c.arch, c.name, e.MaskA)
			}
		}
	}
	// i386 arguments come from bx, cx, dx…; x86_64 and x32 from di, si, dx, r10…
	nr, _ := syscalls.X86.Number("socket")
	if got := specs[abiX86*slotsPerABI+nr][0].OffA; got != 40 {
		t.Errorf("i386 socket family read at pt_regs+%d, want 40 (bx)", got)
	}
	nr, _ = syscalls.X32.Number("socket")
	if got := specs[abiX32*slotsPerABI+nr&^x32Bit][0].OffA; got != 112 {
		t.Errorf("x32 socket family read at pt_regs+%d, want 112 (di)", got)
	}
}

// TestProgramSlots runs the loaded program on made-up raw tracepoint
// arguments (BPF_PROG_TEST_RUN) to check how it files numbers: an x32
// number (bit 30) into the x32 table without its bit, an x86_64 number into
// the x86_64 table, -1 and numbers past the tables into the "other" slot.
func TestProgramSlots(t *testing.T) {
	requireEBPF(t)
	self, err := processCgroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cgid, err := cgroupID(self)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := openEBPF(progConfig{Cgroup: cgid})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sess.link.Close() // only the test runs count: detach, then forget what the tracepoint saw
	sess.link = nil
	resetCounts(t, sess)
	for _, id := range []int64{x32Bit | 41, x32Bit | 41, 39, -1, 5000, x32Bit | 5000} {
		if _, err := sess.prog.Run(&ebpf.RunOptions{Context: []uint64{0, uint64(id)}}); err != nil {
			testutil.Unavailable(t, "BPF_PROG_TEST_RUN on a raw tracepoint program: %v", err)
		}
	}
	tl, err := sess.read(cgid, false)
	if err != nil {
		t.Fatal(err)
	}
	o := &Observation{}
	tl.b.fill(o)
	want := map[string]map[string]uint64{"x32": {"socket": 2}, "x86_64": {"getpid": 1}}
	for _, a := range o.ABIs {
		for _, c := range a.Calls {
			if want[a.Arch][c.Name] != c.Count {
				t.Errorf("%s %s (%#x) counted %d times, want %d", a.Arch, c.Label(), c.Nr, c.Count, want[a.Arch][c.Name])
			}
		}
	}
	if o.Distinct() != 2 {
		t.Errorf("recorded %d distinct calls, want 2: %+v", o.Distinct(), o.ABIs)
	}
	if tl.lost.OutOfTable != 3 {
		t.Errorf("out-of-table count = %d, want 3 (-1, 5000, x32 5000)", tl.lost.OutOfTable)
	}
}

// TestProgramCompatBranch checks the program's i386 branch, which this
// machine cannot reach with real i386 code (see TestRecordsI386Binary): the
// program is built to read its "TS_COMPAT" bit from task_struct.static_prio
// instead of thread_info.status, and run (BPF_PROG_TEST_RUN) on a thread
// whose nice value sets that bit (static_prio = 120 + nice; 122 has bit 1
// set, 120 has not). The same number must then land in the x86 table.
func TestProgramCompatBranch(t *testing.T) {
	requireEBPF(t)
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	var task *btf.Struct
	if err := spec.TypeByName("task_struct", &task); err != nil {
		t.Fatal(err)
	}
	prioOff, err := member(task, "static_prio")
	if err != nil {
		t.Fatal(err)
	}
	self, err := processCgroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cgid, err := cgroupID(self)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := openEBPF(progConfig{Cgroup: cgid, StatusOffset: int32(prioOff)})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sess.link.Close()
	sess.link = nil
	resetCounts(t, sess)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := syscall.Gettid()
	run := func(nice int, id uint64) {
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
			t.Fatalf("setpriority(%d): %v", nice, err)
		}
		if _, err := sess.prog.Run(&ebpf.RunOptions{Context: []uint64{0, id}}); err != nil {
			testutil.Unavailable(t, "BPF_PROG_TEST_RUN on a raw tracepoint program: %v", err)
		}
	}
	run(2, 20) // i386 getpid is 20
	run(0, 39) // x86_64 getpid is 39
	run(0, 0)

	tl, err := sess.read(cgid, false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	o := &Observation{}
	tl.b.fill(o)
	for _, a := range o.ABIs {
		for _, c := range a.Calls {
			got[a.Arch+" "+c.Label()] += c.Count
		}
	}
	// Other threads of this process may have run the tracepoint before it
	// was detached; only the test runs matter.
	for key, want := range map[string]uint64{"x86 getpid": 1, "x86_64 getpid": 1, "x86_64 read": 1} {
		if got[key] < want {
			t.Errorf("%s counted %d times, want %d (all: %v)", key, got[key], want, got)
		}
	}
	if got["x86 getpid"] != 1 {
		t.Errorf("x86 getpid counted %d times, want exactly 1", got["x86 getpid"])
	}
}

// resetCounts zeroes the per-slot counts of a constant-cgroup session.
func resetCounts(t *testing.T, sess *ebpfSession) {
	t.Helper()
	zero := make([]uint64, ebpf.MustPossibleCPU())
	for slot := range uint32(numSlots) {
		if err := sess.counts.Put(slot, zero); err != nil {
			t.Fatal(err)
		}
	}
}
