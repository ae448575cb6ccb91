package recorder

import (
	"encoding/binary"

	"github.com/cilium/ebpf/asm"
)

// The eBPF recording program runs on every system call entry of the machine
// (raw tracepoint sys_enter). For a task of the recorded cgroup it adds one to
// a per-CPU counter keyed by (cgroup, slot), where slot is abi*slotsPerABI+nr,
// and, for the calls of Captures, inserts the argument tuple into a hash of
// distinct values, bounded per (slot, capture). Nothing is sent to user space
// per call; user space reads the maps.

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
	lostUnreadable = 2
	numLost        = 3

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

// specEntry is one capture for one slot, as the program reads it from the
// "specs" array: captures are numbered from 1 so that 0 means none.
type specEntry struct {
	ID    uint32 // capture index + 1
	OffA  uint16 // pt_regs offset of the first argument
	OffB  uint16 // of the second, or 0 for none
	MaskA uint64
	MaskB uint64
}

const specEntrySize = 24

func marshalSpecs(entries [capturesPerSlot]specEntry) []byte {
	buf := make([]byte, capturesPerSlot*specEntrySize)
	for i, e := range entries {
		b := buf[i*specEntrySize:]
		binary.NativeEndian.PutUint32(b[0:], e.ID)
		binary.NativeEndian.PutUint16(b[4:], e.OffA)
		binary.NativeEndian.PutUint16(b[6:], e.OffB)
		binary.NativeEndian.PutUint64(b[8:], e.MaskA)
		binary.NativeEndian.PutUint64(b[16:], e.MaskB)
	}
	return buf
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
	// ArmOnRunc arms a cgroup from inside the program when runc's init
	// process (comm "runc:[2:INIT]") installs its seccomp filter or calls
	// execve: what the container runs after that point is recorded.
	ArmOnRunc bool
	// Args enables the argument captures.
	Args bool
	// StatusOffset is the offset of thread_info.status in task_struct.
	StatusOffset int32
}

// progMaps are the file descriptors of the maps the program uses.
type progMaps struct {
	Armed, Counts, Specs, Values, Distinct, Lost int
}

// Stack layout, as offsets from the frame pointer R10.
const (
	stCountKey = -16 // {cgroup u64, slot u32, pad u32}
	stValueKey = -48 // {cgroup u64, slot u32, capture u32, a u64, b u64}
	stTmp      = -56 // scratch u64
	stComm     = -72 // 16 bytes
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
	rCtx  = asm.R6 // context, later the specs entry pointer
	rCg   = asm.R7 // current cgroup id
	rSlot = asm.R8 // system call id, then the slot
	rRegs = asm.R9 // struct pt_regs *
)

// program generates the recording program.
func program(cfg progConfig, m progMaps) asm.Instructions {
	e := &emitter{}
	e.emit(
		asm.Mov.Reg(rCtx, asm.R1),
		asm.LoadMem(rRegs, rCtx, 0, asm.DWord), // args[0]: struct pt_regs *
		asm.LoadMem(rSlot, rCtx, 8, asm.DWord), // args[1]: the number, x32 bit included
	)
	e.call(asm.FnGetCurrentCgroupId)
	e.emit(asm.Mov.Reg(rCg, asm.R0))
	if cfg.Cgroup != 0 {
		e.emit(asm.LoadImm(asm.R1, int64(cfg.Cgroup), asm.DWord), asm.JNE.Reg(rCg, asm.R1, "exit"))
	} else {
		e.emit(asm.StoreMem(asm.R10, stCountKey, rCg, asm.DWord), asm.LoadMapPtr(asm.R1, m.Armed))
		e.stackPtr(asm.R2, stCountKey)
		e.call(asm.FnMapLookupElem)
		if cfg.ArmOnRunc {
			e.emit(asm.JEq.Imm(asm.R0, 0, "maybe_arm"))
		} else {
			e.emit(asm.JEq.Imm(asm.R0, 0, "exit"))
		}
	}
	e.label("count")
	emitSlot(e, cfg, m)
	if cfg.Cgroup != 0 {
		emitCountSlot(e, m)
	} else {
		emitCount(e, m)
	}
	if cfg.Args {
		emitArgs(e, m)
	}
	e.label("exit")
	e.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	if cfg.ArmOnRunc {
		emitArm(e, m)
	}
	return e.insns
}

// emitSlot turns the number in rSlot into the slot: the ABI from the x32
// bit and the task's TS_COMPAT flag, exactly as seccomp's syscall_get_arch
// decides it.
func emitSlot(e *emitter, cfg progConfig, m progMaps) {
	e.emit(
		asm.JSLT.Imm(rSlot, 0, "other"),
		asm.JSet.Imm(rSlot, x32Bit, "x32"),
	)
	e.call(asm.FnGetCurrentTask)
	e.emit(asm.Mov.Reg(asm.R3, asm.R0), asm.Add.Imm(asm.R3, cfg.StatusOffset), asm.Mov.Imm(asm.R2, 4))
	e.stackPtr(asm.R1, stTmp)
	e.emit(storeImm64(stTmp, 0))
	e.call(asm.FnProbeReadKernel)
	e.emit(
		asm.JNE.Imm(asm.R0, 0, "unreadable_status"),
		asm.LoadMem(asm.R1, asm.R10, stTmp, asm.Word),
		asm.JGE.Imm(rSlot, slotsPerABI, "other"),
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
	e.label("unreadable_status")
	e.bumpLost(m, lostUnreadable, "exit")
	e.label("other")
	e.emit(asm.Mov.Imm(rSlot, slotOther))
	e.label("slot_done")
}

// emitCountSlot adds one to counts[slot] on this CPU: with one constant
// cgroup the counts are a per-CPU array indexed by slot, whose lookup the
// verifier inlines and which never fills up.
func emitCountSlot(e *emitter, m progMaps) {
	e.emit(asm.StoreMem(asm.R10, stTmp, rSlot, asm.Word), asm.LoadMapPtr(asm.R1, m.Counts))
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

// emitArgs records the captured argument tuples of the call, if any.
func emitArgs(e *emitter, m progMaps) {
	e.emit(asm.JEq.Imm(rSlot, slotOther, "exit"), asm.StoreMem(asm.R10, stTmp, rSlot, asm.Word), asm.LoadMapPtr(asm.R1, m.Specs))
	e.stackPtr(asm.R2, stTmp)
	e.call(asm.FnMapLookupElem)
	e.emit(asm.JEq.Imm(asm.R0, 0, "exit"), asm.Mov.Reg(rCtx, asm.R0))
	for k := range capturesPerSlot {
		emitCapture(e, m, k)
	}
}

// emitCapture handles capture entry k of the slot's specs (pointer in rCtx).
func emitCapture(e *emitter, m progMaps, k int) {
	base := int16(k * specEntrySize)
	next := "capture_done_" + string(rune('0'+k))
	readArg := func(offField, maskField, dst int16, optional bool) {
		e.emit(asm.LoadMem(asm.R3, rCtx, base+offField, asm.Half))
		if optional {
			e.emit(asm.JEq.Imm(asm.R3, 0, next+"_b"))
		}
		e.emit(asm.Add.Reg(asm.R3, rRegs), asm.Mov.Imm(asm.R2, 8))
		e.stackPtr(asm.R1, dst)
		e.call(asm.FnProbeReadKernel)
		e.emit(
			asm.JNE.Imm(asm.R0, 0, next+"_unreadable"),
			asm.LoadMem(asm.R1, asm.R10, dst, asm.DWord),
			asm.LoadMem(asm.R2, rCtx, base+maskField, asm.DWord),
			asm.And.Reg(asm.R1, asm.R2),
			asm.StoreMem(asm.R10, dst, asm.R1, asm.DWord),
		)
	}
	e.emit(asm.LoadMem(asm.R1, rCtx, base, asm.Word), asm.JEq.Imm(asm.R1, 0, "exit"))
	e.emit(storeImm64(stValueKey+24, 0))
	readArg(4, 8, stValueKey+16, false)
	readArg(6, 16, stValueKey+24, true)
	e.label(next + "_b")
	e.emit(
		asm.StoreMem(asm.R10, stValueKey, rCg, asm.DWord),
		asm.StoreMem(asm.R10, stValueKey+8, rSlot, asm.Word),
		asm.LoadMem(asm.R1, rCtx, base, asm.Word),
		asm.StoreMem(asm.R10, stValueKey+12, asm.R1, asm.Word),
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
	e.label(next + "_unreadable")
	e.bumpLost(m, lostUnreadable, next)
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
	readArg := func(i int) {
		e.emit(asm.Mov.Reg(asm.R3, rRegs), asm.Add.Imm(asm.R3, int32(ptRegsArg[0][i])), asm.Mov.Imm(asm.R2, 8))
		e.stackPtr(asm.R1, stTmp)
		e.call(asm.FnProbeReadKernel)
		e.emit(asm.JNE.Imm(asm.R0, 0, "exit"), asm.LoadMem(asm.R1, asm.R10, stTmp, asm.DWord))
	}
	// libseccomp probes filter flags with seccomp(SET_MODE_FILTER, flag,
	// NULL) long before runc installs the filter: only a call with a
	// program pointer arms.
	e.label("arm_seccomp")
	readArg(0)
	e.emit(asm.JNE.Imm(asm.R1, setModeFilter, "exit"))
	readArg(2)
	e.emit(asm.JEq.Imm(asm.R1, 0, "exit"), asm.Ja.Label("arm_check_comm"))
	e.label("arm_prctl")
	readArg(0)
	e.emit(asm.JNE.Imm(asm.R1, prSetSeccomp, "exit"))
	readArg(1)
	e.emit(asm.JNE.Imm(asm.R1, modeFilter, "exit"))
	readArg(2)
	e.emit(asm.JEq.Imm(asm.R1, 0, "exit"))
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
		asm.StoreMem(asm.R10, stCountKey, rCg, asm.DWord),
		storeImm64(stTmp, 1),
		asm.LoadMapPtr(asm.R1, m.Armed),
	)
	e.stackPtr(asm.R2, stCountKey)
	e.stackPtr(asm.R3, stTmp)
	e.emit(asm.Mov.Imm(asm.R4, bpfAny))
	e.call(asm.FnMapUpdateElem)
	e.emit(asm.JEq.Imm(rSlot, nrExecve, "count"), asm.Ja.Label("exit"))
}

// storeImm64 stores a sign-extended 32-bit immediate as a 64-bit word on the
// stack (BPF_ST|BPF_MEM|BPF_DW, which asm.StoreImm does not build).
func storeImm64(off int16, value int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.R10, Offset: off, Constant: int64(value)}
}
