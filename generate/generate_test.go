package generate

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/recorder"
	"github.com/sysfence/sysfence/syscalls"
)

// call builds an observed call of arch by name.
func call(t *testing.T, arch *syscalls.Arch, name string, count uint64, sets ...recorder.ArgSet) recorder.Call {
	t.Helper()
	nr, ok := arch.Number(name)
	if !ok {
		t.Fatalf("%s has no %s", arch, name)
	}
	return recorder.Call{Nr: nr, Name: name, Count: count, Args: sets}
}

func values(capture string, vs ...uint64) recorder.ArgSet {
	set := recorder.ArgSet{Capture: capture}
	for _, v := range vs {
		set.Values = append(set.Values, []uint64{v})
	}
	return set
}

func sampleObservation(t *testing.T) *recorder.Observation {
	x := syscalls.X86_64
	return &recorder.Observation{Backend: "ebpf", Target: "command: test", ABIs: []recorder.ABI{{Arch: "x86_64", Calls: []recorder.Call{
		call(t, x, "read", 10),
		call(t, x, "write", 5),
		call(t, x, "execve", 1),
		call(t, x, "socket", 3, values("socket.family", 1, 2), values("socket.type", 1, 2)),
		call(t, x, "clone", 2, values("clone.flags", 0x3d0f00, 0x1200011)),
		call(t, x, "mmap", 7, values("mmap.prot", 1, 3, 5)),
		call(t, x, "mprotect", 4, values("mprotect.prot", 0, 1, 3)),
		call(t, x, "setsockopt", 1, recorder.ArgSet{Capture: "setsockopt.option", Values: [][]uint64{{1, 2}}}),
		call(t, x, "ioctl", 9, recorder.ArgSet{Capture: "ioctl.request", Overflow: true, Values: [][]uint64{{0x5401}}}),
	}}}}
}

// compiled compiles p for an x86_64 Docker host.
func compiled(t *testing.T, p *profile.Profile) []bpf.Instruction {
	t.Helper()
	res, err := profile.Resolve(p, profile.Target{Arch: syscalls.X86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 18}, Caps: profile.DefaultCaps()})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(res, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return prog.Instructions
}

// verdict runs the filter on one x86_64 call.
func verdict(t *testing.T, prog []bpf.Instruction, name string, args ...uint64) string {
	t.Helper()
	nr, ok := syscalls.X86_64.Number(name)
	if !ok {
		t.Fatalf("no syscall %s", name)
	}
	d := bpf.Data{Nr: int32(nr), Arch: syscalls.X86_64.Audit}
	copy(d.Args[:], args)
	ret, err := bpf.Run(prog, d, false)
	if err != nil {
		t.Fatal(err)
	}
	return profile.FormatRet(ret)
}

func TestProfileVerdicts(t *testing.T) {
	p, err := Profile(sampleObservation(t), Options{Args: true})
	if err != nil {
		t.Fatal(err)
	}
	prog := compiled(t, p)
	for _, c := range []struct {
		name string
		args []uint64
		want string
	}{
		{"read", nil, "ALLOW"},
		{"execve", nil, "ALLOW"},
		{"socket", []uint64{1, 1}, "ALLOW"},
		{"socket", []uint64{2, 2}, "ALLOW"},
		{"socket", []uint64{10, 1}, "ERRNO(1)"}, // AF_INET6 was never seen
		{"socket", []uint64{38, 5}, "ERRNO(1)"}, // AF_ALG
		{"clone", []uint64{0x1200011}, "ALLOW"},
		{"clone", []uint64{0x10000000}, "ERRNO(1)"}, // CLONE_NEWUSER
		{"mmap", []uint64{0, 4096, 7}, "ALLOW"},     // both PROT_EXEC and not were seen
		{"mprotect", []uint64{0, 4096, 3}, "ALLOW"},
		{"mprotect", []uint64{0, 4096, 5}, "ERRNO(1)"}, // PROT_EXEC never seen
		{"setsockopt", []uint64{3, 1, 2}, "ALLOW"},
		{"setsockopt", []uint64{3, 1, 9}, "ERRNO(1)"},
		{"ioctl", []uint64{1, 0x5412}, "ALLOW"}, // the values overflowed: no condition
		{"keyctl", nil, "ERRNO(1)"},
		{"unshare", []uint64{0x10000000}, "ERRNO(1)"},
		{"clone3", nil, "ERRNO(38)"},
		{"openat2", nil, "ERRNO(38)"},
	} {
		if got := verdict(t, prog, c.name, c.args...); got != c.want {
			t.Errorf("%s%v = %s, want %s", c.name, c.args, got, c.want)
		}
	}
	if p.DefaultAction != profile.Errno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != profile.EPERM {
		t.Errorf("default = %v/%v, want SCMP_ACT_ERRNO with an explicit EPERM", p.DefaultAction, p.DefaultErrnoRet)
	}
}

func TestProfileWithoutArgsIsUnconditional(t *testing.T) {
	p, err := Profile(sampleObservation(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Syscalls {
		if len(e.Args) > 0 {
			t.Errorf("entry %v has argument conditions without --args", e.Names)
		}
	}
	if got := verdict(t, compiled(t, p), "socket", 10, 1); got != "ALLOW" {
		t.Errorf("socket(AF_INET6) = %s, want ALLOW without --args", got)
	}
	if len(p.Syscalls[0].Names) != 9 {
		t.Errorf("the ALLOW entry has %d names, want the 9 observed: %v", len(p.Syscalls[0].Names), p.Syscalls[0].Names)
	}
}

func TestProfileIsDeterministic(t *testing.T) {
	want, err := encodeProfile(sampleObservation(t))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		o := sampleObservation(t)
		calls := o.ABIs[0].Calls
		r.Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })
		got, err := encodeProfile(o)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("the same calls in another order give another profile:\n%s\nvs\n%s", got, want)
		}
	}
}

func encodeProfile(o *recorder.Observation) ([]byte, error) {
	p, err := Profile(o, Options{Args: true})
	if err != nil {
		return nil, err
	}
	return profile.Encode(p, profile.FormatDocker)
}

func TestProfileArchitecturesAndComments(t *testing.T) {
	o := sampleObservation(t)
	o.ABIs = append(o.ABIs, recorder.ABI{Arch: "x86", Calls: []recorder.Call{call(t, syscalls.X86, "socketcall", 2, values("socketcall.call", 1))}})
	o.Lost = recorder.Loss{MapFull: 3}
	p, err := Profile(o, Options{Args: true})
	if err != nil {
		t.Fatal(err)
	}
	var arches []string
	for _, a := range p.Architectures {
		arches = append(arches, a.OCI)
	}
	if want := []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}; !slices.Equal(arches, want) {
		t.Errorf("architectures = %v, want %v", arches, want)
	}
	first := p.Syscalls[0].Comment
	for _, want := range []string{"WARNING: the recording lost data (3 values refused by a full map)", "read 10", "write 5"} {
		if !strings.Contains(first, want) {
			t.Errorf("comment %q lacks %q", first, want)
		}
	}
	for _, e := range p.Syscalls {
		if e.Comment == "" && len(e.Args) == 0 {
			t.Errorf("entry %v has no comment", e.Names)
		}
	}
}

func TestProfileRefusals(t *testing.T) {
	if _, err := Profile(&recorder.Observation{}, Options{}); err == nil || !strings.Contains(err.Error(), "no system calls") {
		t.Errorf("empty observation: err = %v", err)
	}
	o := &recorder.Observation{ABIs: []recorder.ABI{{Arch: "x86_64", Calls: []recorder.Call{{Nr: 499, Count: 1}}}}}
	if _, err := Profile(o, Options{}); err == nil || !strings.Contains(err.Error(), "x86_64 call number 499") {
		t.Errorf("unknown number: err = %v", err)
	}
}
