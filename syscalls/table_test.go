package syscalls

import (
	"encoding/csv"
	"os"
	"strconv"
	"strings"
	"testing"
)

// csvLayout says, independently of the Arches table, which syscalls.csv
// column each architecture reads and the ABI base libseccomp adds to it.
var csvLayout = map[string]struct {
	column string
	base   uint32
}{
	"x86": {"x86", 0}, "x86_64": {"x86_64", 0}, "x32": {"x32", 0x40000000},
	"arm": {"arm", 0}, "aarch64": {"aarch64", 0}, "loongarch64": {"loongarch64", 0},
	"m68k": {"m68k", 0},
	"mips": {"mips", 4000}, "mipsel": {"mips", 4000},
	"mips64": {"mips64", 5000}, "mipsel64": {"mips64", 5000},
	"mips64n32": {"mips64n32", 6000}, "mipsel64n32": {"mips64n32", 6000},
	"parisc": {"parisc", 0}, "parisc64": {"parisc64", 0},
	"ppc": {"ppc", 0}, "ppc64": {"ppc64", 0}, "ppc64le": {"ppc64", 0},
	"riscv64": {"riscv64", 0}, "s390": {"s390", 0}, "s390x": {"s390x", 0},
	"sh": {"sh", 0}, "sheb": {"sh", 0},
}

// readCSV returns the header and the rows of syscalls.csv.
func readCSV(t *testing.T) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open("syscalls.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("parse syscalls.csv: %v", err)
	}
	if len(rows) < 400 {
		t.Fatalf("syscalls.csv has %d rows", len(rows))
	}
	return rows[0], rows[1:]
}

// TestTableRoundTrip checks every number of every architecture column of
// syscalls.csv through Number, and back through SyscallName.
func TestTableRoundTrip(t *testing.T) {
	header, rows := readCSV(t)
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	if len(csvLayout) != len(Arches) {
		t.Errorf("csvLayout has %d architectures, Arches %d", len(csvLayout), len(Arches))
	}
	for _, a := range Arches {
		t.Run(a.Name, func(t *testing.T) {
			lay, ok := csvLayout[a.Name]
			if !ok {
				t.Fatalf("architecture %s missing from csvLayout", a.Name)
			}
			c, ok := col[lay.column]
			if !ok {
				t.Fatalf("syscalls.csv has no column %q", lay.column)
			}
			count := 0
			var maxNr uint32
			for _, row := range rows {
				name, field := row[0], row[c]
				nr, has := a.Number(name)
				if field == "PNR" {
					if has {
						t.Errorf("%s: Number(%q) = %d, but the table says PNR", a, name, nr)
					}
					continue
				}
				n, err := strconv.ParseUint(field, 10, 32)
				if err != nil {
					t.Fatalf("row %s column %s: %v", name, lay.column, err)
				}
				want := uint32(n) + lay.base
				count++
				maxNr = max(maxNr, want)
				if !has || nr != want {
					t.Errorf("%s: Number(%q) = %#x, %v; want %#x", a, name, nr, has, want)
					continue
				}
				back, ok := a.SyscallName(want)
				if !ok {
					t.Errorf("%s: SyscallName(%#x) not found (%s)", a, want, name)
				} else if n2, _ := a.Number(back); n2 != want {
					t.Errorf("%s: SyscallName(%#x) = %q, whose number is %#x", a, want, back, n2)
				}
				if !Known(name) {
					t.Errorf("Known(%q) = false", name)
				}
			}
			if a.Len() != count {
				t.Errorf("%s: Len() = %d, the table has %d numbers", a, a.Len(), count)
			}
			if a.Max() != maxNr {
				t.Errorf("%s: Max() = %#x, the table's largest is %#x", a, a.Max(), maxNr)
			}
		})
	}
}

// TestTableVersion checks that the generated version string is the CSV
// header's.
func TestTableVersion(t *testing.T) {
	header, _ := readCSV(t)
	if !strings.Contains(header[0], TableVersion) {
		t.Errorf("TableVersion %q not in the CSV header %q", TableVersion, header[0])
	}
}
