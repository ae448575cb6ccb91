package bpf

// ConstantAllow reports whether the kernel's seccomp action cache (Linux ≥
// 5.11, kernel/seccomp.c seccomp_is_const_allow) treats system call nr of
// audit arch as always allowed by prog, so that the filter never runs for
// it. The kernel emulates the program with only nr and arch known: the path
// may hold `ld [0]`, `ld [4]`, `jeq/jgt/jge/jset #k`, `ja`, `and #k` and
// `ret #k`; any other instruction on it (an argument or ip load, X, scratch
// memory, other ALU operations, `ret A`) makes the answer false, and so does
// reaching a ret other than exactly ALLOW (0x7fff0000).
//
// The kernel additionally passes uretprobe (x86_64 335, Linux ≥ 6.11) and
// uprobe (x86_64 336) on the native arch without consulting the filter;
// that is a property of the kernel, not of prog, and is not modelled here.
func ConstantAllow(prog []Instruction, arch uint32, nr uint32) bool {
	var a uint32 // the kernel's reg_value starts at 0
	for pc := uint64(0); pc < uint64(len(prog)); pc++ {
		ins := prog[pc]
		switch ins.Op {
		case ClassLD | SizeW | ModeABS:
			switch ins.K {
			case OffsetNr:
				a = nr
			case OffsetArch:
				a = arch
			default:
				return false
			}
		case ClassRET | RetK:
			return ins.K == RetAllow
		case ClassJMP | JmpJA:
			pc += uint64(ins.K)
		case ClassJMP | JmpJEQ, ClassJMP | JmpJGE, ClassJMP | JmpJGT, ClassJMP | JmpJSET:
			if jumpTaken(ins, a) {
				pc += uint64(ins.Jt)
			} else {
				pc += uint64(ins.Jf)
			}
		case ClassALU | AluAND:
			a &= ins.K
		default:
			return false
		}
	}
	return false // ran off the end: the kernel warns and does not cache
}

// jumpTaken evaluates a conditional jump against the constant k.
func jumpTaken(ins Instruction, a uint32) bool {
	switch ins.Op & 0xf0 {
	case JmpJEQ:
		return a == ins.K
	case JmpJGT:
		return a > ins.K
	case JmpJGE:
		return a >= ins.K
	default:
		return a&ins.K != 0
	}
}

// CacheBitmap is one of the kernel's action-cache bitmaps: the audit-arch
// token it serves and how many system call numbers, from 0, it covers. A
// number outside it is never cached (the x32 numbers, which carry
// 0x40000000, are outside the native bitmap).
type CacheBitmap struct {
	Arch uint32
	Size uint32
}

// X86_64CacheBitmaps describes an x86_64 kernel's cache: the native bitmap
// for AUDIT_ARCH_X86_64 over 0..nativeSize-1 (NR_syscalls) and the compat
// one for AUDIT_ARCH_I386 over 0..compatSize-1 (IA32_NR_syscalls). Both
// sizes depend on the kernel version: one more than its highest number.
func X86_64CacheBitmaps(nativeSize, compatSize uint32) []CacheBitmap {
	return []CacheBitmap{{Arch: 0xc000003e, Size: nativeSize}, {Arch: 0x40000003, Size: compatSize}}
}

// Cacheable lists, in ascending order, the numbers of the bitmap that the
// kernel would mark always-allowed for prog when it is the only filter.
func Cacheable(prog []Instruction, b CacheBitmap) []uint32 {
	var out []uint32
	for nr := range b.Size {
		if ConstantAllow(prog, b.Arch, nr) {
			out = append(out, nr)
		}
	}
	return out
}
