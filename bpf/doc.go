// Package bpf is classic BPF as seccomp uses it: instructions, a label
// builder, a validator equal to the kernel's checks, a VM over seccomp_data
// with tracing and coverage, a disassembler and assembler, optimizer passes,
// and an emulation of the kernel's seccomp action cache.
//
// It knows nothing of profiles or JSON.
package bpf
