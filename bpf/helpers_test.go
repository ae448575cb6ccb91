package bpf

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
)

// refRun is a reference interpreter written straight from the kernel's
// semantics, independent of the VM: it lays seccomp_data out as bytes and
// switches on raw opcodes. It reports ok=false for anything it cannot run.
func refRun(prog []Instruction, d Data, bigEndian bool) (uint32, bool) {
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	buf := make([]byte, DataSize)
	order.PutUint32(buf[0:], uint32(d.Nr))
	order.PutUint32(buf[4:], d.Arch)
	order.PutUint64(buf[8:], d.IP)
	for i, a := range d.Args {
		order.PutUint64(buf[16+8*i:], a)
	}
	var a, x uint32
	var m [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		k := ins.K
		src := k
		if ins.Op&SrcX != 0 {
			src = x
		}
		switch ins.Op {
		case 0x20:
			a = order.Uint32(buf[k:])
		case 0x00:
			a = k
		case 0x80:
			a = 64
		case 0x81:
			x = 64
		case 0x60:
			a = m[k]
		case 0x01:
			x = k
		case 0x61:
			x = m[k]
		case 0x02:
			m[k] = a
		case 0x03:
			m[k] = x
		case 0x07:
			x = a
		case 0x87:
			a = x
		case 0x04, 0x0c:
			a += src
		case 0x14, 0x1c:
			a -= src
		case 0x24, 0x2c:
			a *= src
		case 0x34, 0x3c:
			if src == 0 {
				return 0, true
			}
			a /= src
		case 0x44, 0x4c:
			a |= src
		case 0x54, 0x5c:
			a &= src
		case 0x64, 0x6c:
			a <<= src % 32
		case 0x74, 0x7c:
			a >>= src % 32
		case 0xa4, 0xac:
			a ^= src
		case 0x84:
			a = 0 - a
		case 0x05:
			pc += int(k)
		case 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d:
			var c bool
			switch ins.Op & 0xf0 {
			case 0x10:
				c = a == src
			case 0x20:
				c = a > src
			case 0x30:
				c = a >= src
			case 0x40:
				c = a&src != 0
			}
			if c {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		case 0x06:
			return k, true
		case 0x16:
			return a, true
		default:
			return 0, false
		}
	}
	return 0, false
}

// byteSource hands out bytes of a fuzz input, then zeros.
type byteSource struct{ b []byte }

func (s *byteSource) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) u32() uint32 {
	return uint32(s.next()) | uint32(s.next())<<8 | uint32(s.next())<<16 | uint32(s.next())<<24
}

// interesting constants make comparisons succeed now and then.
var interesting = []uint32{0, 1, 2, 3, 59, 0x3c, 0x40000000, 0xc000003e, 0x40000003, 0xffffffff, 0x7fff0000, 0x80000000}

func (s *byteSource) constant() uint32 {
	c := s.next()
	if c < 0xc0 {
		return interesting[int(c)%len(interesting)]
	}
	return s.u32()
}

// seccompOps are the opcodes a seccomp filter may hold.
var seccompOps = func() []uint16 {
	var out []uint16
	for op := range 0x100 {
		if seccompAllowed(uint16(op)) {
			out = append(out, uint16(op))
		}
	}
	return out
}()

// genProgram builds a valid program from fuzz bytes: random allowed
// instructions with in-range fields, repaired until Validate accepts.
func genProgram(b []byte) []Instruction {
	s := &byteSource{b: b}
	n := 1 + int(s.next())%48
	prog := make([]Instruction, n)
	for pc := range n - 1 {
		prog[pc] = genInstruction(s, pc, n)
	}
	prog[n-1] = genRet(s)
	for range n + 1 {
		var ie *InstructionError
		err := Validate(prog)
		if err == nil {
			return prog
		}
		if !errors.As(err, &ie) {
			panic(err)
		}
		prog[ie.Index] = LoadImm(uint32(ie.Index))
		if ie.Index == n-1 {
			prog[ie.Index] = Ret(RetAllow)
		}
	}
	panic("genProgram: could not repair program")
}

func genRet(s *byteSource) Instruction {
	if s.next()%4 == 0 {
		return Instruction{Op: ClassRET | RetA}
	}
	acts := []uint32{RetAllow, RetErrno | 1, RetKillThread, RetKillProcess, RetTrace | 5, RetLog, RetTrap, RetErrno | 38}
	return Ret(acts[int(s.next())%len(acts)])
}

func genInstruction(s *byteSource, pc, n int) Instruction {
	op := seccompOps[int(s.next())%len(seccompOps)]
	ins := Instruction{Op: op}
	room := n - pc - 1
	switch {
	case op == ClassLD|SizeW|ModeABS:
		ins.K = 4 * uint32(s.next()%16)
	case op == ClassLD|ModeMEM || op == ClassLDX|ModeMEM || op == ClassST || op == ClassSTX:
		ins.K = uint32(s.next() % 16)
	case op == ClassALU|AluLSH || op == ClassALU|AluRSH:
		ins.K = uint32(s.next() % 32)
	case op == ClassALU|AluDIV:
		ins.K = 1 + uint32(s.next()%7)
	case op == ClassJMP|JmpJA:
		ins.K = uint32(int(s.next()) % room)
	case op&0x07 == ClassJMP:
		ins.K = s.constant()
		ins.Jt = uint8(int(s.next()) % min(room, 256))
		ins.Jf = uint8(int(s.next()) % min(room, 256))
	case op == ClassRET|RetK:
		return genRet(s)
	case op&SrcX == 0 && op != ClassALU|AluNEG && op != ClassMISC|MiscTAX && op != ClassRET|RetA:
		ins.K = s.constant()
	}
	return ins
}

// genData builds seccomp_data from fuzz bytes, favouring known values.
func genData(s *byteSource) Data {
	d := Data{Nr: int32(s.constant()), Arch: s.constant(), IP: uint64(s.u32())}
	for i := range d.Args {
		d.Args[i] = uint64(s.constant()) | uint64(s.constant())<<32
	}
	return d
}

// randData draws seccomp_data for property tests.
func randData(r *rand.Rand) Data {
	pick := func() uint32 {
		if r.IntN(2) == 0 {
			return interesting[r.IntN(len(interesting))]
		}
		return r.Uint32()
	}
	d := Data{Nr: int32(pick()), Arch: pick(), IP: r.Uint64()}
	if r.IntN(2) == 0 {
		d.Nr = int32(r.IntN(500))
	}
	for i := range d.Args {
		d.Args[i] = uint64(pick()) | uint64(pick())<<32
	}
	return d
}
