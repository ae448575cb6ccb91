package recorder

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
	"testing"

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

// TestProgramCompatBranch checks the program's i386 branch, which this
// machine cannot reach with real i386 code (see TestABIs): the program is
// built to read its "TS_COMPAT" bit from task_struct.static_prio instead of
// thread_info.status, and a thread whose nice value sets that bit
// (static_prio = 120 + nice; 122 has bit 1 set, 120 has not) makes a real
// system call, whose number must then land in the x86 table. It runs with
// both ways of deciding that a task is recorded: looking its cgroup id up,
// and comparing the cgroup pointer the program learned.
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
	off, err := offsets()
	if err != nil {
		t.Fatal(err)
	}
	off.Status = int16(prioOff)
	self, err := processCgroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cgid, err := cgroupID(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, learned := range []bool{false, true} {
		name := "cgroup id"
		if learned {
			name = "learned pointer"
		}
		t.Run(name, func(t *testing.T) {
			sess, err := openEBPF(progConfig{Cgroup: cgid, Offsets: off})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if learned {
				syscall.Getpid() // a recorded call: the program learns this cgroup's pointer
				switched, err := sess.specialize(cgid, self)
				if err != nil || !switched {
					t.Fatalf("specialize: switched %v, %v (learned %#x)", switched, err, sess.learned(cgid))
				}
			}
			resetCounts(t, sess)
			compatCalls(t)
			if sp := sess.special; sp != nil {
				sp.link.Close() // the counts now hold what the test wants
				sp.link = nil
			} else {
				sess.link.Close()
				sess.link = nil
			}
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
			if got["x86 getpid"] != 1 {
				t.Errorf("x86 getpid counted %d times, want exactly 1 (all: %v)", got["x86 getpid"], got)
			}
			if got["x86_64 getpid"] < 1 {
				t.Errorf("x86_64 getpid counted %d times, want at least 1 (all: %v)", got["x86_64 getpid"], got)
			}
		})
	}
}

// compatCalls makes, on one thread, x86_64 system call 20 (writev with no
// vectors: harmless) with nice 2 and getpid with nice 0. Read as the test's
// program reads the ABI, the first is i386 getpid (20).
func compatCalls(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := syscall.Gettid()
	nice := func(n int) {
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, n); err != nil {
			t.Fatalf("setpriority(%d): %v", n, err)
		}
	}
	nice(2)
	syscall.RawSyscall(20, 0, 0, 0)
	nice(0)
	syscall.RawSyscall(39, 0, 0, 0)
}

// resetCounts zeroes the per-slot counts of a constant-cgroup session.
func resetCounts(t *testing.T, sess *ebpfSession) {
	t.Helper()
	mem, err := sess.counts.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mem.WriteAt(make([]byte, mem.Size()), 0); err != nil {
		t.Fatal(err)
	}
}

// TestPinCgroup checks that the recorder pins only the cgroup it learned
// the pointer of: a path that is now another cgroup, or none, is refused.
func TestPinCgroup(t *testing.T) {
	requireEBPF(t)
	self, err := processCgroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cgid, err := cgroupID(self)
	if err != nil {
		t.Fatal(err)
	}
	pin, err := pinCgroup(cgid, self)
	if err != nil || pin == nil {
		t.Fatalf("pinCgroup(%d, %s) = %v, %v; want a pinning map", cgid, self, pin, err)
	}
	pin.Close()
	for _, c := range []struct {
		id   uint64
		path string
	}{{cgid + 1, self}, {cgid, self + "/sysfence-no-such-cgroup"}} {
		if pin, err := pinCgroup(c.id, c.path); pin != nil || err != nil {
			t.Errorf("pinCgroup(%d, %s) = %v, %v; want nil, nil", c.id, c.path, pin, err)
		}
	}
}

// TestSwitchesToLearnedPointer records a command the way RecordEBPF does and
// checks that the session switched to the pointer-comparing program (which
// takes milliseconds: the program learns at the cgroup's first call, user
// space polls every 5 ms) and that calls made after the switch were counted
// by it: the command sleeps 0.3 s first, then nproc calls sched_getaffinity
// and the processes end with exit_group.
func TestSwitchesToLearnedPointer(t *testing.T) {
	requireEBPF(t)
	cg, err := newRecordCgroup()
	if err != nil {
		t.Fatal(err)
	}
	defer cg.remove()
	sess, err := openEBPF(progConfig{Cgroup: cg.id})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	stop := sess.specializeWhenLearned(cg.id, cg.path)
	defer stop()
	cmd := exec.Command("sh", "-c", "sleep 0.3; nproc >/dev/null")
	if err := startInCgroup(cmd, cg); err != nil {
		t.Fatal(err)
	}
	if _, err := waitTree(t.Context(), cmd, cg); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("switching to the pointer-comparing program: %v", err)
	}
	if sess.special == nil || sess.link != nil {
		t.Fatalf("the session did not switch (special %v, first program still attached %v)", sess.special != nil, sess.link != nil)
	}
	tl, err := sess.read(cg.id, false)
	if err != nil {
		t.Fatal(err)
	}
	o := &Observation{}
	tl.b.fill(o)
	for _, name := range []string{"sched_getaffinity", "exit_group"} {
		if !slices.Contains(o.Names("x86_64"), name) {
			t.Errorf("%s, made after the switch, was not recorded: %v", name, o.Names("x86_64"))
		}
	}
}
