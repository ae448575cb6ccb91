package bpf

import "fmt"

// Instruction is one classic BPF instruction, laid out like the kernel's
// struct sock_filter: an opcode, two 8-bit relative jump offsets and a
// 32-bit constant.
type Instruction struct {
	Op uint16
	Jt uint8
	Jf uint8
	K  uint32
}

// Opcode classes, sizes, modes, operations and sources, in the kernel's
// vocabulary (include/uapi/linux/filter.h and bpf_common.h).
const (
	ClassLD   = 0x00
	ClassLDX  = 0x01
	ClassST   = 0x02
	ClassSTX  = 0x03
	ClassALU  = 0x04
	ClassJMP  = 0x05
	ClassRET  = 0x06
	ClassMISC = 0x07

	SizeW = 0x00
	SizeH = 0x08
	SizeB = 0x10

	ModeIMM = 0x00
	ModeABS = 0x20
	ModeIND = 0x40
	ModeMEM = 0x60
	ModeLEN = 0x80
	ModeMSH = 0xa0

	AluADD = 0x00
	AluSUB = 0x10
	AluMUL = 0x20
	AluDIV = 0x30
	AluOR  = 0x40
	AluAND = 0x50
	AluLSH = 0x60
	AluRSH = 0x70
	AluNEG = 0x80
	AluMOD = 0x90
	AluXOR = 0xa0

	JmpJA   = 0x00
	JmpJEQ  = 0x10
	JmpJGT  = 0x20
	JmpJGE  = 0x30
	JmpJSET = 0x40

	SrcK = 0x00
	SrcX = 0x08

	RetK = 0x00
	RetA = 0x10

	MiscTAX = 0x00
	MiscTXA = 0x80
)

// MaxInstructions is the kernel's BPF_MAXINSNS: the longest program
// seccomp(2) accepts.
const MaxInstructions = 4096

// MemWords is BPF_MEMWORDS, the number of scratch memory slots.
const MemWords = 16

// Offsets of the fields of struct seccomp_data.
const (
	OffsetNr   = 0
	OffsetArch = 4
	OffsetIP   = 8
	OffsetArgs = 16
	DataSize   = 64
)

// Class returns the instruction class (ClassLD … ClassMISC).
func (i Instruction) Class() uint16 { return i.Op & 0x07 }

// LoadAbs returns `ld [k]`: load the 32-bit word at offset k of seccomp_data.
func LoadAbs(k uint32) Instruction { return Instruction{Op: ClassLD | SizeW | ModeABS, K: k} }

// LoadImm returns `ld #k`.
func LoadImm(k uint32) Instruction { return Instruction{Op: ClassLD | ModeIMM, K: k} }

// AndK returns `and #k`.
func AndK(k uint32) Instruction { return Instruction{Op: ClassALU | AluAND | SrcK, K: k} }

// Ret returns `ret #k`.
func Ret(k uint32) Instruction { return Instruction{Op: ClassRET | RetK, K: k} }

// Ja returns `ja +k`.
func Ja(k uint32) Instruction { return Instruction{Op: ClassJMP | JmpJA, K: k} }

// Jump returns a conditional jump `op #k, jt, jf` comparing A with k.
func Jump(op uint16, k uint32, jt, jf uint8) Instruction {
	return Instruction{Op: ClassJMP | op | SrcK, Jt: jt, Jf: jf, K: k}
}

// IsConditionalJump reports whether i is a jeq/jgt/jge/jset.
func (i Instruction) IsConditionalJump() bool {
	return i.Class() == ClassJMP && i.Op&0xf0 != JmpJA
}

// IsJa reports whether i is an unconditional jump.
func (i Instruction) IsJa() bool { return i.Op == ClassJMP|JmpJA }

// IsRet reports whether i ends the program.
func (i Instruction) IsRet() bool { return i.Class() == ClassRET }

func (i Instruction) String() string {
	return fmt.Sprintf("{0x%02x, %d, %d, 0x%08x}", i.Op, i.Jt, i.Jf, i.K)
}
