package oracle

import (
	"reflect"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

func TestRewrite(t *testing.T) {
	prog := []bpf.Instruction{
		bpf.LoadAbs(bpf.OffsetNr),
		bpf.Jump(bpf.JmpJEQ, 1001, 0, 1),
		bpf.Ret(bpf.RetKillProcess),
		bpf.Ret(bpf.RetAllow),
	}
	rets, err := returnValues(prog)
	if err != nil {
		t.Fatal(err)
	}
	got := rewrite(prog, rets, []int32{1001, -1})
	want := []bpf.Instruction{
		bpf.LoadAbs(bpf.OffsetNr),
		bpf.Jump(bpf.JmpJEQ, 1001, 0, 1), bpf.Ja(3),
		bpf.Jump(bpf.JmpJEQ, 0xffffffff, 0, 1), bpf.Ja(1),
		bpf.Ret(bpf.RetAllow),
		bpf.LoadImm(0),
		{Op: bpf.ClassLDX | bpf.ModeIMM},
		bpf.LoadAbs(bpf.OffsetNr),
		bpf.Jump(bpf.JmpJEQ, 1001, 0, 1),
		bpf.Ret(bpf.RetErrno | errnoBase),
		bpf.Ret(bpf.RetErrno | errnoBase + 1),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rewrite:\n%s\nwant:\n%s", bpf.Disassemble(got), bpf.Disassemble(want))
	}
	if err := bpf.Validate(got); err != nil {
		t.Errorf("rewritten program invalid: %v", err)
	}
}

func TestReturnValuesRefuses(t *testing.T) {
	tests := []struct {
		name string
		prog []bpf.Instruction
	}{
		{"ret a", []bpf.Instruction{{Op: bpf.ClassRET | bpf.RetA}}},
		{"ip load", []bpf.Instruction{bpf.LoadAbs(bpf.OffsetIP), bpf.Ret(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := returnValues(tt.prog); err == nil {
				t.Errorf("returnValues accepted %s", tt.name)
			}
		})
	}
}

func TestBatches(t *testing.T) {
	var data []bpf.Data
	for i := range 2*maxProbes + 1 {
		data = append(data, bpf.Data{Nr: int32(1000 + i)}, bpf.Data{Nr: int32(1000 + i)})
	}
	got := batches(data, make([]bpf.Instruction, 10))
	if len(got) != 3 || len(got[0].nrs) != maxProbes || len(got[2].data) != 2 {
		t.Errorf("batches: %d batches, first with %d numbers, last with %d calls", len(got), len(got[0].nrs), len(got[len(got)-1].data))
	}
}

// TestKernelVerdicts pins the oracle to verdicts known from the kernel's
// documentation, every action among them.
func TestKernelVerdicts(t *testing.T) {
	native, ok := Native()
	if !ok {
		t.Skip("the kernel oracle makes x86_64 system calls")
	}
	prog, err := bpf.Assemble(`
		ld [0]
		jeq #1001, errno, n2
	errno:	ret ERRNO(5)
	n2:	jeq #1002, kill, n3
	kill:	ret KILL_PROCESS
	n3:	jeq #1003, trap, n4
	trap:	ret TRAP(1)
	n4:	jeq #1004, thread, allow
	thread:	ret KILL_THREAD
	allow:	ret ALLOW`)
	if err != nil {
		t.Fatal(err)
	}
	var data []bpf.Data
	for _, nr := range []int32{1001, 1002, 1003, 1004, 1005, 110} {
		data = append(data, bpf.Data{Nr: nr, Arch: native})
	}
	got := KernelVerdicts(t, prog, data)
	want := []uint32{bpf.RetErrno | 5, bpf.RetKillProcess, bpf.RetTrap | 1, bpf.RetKillThread, bpf.RetAllow, bpf.RetAllow}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KernelVerdicts = %#x, want %#x", got, want)
	}
}
