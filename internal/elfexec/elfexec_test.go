package elfexec

import (
	"bytes"
	"debug/elf"
	"testing"
)

// TestStaticParses reads both kinds back with debug/elf: the entry is the
// body's first byte and the one segment maps the whole file.
func TestStaticParses(t *testing.T) {
	body := []byte{0xeb, 0xfe}
	for _, c := range []struct {
		name       string
		image      []byte
		class      elf.Class
		base, head uint64
	}{
		{"ELF64", Static64(elf.EM_X86_64, 0x400000, body), elf.ELFCLASS64, 0x400000, Header64Size},
		{"ELF32", Static32(elf.EM_386, 0x8048000, body), elf.ELFCLASS32, 0x8048000, Header32Size},
	} {
		f, err := elf.NewFile(bytes.NewReader(c.image))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if f.Class != c.class || f.Type != elf.ET_EXEC || f.Entry != c.base+c.head {
			t.Errorf("%s: class %v type %v entry %#x, want %v ET_EXEC %#x", c.name, f.Class, f.Type, f.Entry, c.class, c.base+c.head)
		}
		if len(f.Progs) != 1 || f.Progs[0].Type != elf.PT_LOAD || f.Progs[0].Filesz != uint64(len(c.image)) ||
			f.Progs[0].Vaddr != c.base || f.Progs[0].Flags != elf.PF_R|elf.PF_X {
			t.Errorf("%s: program headers %+v, want one R+X PT_LOAD of the %d-byte file at %#x", c.name, f.Progs, len(c.image), c.base)
		}
		if got := c.image[c.head:]; !bytes.Equal(got, body) {
			t.Errorf("%s: body %x, want %x", c.name, got, body)
		}
	}
}
