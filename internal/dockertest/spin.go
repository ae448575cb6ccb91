package dockertest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"runtime"
)

// spinBase is where the spin program is loaded.
const spinBase = 0x400000

// spinELF returns a static executable for GOARCH whose code is one
// instruction jumping to itself.
func spinELF(goarch string) ([]byte, error) {
	var machine elf.Machine
	var code []byte
	switch goarch {
	case "amd64":
		machine, code = elf.EM_X86_64, []byte{0xeb, 0xfe} // jmp .
	case "arm64":
		machine, code = elf.EM_AARCH64, []byte{0x00, 0x00, 0x00, 0x14} // b .
	default:
		return nil, fmt.Errorf("build spin program: no code for %s", goarch)
	}
	const hdrSize, phSize = 64, 56
	size := uint64(hdrSize + phSize + len(code))
	hdr := elf.Header64{
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(machine),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     spinBase + hdrSize + phSize,
		Phoff:     hdrSize,
		Ehsize:    hdrSize,
		Phentsize: phSize,
		Phnum:     1,
		Shentsize: 64,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	prog := elf.Prog64{
		Type:   uint32(elf.PT_LOAD),
		Flags:  uint32(elf.PF_R | elf.PF_X),
		Vaddr:  spinBase,
		Paddr:  spinBase,
		Filesz: size,
		Memsz:  size,
		Align:  0x1000,
	}
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, hdr)
	_ = binary.Write(&b, binary.LittleEndian, prog)
	b.Write(code)
	return b.Bytes(), nil
}

// nativeSpin is spinELF for the running architecture.
func nativeSpin() ([]byte, error) { return spinELF(runtime.GOARCH) }
