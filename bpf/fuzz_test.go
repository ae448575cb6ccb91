package bpf

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Run a target with e.g. `go test ./bpf -run '^$' -fuzz FuzzVM -fuzztime 60s`.

func addSeeds(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte{5, 0x20, 0, 0x15, 59, 1, 0x06}, []byte{59, 0, 0, 0})
	f.Add([]byte("\x30\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17"),
		[]byte("\x01\x02\x03\x04\x05\x06\x07\x08"))
}

// FuzzVM checks that the VM never panics and agrees with the reference
// interpreter on valid programs built from the input.
func FuzzVM(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, progBytes, dataBytes []byte) {
		prog := genProgram(progBytes)
		p, err := NewProgram(prog)
		if err != nil {
			t.Fatalf("generated program invalid: %v", err)
		}
		s := &byteSource{b: dataBytes}
		for _, be := range []bool{false, true} {
			d := genData(s)
			got := p.Run(d, be)
			want, ok := refRun(prog, d, be)
			if !ok || got != want {
				t.Fatalf("VM %#x, reference %#x (ok %v) on %+v be=%v\n%s", got, want, ok, d, be, Disassemble(prog))
			}
			if n := p.PathLength(d, be); n < 1 || n > len(prog) {
				t.Fatalf("PathLength %d outside 1..%d", n, len(prog))
			}
		}
	})
}

// FuzzValidate feeds raw instructions to Validate and, when it accepts,
// to the VM, the optimizer and the cache emulation: none may panic.
func FuzzValidate(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, progBytes, dataBytes []byte) {
		prog := rawProgram(progBytes)
		ConstantAllow(prog, 0xc000003e, 0)
		Optimize(prog)
		_ = Disassemble(prog)
		for _, pass := range Passes {
			pass(prog)
		}
		if Validate(prog) != nil {
			if _, err := NewProgram(prog); err == nil {
				t.Fatal("NewProgram accepted what Validate refused")
			}
			return
		}
		d := genData(&byteSource{b: dataBytes})
		v, err := Run(prog, d, false)
		if err != nil {
			t.Fatal(err)
		}
		if want, ok := refRun(prog, d, false); !ok || want != v {
			t.Fatalf("VM %#x, reference %#x (ok %v)", v, want, ok)
		}
	})
}

// FuzzRoundTrip checks Assemble(Disassemble(p)) == p for any instructions.
func FuzzRoundTrip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, progBytes, _ []byte) {
		for _, prog := range [][]Instruction{rawProgram(progBytes), genProgram(progBytes)} {
			text := Disassemble(prog)
			back, err := Assemble(text)
			if err != nil {
				t.Fatalf("Assemble: %v\n%s", err, text)
			}
			if !slices.Equal(back, prog) {
				t.Fatalf("round trip differs:\n%s\nback:\n%s", text, Disassemble(back))
			}
		}
	})
}

// FuzzOptimizeEquivalence checks that Optimize keeps every verdict, on
// programs from the input and on Builder programs seeded by it.
func FuzzOptimizeEquivalence(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, progBytes, dataBytes []byte) {
		var seed uint64
		for _, c := range dataBytes {
			seed = seed*131 + uint64(c)
		}
		r := rand.New(rand.NewPCG(seed, uint64(len(progBytes))))
		checkOptimize(t, genProgram(progBytes), r)
		checkOptimize(t, genBuilderProgram(r), r)
	})
}
