package compiler_test

import (
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// Benchmarks for the README's speed figures, on Docker's default profile
// for an x86_64 host with Docker's default capabilities:
//
//	go test -run '^$' -bench . -count 6 ./compiler | tee bench.txt
//	benchstat bench.txt
//
// Path lengths (instructions run per syscall) are deterministic, so they
// are not benchmarks: TestLayoutComparison (build tag libseccomp) logs them
// side by side with libseccomp's layouts, and `sysfence compile --stats`
// prints ours.

var benchTarget = profile.Target{
	Arch:   syscalls.X86_64,
	Kernel: profile.KernelVersion{Major: 6, Minor: 18},
	Caps:   profile.DefaultCaps(),
}

// benchResolved is Docker's default profile resolved for benchTarget.
func benchResolved(tb testing.TB) *profile.Resolved {
	tb.Helper()
	res, err := profile.Resolve(profile.MustDefault(), benchTarget)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// BenchmarkResolveDefault measures Docker's and runc's processing of the
// default profile (includes/excludes, one rule per name).
func BenchmarkResolveDefault(b *testing.B) {
	p := profile.MustDefault()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := profile.Resolve(p, benchTarget); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileDefault measures Compile alone, from a resolved profile
// to an optimized, validated program.
func BenchmarkCompileDefault(b *testing.B) {
	res := benchResolved(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compiler.Compile(res, compiler.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVMDefault runs the compiled default program in the VM once for
// every x86_64 syscall number, all arguments zero: one op is a full sweep.
func BenchmarkVMDefault(b *testing.B) {
	prog, err := compiler.Compile(benchResolved(b), compiler.Options{})
	if err != nil {
		b.Fatal(err)
	}
	vm, err := bpf.NewProgram(prog.Instructions)
	if err != nil {
		b.Fatal(err)
	}
	a := syscalls.X86_64
	inputs := make([]bpf.Data, 0, a.Max()+1)
	for nr := a.Min(); nr <= a.Max(); nr++ {
		inputs = append(inputs, bpf.Data{Nr: int32(nr), Arch: a.Audit})
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range inputs {
			vm.Run(d, false)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(inputs)), "ns/syscall")
}
