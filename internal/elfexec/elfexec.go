// Package elfexec builds minimal static executables: an ELF header, one
// program header, and a body that one read-execute segment maps whole,
// with execution starting at the body's first byte. The exec stub of
// `sysfence run` and the tests' tiny machine-code programs are built with it.
package elfexec

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// Sizes of the headers in front of the body.
const (
	Header64Size = 64 + 56 // ELF64 header + one program header
	Header32Size = 52 + 32 // ELF32 header + one program header
)

// Static64 returns a little-endian ELF64 executable for machine whose
// file, loaded at base, starts executing at base+Header64Size: the body.
func Static64(machine elf.Machine, base uint64, body []byte) []byte {
	size := uint64(Header64Size + len(body))
	hdr := elf.Header64{
		Ident:     ident(elf.ELFCLASS64),
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(machine),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     base + Header64Size,
		Phoff:     64,
		Ehsize:    64,
		Phentsize: 56,
		Phnum:     1,
		Shentsize: 64,
	}
	prog := elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: base, Paddr: base, Filesz: size, Memsz: size, Align: 0x1000}
	return assemble(hdr, prog, body)
}

// Static32 is Static64 for a little-endian ELF32 executable.
func Static32(machine elf.Machine, base uint32, body []byte) []byte {
	size := uint32(Header32Size + len(body))
	hdr := elf.Header32{
		Ident:     ident(elf.ELFCLASS32),
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(machine),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     base + Header32Size,
		Phoff:     52,
		Ehsize:    52,
		Phentsize: 32,
		Phnum:     1,
		Shentsize: 40,
	}
	prog := elf.Prog32{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: base, Paddr: base, Filesz: size, Memsz: size, Align: 0x1000}
	return assemble(hdr, prog, body)
}

func ident(class elf.Class) (id [elf.EI_NIDENT]byte) {
	copy(id[:], elf.ELFMAG)
	id[elf.EI_CLASS] = byte(class)
	id[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	id[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	return id
}

func assemble(hdr, prog any, body []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, hdr) // fixed-size structs into a buffer: cannot fail
	_ = binary.Write(&b, binary.LittleEndian, prog)
	b.Write(body)
	return b.Bytes()
}
