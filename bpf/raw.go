package bpf

import (
	"encoding/binary"
	"fmt"
)

// InstructionSize is sizeof(struct sock_filter).
const InstructionSize = 8

// Marshal encodes prog as an array of struct sock_filter in byte order bo
// (the host's own for the kernel, bwrap --seccomp and
// PTRACE_SECCOMP_GET_FILTER).
func Marshal(prog []Instruction, bo binary.ByteOrder) []byte {
	out := make([]byte, len(prog)*InstructionSize)
	for i, ins := range prog {
		b := out[i*InstructionSize:]
		bo.PutUint16(b[0:], ins.Op)
		b[2] = ins.Jt
		b[3] = ins.Jf
		bo.PutUint32(b[4:], ins.K)
	}
	return out
}

// Unmarshal decodes an array of struct sock_filter. It checks the size only;
// use Validate to check the program.
func Unmarshal(data []byte, bo binary.ByteOrder) ([]Instruction, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("decode filter: empty (a filter has at least one instruction)")
	}
	if len(data)%InstructionSize != 0 {
		return nil, fmt.Errorf("decode filter: %d bytes is not a multiple of %d (truncated or not a raw BPF filter); the last %d bytes are incomplete",
			len(data), InstructionSize, len(data)%InstructionSize)
	}
	if n := len(data) / InstructionSize; n > MaxInstructions {
		return nil, fmt.Errorf("decode filter: %d instructions, the kernel accepts at most %d: %w", n, MaxInstructions, ErrTooLarge)
	}
	prog := make([]Instruction, len(data)/InstructionSize)
	for i := range prog {
		b := data[i*InstructionSize:]
		prog[i] = Instruction{Op: bo.Uint16(b[0:]), Jt: b[2], Jf: b[3], K: bo.Uint32(b[4:])}
	}
	return prog, nil
}
