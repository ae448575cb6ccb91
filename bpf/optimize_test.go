package bpf

import (
	"math/rand/v2"
	"slices"
	"testing"
)

type passCase struct {
	name    string
	in      []Instruction
	want    []Instruction
	changed bool
}

func runPassCases(t *testing.T, pass Pass, cases []passCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got, changed := pass(in)
			if !slices.Equal(in, tt.in) {
				t.Fatal("pass modified its input")
			}
			if changed != tt.changed || !slices.Equal(got, tt.want) {
				t.Fatalf("changed=%v, got\n%swant (changed=%v)\n%s", changed, Disassemble(got), tt.changed, Disassemble(tt.want))
			}
			if err := Validate(got); err != nil {
				t.Fatalf("result invalid: %v", err)
			}
			checkEquivalent(t, tt.in, got, rand.New(rand.NewPCG(3, 4)), 200)
		})
	}
}

var (
	allowI = Ret(RetAllow)
	denyI  = Ret(RetErrno | 1)
	nrI    = LoadAbs(OffsetNr)
)

func TestThreadJumps(t *testing.T) {
	far := make([]Instruction, 0, 300)
	far = append(far, nrI, Jump(JmpJEQ, 1, 0, 1), Ja(299), Ja(0))
	for len(far) < 302 {
		far = append(far, denyI)
	}
	far = append(far, allowI)
	farWant := slices.Clone(far)
	farWant[1] = Jump(JmpJEQ, 1, 0, 1) // 300 does not fit: trampoline stays
	farWant = slices.Delete(farWant, 3, 4)
	farWant[2] = Ja(298)

	runPassCases(t, ThreadJumps, []passCase{
		{"nothing to do", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, denyI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, denyI}, false},
		{"builder trampolines", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), Ja(1), Ja(1), allowI, denyI},
			// jeq now jumps straight to 4 and 5; the dead ja's stay for dead code removal.
			[]Instruction{nrI, Jump(JmpJEQ, 1, 2, 3), Ja(1), Ja(1), allowI, denyI}, true},
		{"ja chain", []Instruction{Ja(0), Ja(1), allowI, denyI},
			[]Instruction{Ja(2), Ja(1), allowI, denyI}, true},
		{"ja 0 removed", []Instruction{nrI, Ja(0), Jump(JmpJEQ, 1, 0, 1), allowI, denyI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, denyI}, true},
		{"jt equals jf", []Instruction{nrI, Jump(JmpJEQ, 1, 1, 1), allowI, denyI},
			[]Instruction{nrI, Ja(1), allowI, denyI}, true},
		{"both to next", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 0), allowI},
			[]Instruction{nrI, allowI}, true},
		{"known repeat", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 2), Jump(JmpJEQ, 1, 0, 1), denyI, allowI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 1, 2), Jump(JmpJEQ, 1, 0, 1), denyI, allowI}, true},
		{"known after jeq true", []Instruction{nrI, Jump(JmpJEQ, 5, 0, 3), Jump(JmpJGT, 3, 0, 1), denyI, allowI, Ret(RetLog)},
			[]Instruction{nrI, Jump(JmpJEQ, 5, 1, 3), Jump(JmpJGT, 3, 0, 1), denyI, allowI, Ret(RetLog)}, true},
		{"unknown after jeq false", []Instruction{nrI, Jump(JmpJEQ, 5, 1, 0), Jump(JmpJGT, 3, 0, 1), denyI, allowI},
			[]Instruction{nrI, Jump(JmpJEQ, 5, 1, 0), Jump(JmpJGT, 3, 0, 1), denyI, allowI}, false},
		{"trampoline kept when far", far, farWant, true},
	})
}

func TestRemoveDeadCode(t *testing.T) {
	runPassCases(t, RemoveDeadCode, []passCase{
		{"all live", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, denyI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, denyI}, false},
		{"dead trampolines", []Instruction{nrI, Jump(JmpJEQ, 1, 2, 3), Ja(1), Ja(1), allowI, denyI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, denyI}, true},
		{"after ret", []Instruction{allowI, nrI, denyI}, []Instruction{allowI}, true},
		{"skipped by ja", []Instruction{Ja(2), denyI, denyI, allowI}, []Instruction{Ja(0), allowI}, true},
	})
}

func TestRemoveRedundantLoads(t *testing.T) {
	arg := LoadAbs(16)
	runPassCases(t, RemoveRedundantLoads, []passCase{
		{"reload after jump", []Instruction{nrI, Jump(JmpJEQ, 1, 2, 0), nrI, Jump(JmpJEQ, 2, 0, 1), allowI, denyI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 1, 0), Jump(JmpJEQ, 2, 0, 1), allowI, denyI}, true},
		{"join with different word", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), arg, nrI, Jump(JmpJEQ, 2, 0, 1), allowI, denyI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), arg, nrI, Jump(JmpJEQ, 2, 0, 1), allowI, denyI}, false},
		{"join with same word", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), nrI, nrI, Jump(JmpJEQ, 2, 0, 1), allowI, denyI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 0, 0), Jump(JmpJEQ, 2, 0, 1), allowI, denyI}, true},
		{"clobbered by alu", []Instruction{nrI, AndK(1), nrI, {Op: ClassRET | RetA}},
			[]Instruction{nrI, AndK(1), nrI, {Op: ClassRET | RetA}}, false},
		{"clobbered by txa", []Instruction{nrI, {Op: ClassMISC | MiscTXA}, nrI, {Op: ClassRET | RetA}},
			[]Instruction{nrI, {Op: ClassMISC | MiscTXA}, nrI, {Op: ClassRET | RetA}}, false},
		{"kept across st and tax", []Instruction{LoadImm(3), {Op: ClassST}, {Op: ClassMISC | MiscTAX}, LoadImm(3), {Op: ClassRET | RetA}},
			[]Instruction{LoadImm(3), {Op: ClassST}, {Op: ClassMISC | MiscTAX}, {Op: ClassRET | RetA}}, true},
		{"first load stays", []Instruction{LoadImm(0), {Op: ClassRET | RetA}},
			[]Instruction{LoadImm(0), {Op: ClassRET | RetA}}, false},
	})
}

func TestMergeReturns(t *testing.T) {
	runPassCases(t, MergeReturns, []passCase{
		{"ja to ret", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), Ja(1), denyI, allowI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, denyI, allowI}, true},
		{"share last identical ret", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, Jump(JmpJEQ, 2, 0, 1), allowI, denyI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 2, 1), allowI, Jump(JmpJEQ, 2, 0, 1), allowI, denyI}, true},
		{"different rets", []Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, denyI},
			[]Instruction{nrI, Jump(JmpJEQ, 1, 0, 1), allowI, denyI}, false},
	})
}

func TestOptimize(t *testing.T) {
	b := &Builder{}
	allow, deny, check := b.NewLabel(), b.NewLabel(), b.NewLabel()
	b.Emit(LoadAbs(OffsetArch))
	b.IfFalse(JmpJEQ, 0xc000003e, deny)
	b.Emit(LoadAbs(OffsetNr))
	b.IfTrue(JmpJEQ, 59, check)
	b.Emit(LoadAbs(OffsetNr))
	b.IfTrue(JmpJEQ, 1, allow)
	b.Goto(deny)
	b.Place(check)
	b.Emit(LoadAbs(16))
	b.If(JmpJEQ, 0, allow, deny)
	b.Place(allow)
	b.Emit(Ret(RetAllow))
	b.Place(deny)
	b.Emit(Ret(RetErrno | 1))
	prog, err := b.Program()
	if err != nil {
		t.Fatal(err)
	}
	got := Optimize(prog)
	want, err := Assemble(`
		ld [4]
		jeq #0xc000003e, next, deny
		ld [0]
		jeq #59, check, next
		jeq #1, allow, deny
		check: ld [16]
		jeq #0, allow, deny
		allow: ret ALLOW
		deny: ret ERRNO(1)`)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Optimize:\n%swant\n%s", Disassemble(got), Disassemble(want))
	}
	checkEquivalent(t, prog, got, rand.New(rand.NewPCG(5, 6)), 1000)
}

func TestOptimizeInvalidUnchanged(t *testing.T) {
	in := []Instruction{LoadAbs(3), Ja(5)}
	if got := Optimize(in); !slices.Equal(got, in) {
		t.Fatalf("Optimize changed an invalid program:\n%s", Disassemble(got))
	}
}

// TestOptimizeEquivalenceRandom checks Optimize on random valid programs
// and on random Builder programs.
func TestOptimizeEquivalenceRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 1500 {
		b := make([]byte, 256)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		checkOptimize(t, genProgram(b), r)
		checkOptimize(t, genBuilderProgram(r), r)
		_ = i
	}
}

func checkOptimize(t *testing.T, prog []Instruction, r *rand.Rand) {
	t.Helper()
	for _, pass := range Passes {
		out, _ := pass(prog)
		if err := Validate(out); err != nil {
			if usesMemory(prog) {
				continue // the kernel's scratch-memory check is order-sensitive; Optimize drops such results
			}
			t.Fatalf("a pass made an invalid program: %v\n%s\nto\n%s", err, Disassemble(prog), Disassemble(out))
		}
		checkEquivalent(t, prog, out, r, 50)
	}
	opt := Optimize(prog)
	if err := Validate(opt); err != nil {
		t.Fatalf("Optimize returned an invalid program: %v", err)
	}
	if len(opt) > len(prog) {
		t.Fatalf("Optimize grew the program from %d to %d", len(prog), len(opt))
	}
	checkEquivalent(t, prog, opt, r, 200)
	if again := Optimize(opt); !slices.Equal(again, opt) {
		t.Fatalf("Optimize is not at a fixpoint:\n%s\nthen\n%s", Disassemble(opt), Disassemble(again))
	}
}

func usesMemory(prog []Instruction) bool {
	return slices.ContainsFunc(prog, func(i Instruction) bool { return i.Op == ClassLD|ModeMEM || i.Op == ClassLDX|ModeMEM })
}

// checkEquivalent compares two programs on inputs built from the
// constants of a, their neighbours and random words.
func checkEquivalent(t *testing.T, a, b []Instruction, r *rand.Rand, n int) {
	t.Helper()
	pa, err := NewProgram(a)
	if err != nil {
		t.Fatalf("first program invalid: %v", err)
	}
	pb, err := NewProgram(b)
	if err != nil {
		t.Fatalf("second program invalid: %v\n%s", err, Disassemble(b))
	}
	consts := constants(a)
	for range n {
		d, be := dataFrom(consts, r), r.IntN(2) == 0
		if va, vb := pa.Run(d, be), pb.Run(d, be); va != vb {
			t.Fatalf("verdicts differ on %+v (be %v): %s vs %s\n%s\nvs\n%s", d, be,
				ActionString(va), ActionString(vb), Disassemble(a), Disassemble(b))
		}
	}
}

func constants(prog []Instruction) []uint32 {
	out := []uint32{0, 1, 0xffffffff}
	for _, ins := range prog {
		if ins.IsConditionalJump() {
			out = append(out, ins.K, ins.K-1, ins.K+1)
		}
	}
	return out
}

func dataFrom(consts []uint32, r *rand.Rand) Data {
	w := func() uint32 {
		if r.IntN(4) == 0 {
			return r.Uint32()
		}
		return consts[r.IntN(len(consts))]
	}
	d := Data{Nr: int32(w()), Arch: w(), IP: uint64(w()) | uint64(w())<<32}
	for i := range d.Args {
		d.Args[i] = uint64(w()) | uint64(w())<<32
	}
	return d
}

// genBuilderProgram builds a random decision tree with Builder, the way
// the compiler emits code: naive conditionals and shared return labels.
func genBuilderProgram(r *rand.Rand) []Instruction {
	b := &Builder{}
	acts := []uint32{RetAllow, RetErrno | 1, RetKillProcess, RetLog}
	rets := make([]Label, len(acts))
	for i := range rets {
		rets[i] = b.NewLabel()
	}
	var tree func(depth int)
	tree = func(depth int) {
		if depth == 0 || r.IntN(4) == 0 {
			if r.IntN(3) == 0 {
				b.Emit(Ret(acts[r.IntN(len(acts))]))
			} else {
				b.Goto(rets[r.IntN(len(rets))])
			}
			return
		}
		b.Emit(LoadAbs(uint32(4 * r.IntN(6))))
		if r.IntN(4) == 0 {
			b.Emit(AndK(uint32(r.IntN(16))))
		}
		ops := []uint16{JmpJEQ, JmpJGT, JmpJGE, JmpJSET}
		then, other := b.NewLabel(), b.NewLabel()
		b.If(ops[r.IntN(len(ops))], uint32(r.IntN(8)), then, other)
		b.Place(then)
		tree(depth - 1)
		b.Place(other)
		tree(depth - 1)
	}
	tree(1 + r.IntN(6))
	for i, l := range rets {
		b.Place(l)
		b.Emit(Ret(acts[i]))
	}
	prog, err := b.Program()
	if err != nil {
		panic(err)
	}
	return prog
}
