package analysis

import (
	"fmt"
	"slices"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/syscalls"
)

// AuditBPF audits raw filters as a process runs them (a dumped filter, or
// the stack of filters of a running process, oldest first: every filter
// runs and the most severe verdict wins). native is the ABI of the process;
// the ABIs that share its audit tokens family (x86_64, x86, x32) are
// classified. The checks of a profile's entries (names, shadowing, default
// errno) do not apply; SF304 reports a filter that never looks at the
// architecture.
func AuditBPF(filters [][]bpf.Instruction, native *syscalls.Arch) (*AuditReport, error) {
	if len(filters) == 0 {
		return nil, fmt.Errorf("no filter to audit: the process runs without seccomp")
	}
	progs := make([]*bpf.Program, len(filters))
	var consts []argConst
	var extra []Finding
	for i, f := range filters {
		p, err := bpf.NewProgram(f)
		if err != nil {
			return nil, fmt.Errorf("filter %d: %w", i, err)
		}
		progs[i] = p
		consts = append(consts, argConstants(f)...)
		if !loadsArch(f) {
			extra = append(extra, Finding{ID: "SF304", Severity: High, Title: "a filter never checks the architecture",
				Reason: fmt.Sprintf("filter %d decides on the system call number alone: a process can make the same number on another ABI (int 0x80, x32) and reach a different call than the author meant", i),
				Fix:    "test seccomp_data.arch first and kill calls of unexpected ABIs, as libseccomp-built filters do"})
		}
	}
	slices.SortFunc(consts, func(x, y argConst) int {
		if x.arg != y.arg {
			return x.arg - y.arg
		}
		return int(int64(x.value) - int64(y.value))
	})
	consts = slices.Compact(consts)
	samples := rawSamples(consts, native.BigEndian)
	run := func(arch *syscalls.Arch, nr uint32, args [6]uint64) uint32 {
		d := bpf.Data{Nr: int32(nr), Arch: arch.Audit, Args: args}
		worst := uint32(0xffffffff)
		for _, p := range progs {
			worst = moreSevere(worst, p.Run(d, arch.BigEndian))
		}
		return worst
	}
	allowsRet := func(r uint32) bool {
		a := r & 0xffff0000
		return a == bpf.RetAllow || a == bpf.RetLog
	}
	a := &auditor{arches: family(native), class: map[*syscalls.Arch]map[string]Class{}, extra: extra,
		allowsCall: func(arch *syscalls.Arch, nr uint32, args [6]uint64) bool { return allowsRet(run(arch, nr, args)) },
		classify: func(arch *syscalls.Arch, nr uint32) Class {
			return classOf(samples, func(args [6]uint64) bool { return allowsRet(run(arch, nr, args)) })
		}}
	return a.run(), nil
}

// moreSevere returns the verdict the kernel keeps of two filters' returns:
// the one whose action comes first (lowest action value, KILL_PROCESS
// highest of all).
func moreSevere(a, b uint32) uint32 {
	rank := func(r uint32) int64 {
		if r&0xffff0000 == bpf.RetKillProcess {
			return -1
		}
		return int64(r & 0xffff0000)
	}
	if rank(b) < rank(a) {
		return b
	}
	return a
}

// family lists native and the ABIs that run on the same machine.
func family(native *syscalls.Arch) []*syscalls.Arch {
	if native == syscalls.X86_64 {
		return []*syscalls.Arch{syscalls.X86_64, syscalls.X86, syscalls.X32}
	}
	return []*syscalls.Arch{native}
}

// argConst is a constant a filter compares one argument word with.
type argConst struct {
	arg   int    // argument index
	high  bool   // the upper 32 bits of the argument
	value uint32 // the constant
}

// argConstants finds the constants a filter compares argument words with:
// for each conditional jump, the word the accumulator was last loaded from
// in program order (compilers load right before they compare). These are
// the values around which the filter's verdict can change.
func argConstants(prog []bpf.Instruction) []argConst {
	var out []argConst
	loaded := -1 // offset in seccomp_data of the last absolute load
	for _, ins := range prog {
		switch {
		case ins.Class() == bpf.ClassLD && ins.Op&0xe0 == bpf.ModeABS:
			loaded = int(ins.K)
		case ins.IsConditionalJump() && ins.Op&0x08 == bpf.SrcK && loaded >= 16 && loaded < 64:
			arg, word := (loaded-16)/8, (loaded-16)%8
			for _, v := range []uint32{ins.K - 1, ins.K, ins.K + 1} {
				out = append(out, argConst{arg: arg, high: word == 4, value: v})
			}
		}
	}
	return out
}

// loadsArch reports whether the program ever reads seccomp_data.arch.
func loadsArch(prog []bpf.Instruction) bool {
	return slices.ContainsFunc(prog, func(i bpf.Instruction) bool {
		return i.Class() == bpf.ClassLD && i.Op&0xe0 == bpf.ModeABS && i.K == bpf.OffsetArch
	})
}

// rawSamples builds argument vectors for a filter whose rules are unknown:
// all zero, all ones, an unrelated value, and each constant the filter
// compares an argument word with, in that word. On big-endian ABIs the
// high word comes first in seccomp_data.
func rawSamples(consts []argConst, bigEndian bool) [][6]uint64 {
	const ones, odd = ^uint64(0), 0x5a5a5a5a5a5a5a5a
	out := [][6]uint64{{}, {ones, ones, ones, ones, ones, ones}, {odd, odd, odd, odd, odd, odd}}
	for _, c := range consts {
		var s [6]uint64
		if c.high != bigEndian {
			s[c.arg] = uint64(c.value) << 32
		} else {
			s[c.arg] = uint64(c.value)
		}
		out = append(out, s)
	}
	return out
}
