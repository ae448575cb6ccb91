package bpf

import "fmt"

// Label names a position in a program under construction.
type Label int

// Builder assembles a program with symbolic jump targets. Conditional jumps
// are emitted naively, as `jcond #k, 0, 1` followed by `ja target`, so any
// distance is reachable; Optimize then threads them into direct offsets.
type Builder struct {
	insns  []Instruction
	fixups []fixup
	labels []int // instruction index per label, -1 until placed
}

type fixup struct {
	at    int
	label Label
}

// NewLabel returns a fresh label that is not yet placed.
func (b *Builder) NewLabel() Label {
	b.labels = append(b.labels, -1)
	return Label(len(b.labels) - 1)
}

// Place binds l to the next instruction emitted.
func (b *Builder) Place(l Label) {
	if b.labels[l] != -1 {
		panic(fmt.Sprintf("bpf: label %d placed twice", l))
	}
	b.labels[l] = len(b.insns)
}

// Emit appends an instruction whose jumps, if any, are already resolved.
func (b *Builder) Emit(i Instruction) { b.insns = append(b.insns, i) }

// Goto emits `ja l`.
func (b *Builder) Goto(l Label) {
	b.fixups = append(b.fixups, fixup{at: len(b.insns), label: l})
	b.insns = append(b.insns, Ja(0))
}

// If emits: when `A op k` holds, go to then; otherwise go to otherwise.
func (b *Builder) If(op uint16, k uint32, then, otherwise Label) {
	b.Emit(Jump(op, k, 0, 1))
	b.Goto(then)
	b.Goto(otherwise)
}

// IfTrue emits: when `A op k` holds, go to then; otherwise fall through.
func (b *Builder) IfTrue(op uint16, k uint32, then Label) {
	b.Emit(Jump(op, k, 0, 1))
	b.Goto(then)
}

// IfFalse emits: unless `A op k` holds, go to otherwise; else fall through.
func (b *Builder) IfFalse(op uint16, k uint32, otherwise Label) {
	b.Emit(Jump(op, k, 1, 0))
	b.Goto(otherwise)
}

// Len is the number of instructions emitted so far.
func (b *Builder) Len() int { return len(b.insns) }

// Program resolves every label and returns the instructions.
func (b *Builder) Program() ([]Instruction, error) {
	out := append([]Instruction(nil), b.insns...)
	for _, f := range b.fixups {
		target := b.labels[f.label]
		if target < 0 {
			return nil, fmt.Errorf("bpf: label %d used but never placed", f.label)
		}
		if target <= f.at {
			return nil, fmt.Errorf("bpf: backward jump from %d to label %d at %d", f.at, f.label, target)
		}
		out[f.at].K = uint32(target - f.at - 1)
	}
	return out, nil
}
