package recorder

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/cilium/ebpf/asm"
)

// The eBPF recording program runs on every system call entry of the machine
// (a BTF-typed raw tracepoint, tp_btf/sys_enter). For a task of the recorded
// cgroup it adds one to a per-CPU counter of the slot abi*slotsPerABI+nr
// (keyed by cgroup as well while record --docker waits for runc), and, for
// the calls of Captures, inserts the argument tuple into a hash of distinct
// values, bounded per (slot, capture). Nothing is sent to user space per
// call; user space reads the maps.
//
// Deciding "is this task recorded" is most of the cost: on a machine whose
// TLB is flushed at every system call (page-table isolation without PCID,
// common in VMs) every pointer followed is a miss. bpf_get_current_cgroup_id
// follows three (css_set, cgroup, kernfs node). So once the program has seen
// a recorded task it stores that task's cgroup pointer (css_set->dfl_cgrp),
// user space pins the cgroup (a cgroup-array map holds a reference, so the
// address cannot be reused) and attaches a program that compares
// task->cgroups->dfl_cgrp with it: one pointer followed.

const (
	slotsPerABI = 1024 // every x86 table has fewer numbers than this (x32 goes up to 547)
	abiX86_64   = 0
	abiX86      = 1
	abiX32      = 2
	slotOther   = 3 * slotsPerABI // numbers outside every table
	numSlots    = slotOther + 1

	capturesPerSlot = 2 // socket has two captures; no call has more

	// Indices of the lost-data counters (map "lost").
	lostCountsFull = 0
	lostValuesFull = 1
	numLost        = 2

	bpfAny     = 0
	bpfNoExist = 1
	eexist     = 17

	tsCompat = 0x0002 // TS_COMPAT in thread_info.status: the task is in an ia32 system call
	x32Bit   = 0x40000000
)

// x86_64 struct pt_regs offsets of the system call argument registers, by
// ABI: x86_64 and x32 pass arguments in di, si, dx, r10, r8, r9; ia32 in bx,
// cx, dx, si, di, bp. The layout is the ptrace ABI (user_regs_struct) and
// does not change between kernels.
var ptRegsArg = [2][6]uint16{
	{112, 104, 96, 56, 72, 64},
	{40, 88, 96, 104, 112, 32},
}

// specEntry is one capture for one slot: captures are numbered from 1 so
// that 0 means none.
type specEntry struct {
	ID    uint32 // capture index + 1
	OffA  uint16 // pt_regs offset of the first argument
	OffB  uint16 // of the second, or 0 for none
	MaskA uint64
	MaskB uint64
}

// specsFor lays out the capture entries of every slot.
func specsFor() map[uint32][capturesPerSlot]specEntry {
	out := map[uint32][capturesPerSlot]specEntry{}
	for abi, arch := range RecordedArches {
		regs := ptRegsArg[0]
		if abi == abiX86 {
			regs = ptRegsArg[1]
		}
		for nr, cis := range captureSlots(arch) {
			slot := uint32(abi*slotsPerABI) + nr&^x32Bit
			var entries [capturesPerSlot]specEntry
			for k, ci := range cis[:min(len(cis), capturesPerSlot)] {
				c := Captures[ci]
				e := specEntry{ID: uint32(ci + 1), OffA: regs[c.Args[0]], MaskA: ^uint64(0), MaskB: ^uint64(0)}
				if len(c.Args) > 1 {
					e.OffB = regs[c.Args[1]]
				}
				if arch.Bits == 32 {
					e.MaskA &= 0xffffffff
					e.MaskB &= 0xffffffff
				}
				entries[k] = e
			}
			out[slot] = entries
		}
	}
	return out
}

// progConfig says what the program is generated for.
type progConfig struct {
	// Cgroup, when not zero, is the one recorded cgroup, compared as a
	// constant; when zero the program looks the cgroup up in "armed".
	Cgroup uint64
	// CgroupPtr, when not zero, is the kernel address of Cgroup's struct
	// cgroup, as the program learned it (and pinned by user space):
	// membership is then decided by comparing pointers.
	CgroupPtr uint64
	// ArmOnRunc arms a cgroup from inside the program when runc's init
	// process (comm "runc:[2:INIT]") installs its seccomp filter or calls
	// execve: what the container runs after that point is recorded.
	ArmOnRunc bool
	// Args enables the argument captures.
	Args bool
	// Offsets are where the program reads the kernel's structures.
	Offsets kernelOffsets
}

// kernelOffsets are field offsets in the running kernel's structures.
type kernelOffsets struct {
	Status  int16 // task_struct.thread_info.status (TS_COMPAT)
	Cgroups int16 // task_struct.cgroups (struct css_set *)
	DflCgrp int16 // css_set.dfl_cgrp (struct cgroup *)
}

// progMaps are the file descriptors of the maps the program uses.
type progMaps struct {
	Armed, Counts, Values, Distinct, Lost int
}

// armedValue is the value of the "armed" map: the struct cgroup pointer
// the program learned for the cgroup (zero until its first recorded call).
type armedValue struct {
	Cgroup uint64
}

// Stack layout, as offsets from the frame pointer R10.
const (
	stCountKey = -16  // {cgroup u64, slot u32, pad u32}
	stValueKey = -48  // {cgroup u64, slot u32, capture u32, a u64, b u64}
	stTmp      = -56  // scratch u64
	stComm     = -72  // 16 bytes
	stStage    = -120 // capturesPerSlot × {id u64, a u64, b u64}: the call's captured tuples
)

// runc's init process names itself "runc:[2:INIT]" (16-byte comm, NUL padded).
var runcInitComm = [2]int64{
	int64(binary.LittleEndian.Uint64([]byte("runc:[2:"))),
	int64(binary.LittleEndian.Uint64([]byte("INIT]\x00\x00\x00"))),
}

// emitter builds an instruction list with labels.
type emitter struct {
	insns   asm.Instructions
	pending string
}

func (e *emitter) emit(ins ...asm.Instruction) {
	for _, in := range ins {
		if e.pending != "" {
			in = in.WithSymbol(e.pending)
			e.pending = ""
		}
		e.insns = append(e.insns, in)
	}
}

// label names the next instruction emitted.
func (e *emitter) label(name string) {
	if e.pending != "" {
		e.emit(asm.Mov.Imm(asm.R0, 0)) // two labels on one place: give the first its own no-op
	}
	e.pending = name
}

// call emits a helper call.
func (e *emitter) call(fn asm.BuiltinFunc) { e.emit(fn.Call()) }

// stackPtr sets reg to R10+off.
func (e *emitter) stackPtr(reg asm.Register, off int16) {
	e.emit(asm.Mov.Reg(reg, asm.R10), asm.Add.Imm(reg, int32(off)))
}

// bumpLost atomically adds one to lost[idx]. It clobbers R0-R5.
func (e *emitter) bumpLost(m progMaps, idx int32, done string) {
	e.emit(asm.StoreImm(asm.R10, stTmp, int64(idx), asm.Word), asm.LoadMapPtr(asm.R1, m.Lost))
	e.stackPtr(asm.R2, stTmp)
	e.call(asm.FnMapLookupElem)
	e.emit(asm.JEq.Imm(asm.R0, 0, done), asm.Mov.Imm(asm.R1, 1), asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 0), asm.Ja.Label(done))
}

// Registers kept across helper calls.
const (
	rTask = asm.R6 // struct task_struct * (BTF-typed)
	rCg   = asm.R7 // current cgroup id (looked-up modes)
	rSlot = asm.R8 // system call id, then the slot
	rRegs = asm.R9 // struct pt_regs * (BTF-typed)
)

// program generates the recording program.
func program(cfg progConfig, m progMaps) asm.Instructions {
	e := &emitter{}
	e.emit(
		asm.LoadMem(rRegs, asm.R1, 0, asm.DWord), // ctx[0]: struct pt_regs *
		asm.LoadMem(rSlot, asm.R1, 8, asm.DWord), // ctx[1]: the number, x32 bit included
	)
	e.call(asm.FnGetCurrentTaskBtf)
	e.emit(asm.Mov.Reg(rTask, asm.R0))
	switch {
	case cfg.Cgroup != 0 && cfg.CgroupPtr != 0:
		emitPointerMember(e, cfg)
	case cfg.Cgroup != 0:
		e.call(asm.FnGetCurrentCgroupId)
		e.emit(asm.LoadImm(asm.R1, int64(cfg.Cgroup), asm.DWord), asm.JNE.Reg(asm.R0, asm.R1, "exit"))
		emitLookupArmed(e, cfg, m, "count")
		emitLearn(e, cfg)
	default:
		e.call(asm.FnGetCurrentCgroupId)
		e.emit(asm.Mov.Reg(rCg, asm.R0))
		miss := "exit"
		if cfg.ArmOnRunc {
			miss = "maybe_arm"
		}
		emitLookupArmed(e, cfg, m, miss)
		emitLearn(e, cfg)
	}
	e.label("count")
	emitSlot(e, cfg)
	if cfg.Cgroup != 0 {
		emitCountSlot(e, m)
	} else {
		emitCount(e, m)
	}
	var specs map[uint32][capturesPerSlot]specEntry
	var slots []uint32
	if cfg.Args {
		specs = specsFor()
		slots = slices.Sorted(maps.Keys(specs))
		emitArgSearch(e, slots)
	}
	// The path most calls take ends here; the rest of the program is laid
	// out after it, so that it spans as few code pages as possible.
	e.label("exit")
	e.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	if cfg.Args {
		emitArgStages(e, cfg, m, specs, slots)
	}
	if cfg.ArmOnRunc {
		emitArm(e, m)
	}
	return e.insns
}

// emitPointerMember jumps to "exit" unless the task's default-hierarchy
// cgroup (task->cgroups->dfl_cgrp) is the recorded one: task_struct is
// already in the TLB, so this follows one pointer.
func emitPointerMember(e *emitter, cfg progConfig) {
	e.emit(
		asm.LoadMem(asm.R1, rTask, cfg.Offsets.Cgroups, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, cfg.Offsets.DflCgrp, asm.DWord),
		asm.LoadImm(asm.R2, int64(cfg.CgroupPtr), asm.DWord),
		asm.JNE.Reg(asm.R1, asm.R2, "exit"),
	)
}

// emitLookupArmed looks the cgroup up in "armed" (the constant one, or rCg)
// and jumps to miss when it is not there; R0 then points to its value.
func emitLookupArmed(e *emitter, cfg progConfig, m progMaps, miss string) {
	if cfg.Cgroup != 0 {
		e.emit(asm.LoadImm(asm.R1, int64(cfg.Cgroup), asm.DWord), asm.StoreMem(asm.R10, stTmp, asm.R1, asm.DWord))
	} else {
		e.emit(asm.StoreMem(asm.R10, stTmp, rCg, asm.DWord))
	}
	e.emit(asm.LoadMapPtr(asm.R1, m.Armed))
	e.stackPtr(asm.R2, stTmp)
	e.call(asm.FnMapLookupElem)
	e.emit(asm.JEq.Imm(asm.R0, 0, miss))
}

// emitLearn stores the task's cgroup pointer in the armed value R0 points
// to, the first time: user space then switches to the pointer-comparing
// program.
func emitLearn(e *emitter, cfg progConfig) {
	e.emit(
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.JNE.Imm(asm.R1, 0, "count"),
		asm.LoadMem(asm.R1, rTask, cfg.Offsets.Cgroups, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, cfg.Offsets.DflCgrp, asm.DWord),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
	)
}

// emitSlot turns the number in rSlot into the slot: the ABI from the x32
// bit and the task's TS_COMPAT flag, exactly as seccomp's syscall_get_arch
// decides it.
func emitSlot(e *emitter, cfg progConfig) {
	e.emit(
		asm.JSLT.Imm(rSlot, 0, "other"),
		asm.JSet.Imm(rSlot, x32Bit, "x32"),
		asm.JGE.Imm(rSlot, slotsPerABI, "other"),
		asm.LoadMem(asm.R1, rTask, cfg.Offsets.Status, asm.Word),
		asm.JSet.Imm(asm.R1, tsCompat, "ia32"),
		asm.Ja.Label("slot_done"),
	)
	e.label("ia32")
	e.emit(asm.Add.Imm(rSlot, abiX86*slotsPerABI), asm.Ja.Label("slot_done"))
	e.label("x32")
	e.emit(
		asm.And.Imm(rSlot, ^int32(x32Bit)),
		asm.JGE.Imm(rSlot, slotsPerABI, "other"),
		asm.Add.Imm(rSlot, abiX32*slotsPerABI),
		asm.Ja.Label("slot_done"),
	)
	e.label("other")
	e.emit(asm.Mov.Imm(rSlot, slotOther))
	e.label("slot_done")
}

// emitCountSlot adds one to this CPU's count of the slot: with one
// constant cgroup the counts are a plain array with a row of slots per CPU,
// indexed cpu*numSlots+slot. Only its CPU writes a row, so no atomic is
// needed, and the lookup (which the verifier inlines) touches one page: a
// per-CPU array would touch two (its pointer table and the CPU's copy),
// each a TLB miss on machines that flush the TLB at every system call.
func emitCountSlot(e *emitter, m progMaps) {
	e.call(asm.FnGetSmpProcessorId)
	e.emit(
		asm.Mul.Imm(asm.R0, numSlots),
		asm.Add.Reg(asm.R0, rSlot),
		asm.StoreMem(asm.R10, stTmp, asm.R0, asm.Word),
		asm.LoadMapPtr(asm.R1, m.Counts),
	)
	e.stackPtr(asm.R2, stTmp)
	e.call(asm.FnMapLookupElem)
	e.emit(
		asm.JEq.Imm(asm.R0, 0, "counted"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
	)
	e.label("counted")
}

// emitCount adds one to counts[{cgroup, slot}] on this CPU, creating the
// entry on first use: the layout for several cgroups (record --docker).
func emitCount(e *emitter, m progMaps) {
	e.emit(
		asm.StoreMem(asm.R10, stCountKey, rCg, asm.DWord),
		asm.StoreMem(asm.R10, stCountKey+8, rSlot, asm.Word),
		asm.StoreImm(asm.R10, stCountKey+12, 0, asm.Word),
	)
	lookup := func(miss string) {
		e.emit(asm.LoadMapPtr(asm.R1, m.Counts))
		e.stackPtr(asm.R2, stCountKey)
		e.call(asm.FnMapLookupElem)
		e.emit(
			asm.JEq.Imm(asm.R0, 0, miss),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.Ja.Label("counted"),
		)
	}
	lookup("new_count")
	e.label("new_count")
	e.emit(storeImm64(stTmp, 1), asm.LoadMapPtr(asm.R1, m.Counts))
	e.stackPtr(asm.R2, stCountKey)
	e.stackPtr(asm.R3, stTmp)
	e.emit(asm.Mov.Imm(asm.R4, bpfNoExist))
	e.call(asm.FnMapUpdateElem)
	e.emit(asm.JEq.Imm(asm.R0, 0, "counted"), asm.JEq.Imm(asm.R0, -eexist, "recount"))
	e.bumpLost(m, lostCountsFull, "counted")
	e.label("recount") // another CPU created it first: count on ours
	lookup("counted")
	e.label("counted")
}

// emitArgSearch starts recording the captured argument tuples of the call,
// if it has any: a binary search over the captured slots (constants in the
// program: no map read for the other calls) jumps to the slot's stage code
// (emitArgStages) or falls through.
func emitArgSearch(e *emitter, slots []uint32) {
	if len(slots) > 0 {
		emitSlotSearch(e, slots, 0, len(slots)-1)
	}
}

// emitArgStages emits, for each captured slot, code that reads its
// arguments from pt_regs onto the stack, and then the insertion of each
// staged tuple.
func emitArgStages(e *emitter, cfg progConfig, m progMaps, specs map[uint32][capturesPerSlot]specEntry, slots []uint32) {
	for _, slot := range slots {
		e.label(fmt.Sprintf("stage_%d", slot))
		for k, spec := range specs[slot] {
			emitStage(e, k, spec)
		}
		e.emit(asm.Ja.Label("insert"))
	}
	e.label("insert")
	for k := range capturesPerSlot {
		emitInsert(e, cfg, m, k)
	}
	e.emit(asm.Ja.Label("exit"))
}

// emitSlotSearch emits a binary search of rSlot among slots[lo..hi],
// jumping to the slot's stage code, or to "exit" when it is not there (by
// falling through from the last leaf, which is emitted last).
func emitSlotSearch(e *emitter, slots []uint32, lo, hi int) {
	if lo == hi {
		e.emit(asm.JEq.Imm(rSlot, int32(slots[lo]), fmt.Sprintf("stage_%d", slots[lo])))
		if hi < len(slots)-1 {
			e.emit(asm.Ja.Label("exit"))
		}
		return
	}
	mid := (lo + hi + 1) / 2
	right := fmt.Sprintf("search_%d_%d", mid, hi)
	e.emit(asm.JGE.Imm(rSlot, int32(slots[mid]), right))
	emitSlotSearch(e, slots, lo, mid-1)
	e.label(right)
	emitSlotSearch(e, slots, mid, hi)
}

// stage returns the stack offset of field f (0 id, 1 a, 2 b) of staged
// tuple k.
func stage(k, f int) int16 { return int16(stStage + 24*k + 8*f) }

// emitStage stages capture k of a slot: its id and argument values, read
// straight from pt_regs and cut to the ABI's width.
func emitStage(e *emitter, k int, spec specEntry) {
	if spec.ID == 0 {
		e.emit(storeImm64(stage(k, 0), 0))
		return
	}
	e.emit(storeImm64(stage(k, 0), int32(spec.ID)))
	read := func(off uint16, mask uint64, f int) {
		e.emit(asm.LoadMem(asm.R1, rRegs, int16(off), asm.DWord))
		if mask != ^uint64(0) {
			e.emit(asm.Mov.Reg32(asm.R1, asm.R1)) // 32-bit ABI: the low word
		}
		e.emit(asm.StoreMem(asm.R10, stage(k, f), asm.R1, asm.DWord))
	}
	read(spec.OffA, spec.MaskA, 1)
	if spec.OffB != 0 {
		read(spec.OffB, spec.MaskB, 2)
	} else {
		e.emit(storeImm64(stage(k, 2), 0))
	}
}

// emitInsert inserts staged tuple k into the value set of (cgroup, slot,
// capture), within the (slot, capture) budget of MaxValues distinct tuples.
func emitInsert(e *emitter, cfg progConfig, m progMaps, k int) {
	next := fmt.Sprintf("insert_done_%d", k)
	e.emit(asm.LoadMem(asm.R1, asm.R10, stage(k, 0), asm.DWord), asm.JEq.Imm(asm.R1, 0, "exit"))
	e.emit(asm.StoreMem(asm.R10, stValueKey+12, asm.R1, asm.Word))
	if cfg.Cgroup != 0 {
		e.emit(asm.LoadImm(asm.R1, int64(cfg.Cgroup), asm.DWord), asm.StoreMem(asm.R10, stValueKey, asm.R1, asm.DWord))
	} else {
		e.emit(asm.StoreMem(asm.R10, stValueKey, rCg, asm.DWord))
	}
	e.emit(
		asm.StoreMem(asm.R10, stValueKey+8, rSlot, asm.Word),
		asm.LoadMem(asm.R1, asm.R10, stage(k, 1), asm.DWord),
		asm.StoreMem(asm.R10, stValueKey+16, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R10, stage(k, 2), asm.DWord),
		asm.StoreMem(asm.R10, stValueKey+24, asm.R1, asm.DWord),
		asm.LoadMapPtr(asm.R1, m.Values),
	)
	e.stackPtr(asm.R2, stValueKey)
	e.call(asm.FnMapLookupElem)
	e.emit(asm.JNE.Imm(asm.R0, 0, next)) // known value: the common case

	// A new value: take a place in the (slot, capture) budget first.
	distinct := func() {
		e.emit(
			asm.Mov.Reg(asm.R1, rSlot),
			asm.LSh.Imm(asm.R1, 1),
			asm.Add.Imm(asm.R1, int32(k)),
			asm.StoreMem(asm.R10, stTmp, asm.R1, asm.Word),
			asm.LoadMapPtr(asm.R1, m.Distinct),
		)
		e.stackPtr(asm.R2, stTmp)
		e.call(asm.FnMapLookupElem)
		e.emit(asm.JEq.Imm(asm.R0, 0, next))
	}
	distinct()
	e.emit(
		asm.Mov.Imm(asm.R1, 1),
		asm.FetchAdd.Mem(asm.R0, asm.R1, asm.DWord, 0),
		asm.JGE.Imm(asm.R1, MaxValues, next), // over budget: the count above MaxValues is the overflow flag
		storeImm64(stTmp, 1),
		asm.LoadMapPtr(asm.R1, m.Values),
	)
	e.stackPtr(asm.R2, stValueKey)
	e.stackPtr(asm.R3, stTmp)
	e.emit(asm.Mov.Imm(asm.R4, bpfNoExist))
	e.call(asm.FnMapUpdateElem)
	e.emit(asm.JEq.Imm(asm.R0, 0, next), asm.JEq.Imm(asm.R0, -eexist, next+"_raced"))
	e.bumpLost(m, lostValuesFull, next)
	e.label(next + "_raced") // another CPU inserted the same value: give the place back
	distinct()
	e.emit(asm.Mov.Imm(asm.R1, -1), asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 0), asm.Ja.Label(next))
	e.label(next)
}

// emitArm arms the current cgroup when runc's init process installs its
// seccomp filter (seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) or
// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)) or calls execve. The filter
// installation itself is not counted (it runs before the filter exists);
// execve is.
func emitArm(e *emitter, m progMaps) {
	const (
		nrExecve      = 59
		nrSeccomp     = 317
		nrPrctl       = 157
		prSetSeccomp  = 22
		modeFilter    = 2
		setModeFilter = 1
	)
	e.label("maybe_arm")
	e.emit(
		asm.JEq.Imm(rSlot, nrExecve, "arm_check_comm"),
		asm.JEq.Imm(rSlot, nrSeccomp, "arm_seccomp"),
		asm.JEq.Imm(rSlot, nrPrctl, "arm_prctl"),
		asm.Ja.Label("exit"),
	)
	arg := func(i int) asm.Instruction { return asm.LoadMem(asm.R1, rRegs, int16(ptRegsArg[0][i]), asm.DWord) }
	// libseccomp probes filter flags with seccomp(SET_MODE_FILTER, flag,
	// NULL) long before runc installs the filter: only a call with a
	// program pointer arms.
	e.label("arm_seccomp")
	e.emit(
		arg(0), asm.JNE.Imm(asm.R1, setModeFilter, "exit"),
		arg(2), asm.JEq.Imm(asm.R1, 0, "exit"),
		asm.Ja.Label("arm_check_comm"),
	)
	e.label("arm_prctl")
	e.emit(
		arg(0), asm.JNE.Imm(asm.R1, prSetSeccomp, "exit"),
		arg(1), asm.JNE.Imm(asm.R1, modeFilter, "exit"),
		arg(2), asm.JEq.Imm(asm.R1, 0, "exit"),
	)
	e.label("arm_check_comm")
	e.stackPtr(asm.R1, stComm)
	e.emit(asm.Mov.Imm(asm.R2, 16))
	e.call(asm.FnGetCurrentComm)
	e.emit(
		asm.JNE.Imm(asm.R0, 0, "exit"),
		asm.LoadMem(asm.R1, asm.R10, stComm, asm.DWord),
		asm.LoadImm(asm.R2, runcInitComm[0], asm.DWord),
		asm.JNE.Reg(asm.R1, asm.R2, "exit"),
		asm.LoadMem(asm.R1, asm.R10, stComm+8, asm.DWord),
		asm.LoadImm(asm.R2, runcInitComm[1], asm.DWord),
		asm.JNE.Reg(asm.R1, asm.R2, "exit"),
		asm.StoreMem(asm.R10, stTmp, rCg, asm.DWord),
		storeImm64(stCountKey, 0), // the armed value: no pointer learned yet
		asm.LoadMapPtr(asm.R1, m.Armed),
	)
	e.stackPtr(asm.R2, stTmp)
	e.stackPtr(asm.R3, stCountKey)
	e.emit(asm.Mov.Imm(asm.R4, bpfNoExist)) // armed already: keep what was learned
	e.call(asm.FnMapUpdateElem)
	e.emit(asm.JEq.Imm(rSlot, nrExecve, "count"), asm.Ja.Label("exit"))
}

// storeImm64 stores a sign-extended 32-bit immediate as a 64-bit word on the
// stack (BPF_ST|BPF_MEM|BPF_DW, which asm.StoreImm does not build).
func storeImm64(off int16, value int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.R10, Offset: off, Constant: int64(value)}
}
