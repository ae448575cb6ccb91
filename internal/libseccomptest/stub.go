package libseccomptest

import (
	"fmt"
	"slices"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// StubBound is one entry of runc's ENOSYS stub: numbers of Arch above Max
// get ERRNO(ENOSYS) before libseccomp's filter runs.
type StubBound struct {
	Arch *syscalls.Arch
	Max  uint32
}

// enosys is SCMP_ACT_ERRNO(ENOSYS), what the stub returns.
var enosys = profile.Action{Kind: profile.Errno, Data: profile.ENOSYS}.Value()

// Stub returns the ENOSYS stub runc (1.1 and later) puts in front of
// libseccomp's filter for the given bounds, or nil when there are none:
//
//	ld [arch]; jeq tok, → section (per audit token); ja → filter
//	section: ld [nr]; jgt max, → ret ERRNO(ENOSYS); ja → filter
//	ja +1; ret ERRNO(ENOSYS); <filter>
//
// On AUDIT_ARCH_X86_64 a `jset #0x40000000` first picks the x86_64 or the
// x32 bound (or skips the bound for the ABI that has none); on s390 and
// s390x number 0 (setup, the multiplexer) also gets ENOSYS.
//
// runc walks a Go map to order the tokens, so the order changes from one
// container start to the next. Stub fixes the order seen in a filter
// dumped from Docker 20.10 with runc 1.1.5 on x86_64: the arch tests by
// ascending token, the sections in the opposite order. Only the order of
// the arch tests changes path lengths (one instruction per test passed).
func Stub(bounds []StubBound) ([]bpf.Instruction, error) {
	groups, err := groupBounds(bounds)
	if err != nil || len(groups) == 0 {
		return nil, err
	}
	tokens := make([]uint32, 0, len(groups))
	for tok := range groups {
		tokens = append(tokens, tok)
	}
	slices.Sort(tokens)
	sectionOrder := slices.Clone(tokens)
	slices.Reverse(sectionOrder)

	// Layout: ld, one jeq per token, ja, sections, ja +1, ret, filter.
	starts := map[uint32]int{}
	pc := 2 + len(tokens)
	for _, tok := range sectionOrder {
		starts[tok] = pc
		pc += sectionLen(groups[tok])
	}
	ret, filter := pc+1, pc+2
	if filter-1 > 255 {
		return nil, fmt.Errorf("generate ENOSYS stub: %d instructions need long jumps, which Stub does not emit", filter)
	}
	out := []bpf.Instruction{bpf.LoadAbs(bpf.OffsetArch)}
	for _, tok := range tokens {
		out = append(out, bpf.Jump(bpf.JmpJEQ, tok, rel(len(out), starts[tok]), 0))
	}
	out = append(out, bpf.Ja(uint32(rel(len(out), filter))))
	for _, tok := range sectionOrder {
		out = appendSection(out, groups[tok], ret, filter)
	}
	out = append(out, bpf.Ja(1), bpf.Ret(enosys))
	return out, nil
}

// tokenBounds is the bounds that share one audit token: on x86_64, the
// x86_64 and x32 ones (either may be absent); elsewhere just native.
type tokenBounds struct {
	native, x32 *StubBound
}

func groupBounds(bounds []StubBound) (map[uint32]*tokenBounds, error) {
	groups := map[uint32]*tokenBounds{}
	for i := range bounds {
		b := &bounds[i]
		g := groups[b.Arch.Audit]
		if g == nil {
			g = &tokenBounds{}
			groups[b.Arch.Audit] = g
		}
		slot := &g.native
		if b.Arch == syscalls.X32 {
			slot = &g.x32
		}
		if *slot != nil && (*slot).Arch != b.Arch {
			return nil, fmt.Errorf("generate ENOSYS stub: %s and %s share audit token %#x", (*slot).Arch, b.Arch, b.Arch.Audit)
		}
		if *slot == nil || (*slot).Max < b.Max {
			*slot = b
		}
	}
	return groups, nil
}

func sectionLen(g *tokenBounds) int {
	switch {
	case g.native != nil && g.x32 != nil:
		return 5 // ld, jset, jgt, jgt, ja
	case g.x32 != nil || g.native.Arch.Audit == syscalls.X86_64.Audit:
		return 4 // ld, jset, jgt, ja
	case isS390(g.native.Arch):
		return 5 // ld, jeq #0, ret, jgt, ja
	}
	return 3 // ld, jgt, ja
}

// appendSection emits one token's section; ret and filter are the
// absolute positions of the ENOSYS return and of libseccomp's filter.
func appendSection(out []bpf.Instruction, g *tokenBounds, ret, filter int) []bpf.Instruction {
	out = append(out, bpf.LoadAbs(bpf.OffsetNr))
	jgt := func(max uint32, jf uint8) bpf.Instruction {
		return bpf.Jump(bpf.JmpJGT, max, rel(len(out), ret), jf)
	}
	switch {
	case g.native != nil && g.x32 != nil:
		out = append(out, bpf.Jump(bpf.JmpJSET, syscalls.X32Bit, 1, 0))
		out = append(out, jgt(g.native.Max, 1))
		out = append(out, jgt(g.x32.Max, 0))
	case g.x32 != nil: // x32 alone: x86_64 numbers skip the bound
		out = append(out, bpf.Jump(bpf.JmpJSET, syscalls.X32Bit, 0, 1))
		out = append(out, jgt(g.x32.Max, 0))
	case g.native.Arch.Audit == syscalls.X86_64.Audit: // x32 numbers skip it
		out = append(out, bpf.Jump(bpf.JmpJSET, syscalls.X32Bit, 1, 0))
		out = append(out, jgt(g.native.Max, 0))
	case isS390(g.native.Arch):
		out = append(out, bpf.Jump(bpf.JmpJEQ, 0, 0, 1), bpf.Ret(enosys))
		out = append(out, jgt(g.native.Max, 0))
	default:
		out = append(out, jgt(g.native.Max, 0))
	}
	return append(out, bpf.Ja(uint32(rel(len(out), filter))))
}

func isS390(a *syscalls.Arch) bool { return a.Name == "s390" || a.Name == "s390x" }

// rel is the jump offset from the instruction at pc to the one at target;
// Stub checked that every target is within 255 of every jump.
func rel(pc, target int) uint8 { return uint8(target - pc - 1) }
