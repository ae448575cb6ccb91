//go:build libseccomp

package libseccomptest

import (
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

func resolvedDefault(t *testing.T) *profile.Resolved {
	t.Helper()
	res, err := profile.Resolve(profile.MustDefault(), profile.Target{
		Arch: syscalls.X86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 18}, Caps: profile.DefaultCaps(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestBuildDefault(t *testing.T) {
	res := resolvedDefault(t)
	for _, level := range []int{Linear, BinaryTree} {
		prog, err := BuildRunc(res, level)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := bpf.NewProgram(prog)
		if err != nil {
			t.Fatalf("optimize %d: %v", level, err)
		}
		tests := []struct {
			arch *syscalls.Arch
			name string
			args [6]uint64
			want string
		}{
			{syscalls.X86_64, "read", [6]uint64{}, "ALLOW"},
			{syscalls.X86_64, "reboot", [6]uint64{}, "ERRNO(1)"},
			{syscalls.X86_64, "personality", [6]uint64{0xffffffff}, "ALLOW"},
			{syscalls.X86_64, "personality", [6]uint64{1}, "ERRNO(1)"},
			{syscalls.X86_64, "socket", [6]uint64{40}, "ERRNO(1)"},
			{syscalls.X86, "read", [6]uint64{}, "ALLOW"},
			{syscalls.X32, "read", [6]uint64{}, "ALLOW"},
		}
		for _, tt := range tests {
			nr, _ := tt.arch.Number(tt.name)
			got := profile.FormatRet(vm.Run(bpf.Data{Nr: int32(nr), Arch: tt.arch.Audit, Args: tt.args}, false))
			if got != tt.want {
				t.Errorf("optimize %d: %s %s%v = %s, want %s", level, tt.arch, tt.name, tt.args, got, tt.want)
			}
		}
		above := bpf.Data{Nr: int32(syscalls.X86_64.Max() + 1), Arch: syscalls.X86_64.Audit}
		if got := profile.FormatRet(vm.Run(above, false)); got != "ERRNO(38)" {
			t.Errorf("optimize %d: number above the table = %s, want the stub's ERRNO(38)", level, got)
		}
	}
}

func TestBuildRejectsLevel(t *testing.T) {
	if _, err := Build(resolvedDefault(t), 3); err == nil {
		t.Error("optimize level 3 accepted")
	}
}

func TestKnown(t *testing.T) {
	tests := []struct {
		arch *syscalls.Arch
		name string
		want bool
	}{
		{syscalls.X86_64, "read", true},
		{syscalls.X32, "read", true},
		{syscalls.X86, "socketcall", true},
		{syscalls.X86_64, "socketcall", false}, // not in our x86_64 table
		{syscalls.X86, "socket", true},         // multiplexed: -101, direct 359 as well
		{syscalls.X32, "map_shadow_stack", false},
		{syscalls.X86_64, "no_such_call", false},
	}
	for _, tt := range tests {
		if got := Known(tt.arch, tt.name); got != tt.want {
			t.Errorf("Known(%s, %s) = %v, want %v", tt.arch, tt.name, got, tt.want)
		}
	}
}

func TestStubBoundsDefault(t *testing.T) {
	bounds := StubBounds(resolvedDefault(t))
	if len(bounds) != 3 {
		t.Fatalf("bounds %v, want x86_64, x86 and x32", bounds)
	}
	for _, b := range bounds {
		if b.Max > b.Arch.Max() || b.Max < b.Arch.Min()+300 {
			t.Errorf("%s bound %#x outside its table", b.Arch, b.Max)
		}
	}
}
