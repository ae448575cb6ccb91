package dockertest

import (
	"debug/elf"
	"fmt"
	"runtime"

	"github.com/sysfence/sysfence/internal/elfexec"
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
	return elfexec.Static64(machine, spinBase, code), nil
}

// nativeSpin is spinELF for the running architecture.
func nativeSpin() ([]byte, error) { return spinELF(runtime.GOARCH) }
