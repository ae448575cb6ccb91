package bpf

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	d := Data{Nr: 59, Arch: 0xc000003e, IP: 0x1122334455667788,
		Args: [6]uint64{0xaaaaaaaa_bbbbbbbb, 2, 3, 4, 5, 0xdeadbeef_00000006}}
	retA := Instruction{Op: ClassRET | RetA}
	op := func(o uint16, k uint32) Instruction { return Instruction{Op: o, K: k} }
	tests := []struct {
		name string
		prog []Instruction
		be   bool
		want uint32
	}{
		{"nr", []Instruction{LoadAbs(0), retA}, false, 59},
		{"nr big endian", []Instruction{LoadAbs(0), retA}, true, 59},
		{"arch", []Instruction{LoadAbs(4), retA}, false, 0xc000003e},
		{"ip low LE", []Instruction{LoadAbs(8), retA}, false, 0x55667788},
		{"ip high LE", []Instruction{LoadAbs(12), retA}, false, 0x11223344},
		{"ip word 8 BE is high", []Instruction{LoadAbs(8), retA}, true, 0x11223344},
		{"args[0] at 16 LE is low", []Instruction{LoadAbs(16), retA}, false, 0xbbbbbbbb},
		{"args[0] at 16 BE is high", []Instruction{LoadAbs(16), retA}, true, 0xaaaaaaaa},
		{"args[5] at 60 LE is high", []Instruction{LoadAbs(60), retA}, false, 0xdeadbeef},
		{"args[5] at 60 BE is low", []Instruction{LoadAbs(60), retA}, true, 6},
		{"len", []Instruction{op(ClassLD|ModeLEN, 0), retA}, false, 64},
		{"ldx len", []Instruction{op(ClassLDX|ModeLEN, 7), op(ClassMISC|MiscTXA, 0), retA}, false, 64},
		{"A starts at 0", []Instruction{retA}, false, 0},
		{"X starts at 0", []Instruction{op(ClassMISC|MiscTXA, 0), retA}, false, 0},
		{"ret k", []Instruction{Ret(RetErrno | 1)}, false, RetErrno | 1},
		{"imm and mem", []Instruction{LoadImm(7), op(ClassST, 3), LoadImm(1), op(ClassLDX|ModeMEM, 3), op(ClassMISC|MiscTXA, 0), retA}, false, 7},
		{"add sub mul", []Instruction{LoadImm(5), op(ClassALU|AluADD, 3), op(ClassALU|AluMUL, 4), op(ClassALU|AluSUB, 2), retA}, false, 30},
		{"sub wraps", []Instruction{op(ClassALU|AluSUB, 1), retA}, false, 0xffffffff},
		{"neg", []Instruction{LoadImm(1), op(ClassALU|AluNEG, 0), retA}, false, 0xffffffff},
		{"div k", []Instruction{LoadImm(100), op(ClassALU|AluDIV, 7), retA}, false, 14},
		{"div by X zero returns 0", []Instruction{LoadImm(100), op(ClassALU|AluDIV|SrcX, 0), Ret(RetAllow)}, false, 0},
		{"div by X", []Instruction{op(ClassLDX|ModeIMM, 3), LoadImm(10), op(ClassALU|AluDIV|SrcX, 0), retA}, false, 3},
		{"lsh X masks to 5 bits", []Instruction{op(ClassLDX|ModeIMM, 33), LoadImm(1), op(ClassALU|AluLSH|SrcX, 0), retA}, false, 2},
		{"rsh X masks to 5 bits", []Instruction{op(ClassLDX|ModeIMM, 36), LoadImm(0x100), op(ClassALU|AluRSH|SrcX, 0), retA}, false, 0x10},
		{"and or xor", []Instruction{LoadImm(0xf0), op(ClassALU|AluOR, 0x0f), op(ClassALU|AluAND, 0x3c), op(ClassALU|AluXOR, 0xff), retA}, false, 0xc3},
		{"jeq true", []Instruction{LoadAbs(0), Jump(JmpJEQ, 59, 0, 1), Ret(1), Ret(2)}, false, 1},
		{"jeq false", []Instruction{LoadAbs(0), Jump(JmpJEQ, 58, 0, 1), Ret(1), Ret(2)}, false, 2},
		{"jgt", []Instruction{LoadAbs(0), Jump(JmpJGT, 59, 0, 1), Ret(1), Ret(2)}, false, 2},
		{"jge", []Instruction{LoadAbs(0), Jump(JmpJGE, 59, 0, 1), Ret(1), Ret(2)}, false, 1},
		{"jset", []Instruction{LoadAbs(0), Jump(JmpJSET, 0x8, 0, 1), Ret(1), Ret(2)}, false, 1},
		{"jeq X", []Instruction{op(ClassLDX|ModeIMM, 59), LoadAbs(0), {Op: ClassJMP | JmpJEQ | SrcX, Jf: 1}, Ret(1), Ret(2)}, false, 1},
		{"ja", []Instruction{Ja(1), Ret(1), Ret(2)}, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Run(tt.prog, d, tt.be)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Run = %#x, want %#x\n%s", got, tt.want, Disassemble(tt.prog))
			}
			if ref, ok := refRun(tt.prog, d, tt.be); !ok || ref != got {
				t.Fatalf("reference = %#x (ok %v), VM %#x", ref, ok, got)
			}
		})
	}
}

func TestRunInvalid(t *testing.T) {
	if _, err := Run([]Instruction{LoadAbs(3), Ret(0)}, Data{}, false); err == nil {
		t.Fatal("Run accepted an invalid program")
	}
	if n := PathLength([]Instruction{LoadAbs(0)}, Data{}, false); n != 0 {
		t.Fatalf("PathLength of invalid program = %d, want 0", n)
	}
}

func TestPathLengthAndTrace(t *testing.T) {
	prog := []Instruction{LoadAbs(0), Jump(JmpJEQ, 59, 0, 2), LoadAbs(16), Ret(RetAllow), Ret(RetErrno | 1)}
	tests := []struct {
		name string
		nr   int32
		pcs  []int
		want uint32
	}{
		{"execve", 59, []int{0, 1, 2, 3}, RetAllow},
		{"other", 1, []int{0, 1, 4}, RetErrno | 1},
	}
	p, err := NewProgram(prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Data{Nr: tt.nr}
			tr := p.Trace(d, false)
			if !slices.Equal(tr.PCs, tt.pcs) || tr.Result != tt.want {
				t.Fatalf("Trace = %v", tr)
			}
			if n := PathLength(prog, d, false); n != len(tt.pcs) {
				t.Fatalf("PathLength = %d, want %d", n, len(tt.pcs))
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	prog := []Instruction{LoadAbs(0), Jump(JmpJEQ, 59, 0, 1), Ret(RetAllow), Jump(JmpJGT, 100, 0, 1), Ret(RetLog), Ret(RetErrno | 1)}
	p, _ := NewProgram(prog)
	c := NewCoverage(p)
	c.Run(Data{Nr: 59}, false)
	c.Run(Data{Nr: 1}, false)
	want := []string{
		"instruction 3 (jgt #0x64, 4, 5): true branch never taken",
		"instruction 4 (ret LOG): never run",
	}
	if got := c.Missing(); !slices.Equal(got, want) {
		t.Fatalf("Missing = %q, want %q", got, want)
	}
	if cov, total := c.Branches(); cov != 3 || total != 4 {
		t.Fatalf("Branches = %d/%d, want 3/4", cov, total)
	}
	c2 := NewCoverage(p)
	c2.Run(Data{Nr: 200}, false)
	if err := c.Merge(c2); err != nil {
		t.Fatal(err)
	}
	if !c.Complete() || c.Runs() != 3 {
		t.Fatalf("after merge: missing %q, runs %d", c.Missing(), c.Runs())
	}
	if tk, nt := c.Branch(1); tk != 1 || nt != 2 {
		t.Fatalf("Branch(1) = %d, %d", tk, nt)
	}
}

// TestVMMatchesReference compares the VM with the reference interpreter on
// random valid programs and inputs.
func TestVMMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		b := make([]byte, 200)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		prog := genProgram(b)
		p, err := NewProgram(prog)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			d, be := randData(r), r.IntN(2) == 0
			got := p.Run(d, be)
			want, ok := refRun(prog, d, be)
			if !ok || got != want {
				t.Fatalf("program %d: VM %#x, reference %#x (ok %v) on %+v be=%v\n%s", i, got, want, ok, d, be, Disassemble(prog))
			}
		}
	}
}

func TestActionString(t *testing.T) {
	tests := []struct {
		v    uint32
		want string
	}{
		{RetAllow, "ALLOW"}, {RetErrno | 1, "ERRNO(1)"}, {RetKillThread, "KILL_THREAD"},
		{RetKillProcess, "KILL_PROCESS"}, {RetTrace | 5, "TRACE(5)"}, {RetTrap, "TRAP(0)"},
		{RetLog, "LOG"}, {RetUserNotif, "NOTIFY"}, {RetAllow | 3, "ALLOW(3)"}, {0x00010000, "0x00010000"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := ActionString(tt.v); got != tt.want {
				t.Fatalf("ActionString(%#x) = %q", tt.v, got)
			}
			if back, err := ParseAction(tt.want); err != nil || back != tt.v {
				t.Fatalf("ParseAction(%q) = %#x, %v", tt.want, back, err)
			}
		})
	}
	for _, bad := range []string{"NOPE", "ERRNO(70000)", "ERRNO(1", "ALLOW(x)"} {
		if _, err := ParseAction(bad); err == nil || !strings.Contains(err.Error(), "parse action") {
			t.Errorf("ParseAction(%q) = %v, want error", bad, err)
		}
	}
}

func BenchmarkProgramRun(b *testing.B) {
	// A linear list of 200 compares: the worst case of a naive filter.
	bl := &Builder{}
	allow := bl.NewLabel()
	bl.Emit(LoadAbs(OffsetNr))
	for nr := range uint32(200) {
		bl.IfTrue(JmpJEQ, nr+1000, allow)
	}
	bl.Emit(Ret(RetErrno | 1))
	bl.Place(allow)
	bl.Emit(Ret(RetAllow))
	prog, err := bl.Program()
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewProgram(prog)
	if err != nil {
		b.Fatal(err)
	}
	d := Data{Nr: 1199}
	b.ResetTimer()
	for b.Loop() {
		p.Run(d, false)
	}
}
