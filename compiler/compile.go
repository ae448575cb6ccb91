package compiler

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// ErrTooLarge is returned when a program exceeds the kernel's limit of
// bpf.MaxInstructions instructions.
var ErrTooLarge = bpf.ErrTooLarge

// Options tune compilation. The zero value is what `sysfence compile` uses.
type Options struct {
	// NoOptimize skips the bytecode optimizer (for differential tests).
	NoOptimize bool
	// KnownName, when set, hides the syscalls it rejects from the table, to
	// reproduce a libseccomp release that predates them: runc then ignores
	// rules on them, and they do not count for the ENOSYS stub.
	KnownName func(a *syscalls.Arch, name string) bool
}

// Program is a compiled filter and how it was laid out.
type Program struct {
	Instructions []bpf.Instruction
	// BuildTime is how long Compile took.
	BuildTime time.Duration
	// NaiveLen is the program's length before optimization.
	NaiveLen int
	tables   []*archTable
	res      *profile.Resolved
}

// Compile turns a resolved profile into a seccomp BPF program whose verdict,
// for every architecture, number and argument values, is the one Docker's
// runc + libseccomp pipeline enforces for the same profile.
func Compile(res *profile.Resolved, opts Options) (*Program, error) {
	start := time.Now()
	if len(res.Arches) == 0 {
		return nil, errors.New("compile: no architecture in the resolved profile")
	}
	if slices.Contains(res.Arches, syscalls.X32) && !slices.Contains(res.Arches, syscalls.X86_64) {
		return nil, errors.New("compile: x32 without x86_64 is not supported (they share one audit arch; add SCMP_ARCH_X86_64)")
	}
	tables, err := buildTables(res, opts.KnownName)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	e := &emitter{rets: map[uint32]bpf.Label{}}
	e.emitProgram(res, tables)
	insns, err := e.b.Program()
	if err != nil {
		panic(fmt.Sprintf("compiler: %v", err)) // labels are ours: a bug, not input
	}
	naive := len(insns)
	if !opts.NoOptimize {
		insns = bpf.Optimize(insns)
	}
	if len(insns) > bpf.MaxInstructions {
		return nil, fmt.Errorf("compile: %d instructions, the kernel accepts at most %d: %w", len(insns), bpf.MaxInstructions, ErrTooLarge)
	}
	if err := bpf.Validate(insns); err != nil {
		panic(fmt.Sprintf("compiler: emitted an invalid program: %v", err))
	}
	return &Program{Instructions: insns, BuildTime: time.Since(start), NaiveLen: naive, tables: tables, res: res}, nil
}

// enosys is runc's ENOSYS stub verdict.
var enosys = &decision{fallback: profile.Action{Kind: profile.Errno, Data: profile.ENOSYS}}

var killThread = profile.Action{Kind: profile.KillThread}

// emitProgram lays out the whole filter: arch dispatch, then per audit-arch
// token a search tree over number ranges, then one `ret` per action.
func (e *emitter) emitProgram(res *profile.Resolved, tables []*archTable) {
	rest := &decision{fallback: res.DefaultAction}
	tokens, byToken := groupByToken(tables)

	e.b.Emit(bpf.LoadAbs(bpf.OffsetArch))
	blocks := make([]bpf.Label, len(tokens))
	for i, tok := range tokens {
		blocks[i] = e.b.NewLabel()
		e.b.IfTrue(bpf.JmpJEQ, tok, blocks[i])
	}
	e.b.Goto(e.ret(killThread))
	for i, tok := range tokens {
		e.b.Place(blocks[i])
		e.b.Emit(bpf.LoadAbs(bpf.OffsetNr))
		segs, ranges := tokenSegments(byToken[tok], rest)
		segs = coalesce(segs)
		bonus := uint64(compatArgBonus)
		if byToken[tok][0].arch == res.Arches[0] {
			bonus = argCheckedBonus
		}
		weigh(segs, ranges, bonus)
		e.arch = byToken[tok][0].arch
		e.emitTokenTree(segs, byToken[tok])
	}
	for _, v := range e.retOrder {
		e.b.Place(e.rets[v])
		e.b.Emit(bpf.Ret(v))
	}
}

// emitTokenTree emits the search tree; argument checks use the ABI that
// owns each leaf's number (x32 leaves under the x86_64 token).
func (e *emitter) emitTokenTree(segs []segment, tables []*archTable) {
	e.owner = func(nr uint32) *syscalls.Arch {
		for _, t := range tables {
			if _, ok := t.named[nr]; ok {
				return t.arch
			}
		}
		return tables[0].arch
	}
	tree := buildTree(segs)
	e.emitTree(segs, tree, 0, len(segs)-1)
	tree.release()
}

// groupByToken orders the audit-arch tokens as the arches are listed and
// groups the tables that share one (x86_64 and x32).
func groupByToken(tables []*archTable) ([]uint32, map[uint32][]*archTable) {
	var tokens []uint32
	by := map[uint32][]*archTable{}
	for _, t := range tables {
		if _, ok := by[t.arch.Audit]; !ok {
			tokens = append(tokens, t.arch.Audit)
		}
		by[t.arch.Audit] = append(by[t.arch.Audit], t)
	}
	return tokens, by
}

// tokenSegments lists the decisions for every number 0..2³²-1 under one
// token, and the number ranges real syscalls occupy (for weighting). The
// decision function is piecewise constant between breakpoints: named
// numbers, ENOSYS-stub bounds and, for x86_64, the x32 boundaries.
func tokenSegments(tables []*archTable, rest *decision) ([]segment, []numberRange) {
	sp := newTokenSpace(tables, rest)
	var ranges []numberRange
	for _, t := range tables {
		w := uint64(nativeWeight)
		if t.arch == syscalls.X32 {
			w = x32Weight
		}
		ranges = append(ranges, numberRange{t.arch.Min(), t.arch.Max(), w})
	}
	points := sp.breakpoints()
	segs := make([]segment, 0, len(points))
	for i, lo := range points {
		hi := uint32(0xffffffff)
		if i+1 < len(points) {
			hi = points[i+1] - 1
		}
		segs = append(segs, segment{lo: lo, hi: hi, d: sp.decide(lo)})
	}
	return segs, ranges
}

// tokenSpace is the verdict function of one audit-arch token: runc's
// ENOSYS stub first, then libseccomp's program.
type tokenSpace struct {
	native, x32 *archTable // x32 only under AUDIT_ARCH_X86_64
	rest        *decision
	guard       *decision
}

func newTokenSpace(tables []*archTable, rest *decision) *tokenSpace {
	sp := &tokenSpace{rest: rest,
		guard: &decision{fallback: killThread}}
	for _, t := range tables {
		if t.arch == syscalls.X32 {
			sp.x32 = t
		} else {
			sp.native = t
		}
	}
	return sp
}

// decide is the verdict for number nr.
func (sp *tokenSpace) decide(nr uint32) *decision {
	// runc's stub tells x32 from x86_64 by the bit alone (jset), and has
	// no bound for x32 numbers when x32 is not in the filter.
	part := sp.native
	if part != nil && part.arch == syscalls.X86_64 && nr&syscalls.X32Bit != 0 {
		part = sp.x32
	}
	if part != nil && part.stub && (nr > part.max || nr == 0 && isS390(part.arch)) {
		return enosys // s390's stub also catches setup(2)'s multiplexer 0
	}
	// libseccomp kills x32-range numbers on an x86_64 filter without x32.
	if sp.native != nil && sp.native.arch == syscalls.X86_64 && sp.x32 == nil &&
		nr >= syscalls.X32Bit && nr != 0xffffffff {
		return sp.guard
	}
	for _, t := range []*archTable{sp.native, sp.x32} {
		if t == nil {
			continue
		}
		if d, ok := t.named[nr]; ok {
			return d
		}
	}
	return sp.rest
}

// breakpoints are the sorted numbers where decide may change value: each
// named number and the one after it, the stub bounds, and fixed points
// (0, 1, the x32 bit and the top of the range).
func (sp *tokenSpace) breakpoints() []uint32 {
	out := []uint32{0, 1, syscalls.X32Bit, 0x80000000, 0xc0000000, 0xffffffff}
	for _, t := range []*archTable{sp.native, sp.x32} {
		if t == nil {
			continue
		}
		if t.max < 0xffffffff {
			out = append(out, t.max+1)
		}
		for _, nr := range t.numbers { // ascending: the sort has little to do
			out = append(out, nr)
			if nr < 0xffffffff {
				out = append(out, nr+1)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func isS390(a *syscalls.Arch) bool { return a.Name == "s390" || a.Name == "s390x" }
