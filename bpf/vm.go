package bpf

import "fmt"

// Data is struct seccomp_data: what a filter sees of one system call.
type Data struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// Word returns the 32-bit word at byte offset off of d laid out in the
// given byte order, as `ld [off]` reads it: on a big-endian ABI the word at
// 16 is the high half of Args[0], on a little-endian one the low half.
// Offsets that are not a multiple of 4 below DataSize read 0.
func (d *Data) Word(off uint32, bigEndian bool) uint32 {
	if off >= DataSize || off&3 != 0 {
		return 0
	}
	return d.word(off/4, bigEndian)
}

// word reads word index i (0..15) of seccomp_data.
func (d *Data) word(i uint32, bigEndian bool) uint32 {
	var v uint64
	switch {
	case i == 0:
		return uint32(d.Nr)
	case i == 1:
		return d.Arch
	case i < 4:
		v = d.IP
	default:
		v = d.Args[(i-4)/2]
	}
	// Odd words are at the higher address: the high half on a
	// little-endian ABI, the low half on a big-endian one.
	if (i&1 == 1) != bigEndian {
		return uint32(v >> 32)
	}
	return uint32(v)
}

// vop is the VM's internal opcode: one dense number per seccomp
// instruction, so the interpreter's switch compiles to a jump table.
type vop uint8

const (
	vLdAbs vop = iota // A = word[k]
	vLdImm            // A = k (also ld len, with k = 64)
	vLdMem
	vLdxImm
	vLdxMem
	vSt
	vStx
	vTax
	vTxa
	vAddK
	vAddX
	vSubK
	vSubX
	vMulK
	vMulX
	vDivK
	vDivX
	vAndK
	vAndX
	vOrK
	vOrX
	vXorK
	vXorX
	vLshK
	vLshX
	vRshK
	vRshX
	vNeg
	vJa
	vJeqK
	vJeqX
	vJgtK
	vJgtX
	vJgeK
	vJgeX
	vJsetK
	vJsetX
	vRetK
	vRetA
)

// vinsn is a decoded instruction with absolute jump targets.
type vinsn struct {
	op     vop
	jt, jf uint16
	k      uint32
}

// Program is a validated program ready to evaluate many inputs fast.
type Program struct {
	insns []Instruction
	code  []vinsn
}

// NewProgram validates prog and decodes it for the VM.
func NewProgram(prog []Instruction) (*Program, error) {
	if err := Validate(prog); err != nil {
		return nil, err
	}
	p := &Program{insns: append([]Instruction(nil), prog...), code: make([]vinsn, len(prog))}
	for pc, ins := range prog {
		p.code[pc] = decode(pc, ins)
	}
	return p, nil
}

// Instructions returns a copy of the program's instructions.
func (p *Program) Instructions() []Instruction { return append([]Instruction(nil), p.insns...) }

// Len is the number of instructions.
func (p *Program) Len() int { return len(p.insns) }

// decode turns one validated instruction into a vinsn.
func decode(pc int, ins Instruction) vinsn {
	v := vinsn{k: ins.K}
	next := uint16(pc + 1)
	switch ins.Op {
	case ClassLD | SizeW | ModeABS:
		v.op, v.k = vLdAbs, ins.K/4
	case ClassLD | SizeW | ModeLEN:
		v.op, v.k = vLdImm, DataSize // seccomp_check_filter's rewrite
	case ClassLDX | SizeW | ModeLEN:
		v.op, v.k = vLdxImm, DataSize
	case ClassJMP | JmpJA:
		v.op, v.jt = vJa, next+uint16(ins.K)
	default:
		v.op = simpleOps[ins.Op]
		if ins.IsConditionalJump() {
			v.jt, v.jf = next+uint16(ins.Jt), next+uint16(ins.Jf)
		}
	}
	return v
}

// simpleOps maps the opcodes that decode needs no special case for.
var simpleOps = map[uint16]vop{
	ClassLD | ModeIMM: vLdImm, ClassLD | ModeMEM: vLdMem,
	ClassLDX | ModeIMM: vLdxImm, ClassLDX | ModeMEM: vLdxMem,
	ClassST: vSt, ClassSTX: vStx,
	ClassMISC | MiscTAX: vTax, ClassMISC | MiscTXA: vTxa,
	ClassALU | AluADD: vAddK, ClassALU | AluADD | SrcX: vAddX,
	ClassALU | AluSUB: vSubK, ClassALU | AluSUB | SrcX: vSubX,
	ClassALU | AluMUL: vMulK, ClassALU | AluMUL | SrcX: vMulX,
	ClassALU | AluDIV: vDivK, ClassALU | AluDIV | SrcX: vDivX,
	ClassALU | AluAND: vAndK, ClassALU | AluAND | SrcX: vAndX,
	ClassALU | AluOR: vOrK, ClassALU | AluOR | SrcX: vOrX,
	ClassALU | AluXOR: vXorK, ClassALU | AluXOR | SrcX: vXorX,
	ClassALU | AluLSH: vLshK, ClassALU | AluLSH | SrcX: vLshX,
	ClassALU | AluRSH: vRshK, ClassALU | AluRSH | SrcX: vRshX,
	ClassALU | AluNEG: vNeg,
	ClassJMP | JmpJEQ: vJeqK, ClassJMP | JmpJEQ | SrcX: vJeqX,
	ClassJMP | JmpJGT: vJgtK, ClassJMP | JmpJGT | SrcX: vJgtX,
	ClassJMP | JmpJGE: vJgeK, ClassJMP | JmpJGE | SrcX: vJgeX,
	ClassJMP | JmpJSET: vJsetK, ClassJMP | JmpJSET | SrcX: vJsetX,
	ClassRET | RetK: vRetK, ClassRET | RetA: vRetA,
}

// Run evaluates the program on d, laid out in the given byte order, and
// returns the filter's 32-bit verdict.
func (p *Program) Run(d Data, bigEndian bool) uint32 {
	v, _ := p.exec(&d, bigEndian, nil)
	return v
}

// PathLength is the number of instructions the program executes on d.
func (p *Program) PathLength(d Data, bigEndian bool) int {
	_, n := p.exec(&d, bigEndian, nil)
	return n
}

// Run validates prog and evaluates it on d, laid out in the given byte
// order. To evaluate many inputs, use NewProgram once and Program.Run.
func Run(prog []Instruction, d Data, bigEndian bool) (uint32, error) {
	p, err := NewProgram(prog)
	if err != nil {
		return 0, fmt.Errorf("run program: %w", err)
	}
	return p.Run(d, bigEndian), nil
}

// Eval validates prog once and evaluates it on every input, in the given
// byte order.
func Eval(prog []Instruction, inputs []Data, bigEndian bool) ([]uint32, error) {
	p, err := NewProgram(prog)
	if err != nil {
		return nil, fmt.Errorf("eval program: %w", err)
	}
	out := make([]uint32, len(inputs))
	for i := range inputs {
		out[i], _ = p.exec(&inputs[i], bigEndian, nil)
	}
	return out, nil
}

// PathLength is the number of instructions prog executes on d, or 0 when
// prog is not a valid program.
func PathLength(prog []Instruction, d Data, bigEndian bool) int {
	p, err := NewProgram(prog)
	if err != nil {
		return 0
	}
	return p.PathLength(d, bigEndian)
}

// recorder observes execution for Trace and Coverage; nil when not needed.
type recorder interface {
	visit(pc int)
	branch(pc int, taken bool)
}

// exec is the interpreter. It follows the kernel's classic-to-eBPF
// translation: A and X start at 0, division by X = 0 returns 0, and shifts
// by X use the low 5 bits of X. Validation guarantees every jump target and
// memory index is in range and every program ends in ret.
func (p *Program) exec(d *Data, be bool, rec recorder) (uint32, int) {
	var a, x uint32
	var mem [MemWords]uint32
	code := p.code
	steps := 0
	for pc := 0; pc < len(code); {
		in := &code[pc]
		steps++
		if rec != nil {
			rec.visit(pc)
		}
		pc++
		var cond bool
		switch in.op {
		case vLdAbs:
			a = d.word(in.k, be)
			continue
		case vLdImm:
			a = in.k
			continue
		case vLdMem:
			a = mem[in.k&(MemWords-1)]
			continue
		case vLdxImm:
			x = in.k
			continue
		case vLdxMem:
			x = mem[in.k&(MemWords-1)]
			continue
		case vSt:
			mem[in.k&(MemWords-1)] = a
			continue
		case vStx:
			mem[in.k&(MemWords-1)] = x
			continue
		case vTax:
			x = a
			continue
		case vTxa:
			a = x
			continue
		case vAddK:
			a += in.k
			continue
		case vAddX:
			a += x
			continue
		case vSubK:
			a -= in.k
			continue
		case vSubX:
			a -= x
			continue
		case vMulK:
			a *= in.k
			continue
		case vMulX:
			a *= x
			continue
		case vDivK:
			a /= in.k
			continue
		case vDivX:
			if x == 0 {
				return 0, steps
			}
			a /= x
			continue
		case vAndK:
			a &= in.k
			continue
		case vAndX:
			a &= x
			continue
		case vOrK:
			a |= in.k
			continue
		case vOrX:
			a |= x
			continue
		case vXorK:
			a ^= in.k
			continue
		case vXorX:
			a ^= x
			continue
		case vLshK:
			a <<= in.k & 31
			continue
		case vLshX:
			a <<= x & 31
			continue
		case vRshK:
			a >>= in.k & 31
			continue
		case vRshX:
			a >>= x & 31
			continue
		case vNeg:
			a = -a
			continue
		case vJa:
			pc = int(in.jt)
			continue
		case vJeqK:
			cond = a == in.k
		case vJeqX:
			cond = a == x
		case vJgtK:
			cond = a > in.k
		case vJgtX:
			cond = a > x
		case vJgeK:
			cond = a >= in.k
		case vJgeX:
			cond = a >= x
		case vJsetK:
			cond = a&in.k != 0
		case vJsetX:
			cond = a&x != 0
		case vRetK:
			return in.k, steps
		case vRetA:
			return a, steps
		}
		if rec != nil {
			rec.branch(pc-1, cond)
		}
		if cond {
			pc = int(in.jt)
		} else {
			pc = int(in.jf)
		}
	}
	// Unreachable for validated programs, which end in ret.
	return 0, steps
}
