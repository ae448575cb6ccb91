package compiler_test

import (
	"fmt"
	"sort"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// input is one call to run through two programs.
type input struct {
	arch *syscalls.Arch // the ABI whose byte order seccomp_data uses
	data bpf.Data
}

func (in input) String() string {
	name, _ := in.arch.SyscallName(uint32(in.data.Nr))
	return fmt.Sprintf("%s nr=%#x(%s) args=%#x", in.arch.Name, uint32(in.data.Nr), name, in.data.Args)
}

// candidates are the values at and around v that a comparison against v
// must tell apart: v±1, high-word variants, and the extremes.
func candidates(v uint64) []uint64 {
	return []uint64{v, v - 1, v + 1, v ^ (1 << 32), v & 0xffffffff, v | 0xffffffff00000000,
		v ^ (1 << 63), 0, ^uint64(0), 0xffffffff, 1 << 32}
}

// maskCandidates are the values that probe a MASKED_EQ(mask, datum).
func maskCandidates(mask, datum uint64) []uint64 {
	out := []uint64{datum, datum | ^mask, mask, ^mask, datum ^ (mask & -mask)}
	if mask != 0 {
		top := uint64(1) << (63 - leadingZeros(mask))
		out = append(out, datum^top, datum|top)
	}
	return append(out, candidates(datum)...)
}

func leadingZeros(x uint64) int {
	n := 0
	for i := 63; i >= 0 && x&(1<<i) == 0; i-- {
		n++
	}
	return n
}

// satisfying returns a value that meets c, to build vectors where the other
// conditions of a rule hold.
func satisfying(c profile.Arg) uint64 {
	switch c.Op {
	case profile.OpNotEqual, profile.OpGreaterThan:
		return c.Value + 1
	case profile.OpLessThan:
		return c.Value - 1
	case profile.OpMaskedEqual:
		return c.ValueTwo
	}
	return c.Value
}

// argVectors lists argument vectors for calls of name: all zero, then for
// each rule on name a vector meeting all of its conditions with one
// argument at a time swept through the candidates of its value.
func argVectors(res *profile.Resolved, name string) [][6]uint64 {
	vecs := [][6]uint64{{}}
	if name == "socketcall" || name == "ipc" { // multiplexers: every call number
		for call := uint64(0); call <= 25; call++ {
			vecs = append(vecs, [6]uint64{call}, [6]uint64{call | 1<<32})
		}
	}
	for _, r := range res.Rules {
		if r.Name != name || len(r.Args) == 0 {
			continue
		}
		var base [6]uint64
		for _, c := range r.Args {
			base[c.Index] = satisfying(c)
		}
		vecs = append(vecs, base)
		for _, c := range r.Args {
			vals := candidates(c.Value)
			if c.Op == profile.OpMaskedEqual {
				vals = maskCandidates(c.Value, c.ValueTwo)
			}
			for _, v := range vals {
				v1 := base
				v1[c.Index] = v
				vecs = append(vecs, v1)
				var v2 [6]uint64
				v2[c.Index] = v
				vecs = append(vecs, v2)
			}
		}
	}
	return vecs
}

// numbersFor lists the syscall numbers to test on arch: every number from
// its first to its last syscall plus 16, and the edges of the 32-bit space.
func numbersFor(a *syscalls.Arch) []uint32 {
	var out []uint32
	for nr := a.Min(); nr <= a.Max()+16; nr++ {
		out = append(out, nr)
	}
	out = append(out, 0xffffffff, 0xfffffffe, 0x7fffffff, 0x80000000, a.Min()+0x1000)
	if a.Min() > 0 {
		out = append(out, a.Min()-1, 0)
	}
	if a == syscalls.X86_64 {
		out = append(out, syscalls.X32Bit-1, syscalls.X32Bit, syscalls.X32Bit|0x200)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// inputsFor lists every input to compare on the given ABIs.
func inputsFor(res *profile.Resolved, arches ...*syscalls.Arch) []input {
	var out []input
	for _, a := range arches {
		for _, nr := range numbersFor(a) {
			name, _ := a.SyscallName(nr)
			for _, args := range argVectors(res, name) {
				out = append(out, input{arch: a, data: bpf.Data{Nr: int32(nr), Arch: a.Audit, Args: args}})
			}
		}
	}
	return out
}

// difference is an input where two programs disagree.
type difference struct {
	in        input
	want, got uint32
}

// compare runs both programs on every input and returns the disagreements.
func compare(want, got []bpf.Instruction, inputs []input) ([]difference, error) {
	pw, err := bpf.NewProgram(want)
	if err != nil {
		return nil, fmt.Errorf("reference program: %w", err)
	}
	pg, err := bpf.NewProgram(got)
	if err != nil {
		return nil, fmt.Errorf("our program: %w", err)
	}
	var diffs []difference
	for _, in := range inputs {
		w, g := pw.Run(in.data, in.arch.BigEndian), pg.Run(in.data, in.arch.BigEndian)
		if w != g {
			diffs = append(diffs, difference{in, w, g})
		}
	}
	return diffs, nil
}

// olderTableExplains reports whether a difference between a reference
// filter built with an older syscall table (names known reports what it
// knows) and ours comes from that table: the number belongs to a syscall
// it does not know, or lies between its ENOSYS-stub bound (computed from
// the names it knows) and ours.
func olderTableExplains(res *profile.Resolved, in input, known func(*syscalls.Arch, string) bool) bool {
	nr := uint32(in.data.Nr)
	a := syscalls.ForNumber(in.data.Arch, nr)
	if a == nil {
		return false
	}
	if name, ok := a.SyscallName(nr); ok && !known(a, name) {
		return true
	}
	var oursMax, theirsMax uint32
	for _, name := range res.Named {
		if n, ok := a.Number(name); ok {
			oursMax = max(oursMax, n)
			if known(a, name) {
				theirsMax = max(theirsMax, n)
			}
		}
	}
	return nr > theirsMax && nr <= oursMax
}
