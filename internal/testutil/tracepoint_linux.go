package testutil

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// AttachEmptySysEnter attaches a program that does nothing to the raw
// sys_enter tracepoint, the hook the recorder uses, and returns its detach.
// Benchmarks run a workload under it to measure the floor: what any program
// there costs, since attaching one puts every system call of the machine on
// the kernel's slow path. It needs root.
func AttachEmptySysEnter(tb testing.TB) (detach func()) {
	tb.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.RawTracepoint,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		tb.Fatalf("load the empty program: %v", err)
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: prog})
	if err != nil {
		prog.Close()
		tb.Fatalf("attach the empty program to sys_enter: %v", err)
	}
	return func() {
		l.Close()
		prog.Close()
	}
}
