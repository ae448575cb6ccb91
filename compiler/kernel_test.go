package compiler_test

import (
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/internal/testutil/oracle"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// TestCompiledProgramsInKernel installs compiled programs in the real
// kernel (in a child process, every verdict rewritten to its own errno)
// and checks that the VM, which eval, explain and the Docker comparison
// rely on, gives the kernel's verdict for every x86_64 and x32 number a Go
// process can probe, with arguments around every value the profile names.
func TestCompiledProgramsInKernel(t *testing.T) {
	native, ok := oracle.Native()
	if !ok || native != syscalls.X86_64.Audit {
		t.Skip("the kernel oracle runs on x86_64 only")
	}
	cases := append([]corpusCase{{name: "docker-default"}}, corpus()...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := resolveCase(t, c, corpusJSON(c), false)
			prog, err := compiler.Compile(res, compiler.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var data []bpf.Data
			for _, in := range inputsFor(res, syscalls.X86_64, syscalls.X32) {
				if oracle.Probeable(in.data.Nr) {
					data = append(data, in.data)
				}
			}
			oracle.CompareVM(t, prog.Instructions, data)
		})
	}
}

// TestUnoptimizedProgramsInKernel does the same for the naive program the
// optimizer starts from, on the default profile.
func TestUnoptimizedProgramsInKernel(t *testing.T) {
	if native, ok := oracle.Native(); !ok || native != syscalls.X86_64.Audit {
		t.Skip("the kernel oracle runs on x86_64 only")
	}
	res, err := profile.Resolve(profile.MustDefault(), profile.Target{Arch: syscalls.X86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 18}, Caps: profile.DefaultCaps()})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(res, compiler.Options{NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	var data []bpf.Data
	for _, in := range inputsFor(res, syscalls.X86_64) {
		if oracle.Probeable(in.data.Nr) {
			data = append(data, in.data)
		}
	}
	oracle.CompareVM(t, prog.Instructions, data)
}
