package libseccomptest

import (
	"slices"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// dockerStub is the first 14 instructions of the filter that Docker 20.10
// (runc 1.1.5, libseccomp 2.5.4) loaded for its default profile on an
// x86_64 host, read back with PTRACE_SECCOMP_GET_FILTER.
var dockerStub = []bpf.Instruction{
	{Op: 0x20, K: 4},
	{Op: 0x15, Jt: 7, Jf: 0, K: 0x40000003},
	{Op: 0x15, Jt: 1, Jf: 0, K: 0xc000003e},
	{Op: 0x05, K: 10},
	{Op: 0x20, K: 0},
	{Op: 0x45, Jt: 1, Jf: 0, K: 0x40000000},
	{Op: 0x25, Jt: 6, Jf: 1, K: 0x1c8},
	{Op: 0x25, Jt: 5, Jf: 0, K: 0x40000223},
	{Op: 0x05, K: 5},
	{Op: 0x20, K: 0},
	{Op: 0x25, Jt: 2, Jf: 0, K: 0x1c8},
	{Op: 0x05, K: 2},
	{Op: 0x05, K: 1},
	{Op: 0x06, K: 0x50026},
}

func TestStubMatchesDocker(t *testing.T) {
	got, err := Stub([]StubBound{
		{Arch: syscalls.X86_64, Max: 0x1c8},
		{Arch: syscalls.X86, Max: 0x1c8},
		{Arch: syscalls.X32, Max: 0x40000223},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, dockerStub) {
		t.Errorf("stub differs from Docker's:\n got %v\nwant %v", got, dockerStub)
	}
}

// TestStubVerdicts runs each stub in front of `ret ALLOW`: numbers above
// the bound of their ABI get ENOSYS, everything else reaches the filter.
func TestStubVerdicts(t *testing.T) {
	allow := profile.RetAllow
	tests := []struct {
		name   string
		bounds []StubBound
		arch   uint32
		nr     uint32
		want   uint32
	}{
		{"x86_64 in range", []StubBound{{syscalls.X86_64, 300}}, syscalls.X86_64.Audit, 300, allow},
		{"x86_64 above", []StubBound{{syscalls.X86_64, 300}}, syscalls.X86_64.Audit, 301, enosys},
		{"x86_64 alone skips x32", []StubBound{{syscalls.X86_64, 300}}, syscalls.X86_64.Audit, syscalls.X32Bit + 900, allow},
		{"x32 alone skips x86_64", []StubBound{{syscalls.X32, syscalls.X32Bit + 10}}, syscalls.X86_64.Audit, 900, allow},
		{"x32 above", []StubBound{{syscalls.X32, syscalls.X32Bit + 10}}, syscalls.X86_64.Audit, syscalls.X32Bit + 11, enosys},
		{"both x86_64 above", []StubBound{{syscalls.X86_64, 300}, {syscalls.X32, syscalls.X32Bit + 10}}, syscalls.X86_64.Audit, 301, enosys},
		{"both x32 in range", []StubBound{{syscalls.X86_64, 300}, {syscalls.X32, syscalls.X32Bit + 10}}, syscalls.X86_64.Audit, syscalls.X32Bit + 10, allow},
		{"other arch", []StubBound{{syscalls.X86_64, 300}}, syscalls.X86.Audit, 900, allow},
		{"s390x setup", []StubBound{{syscalls.MustLookup("s390x"), 300}}, syscalls.MustLookup("s390x").Audit, 0, enosys},
		{"s390x in range", []StubBound{{syscalls.MustLookup("s390x"), 300}}, syscalls.MustLookup("s390x").Audit, 1, allow},
		{"no bounds", nil, syscalls.X86_64.Audit, 900, allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, err := Stub(tt.bounds)
			if err != nil {
				t.Fatal(err)
			}
			prog := append(stub, bpf.Ret(allow))
			got, err := bpf.Run(prog, bpf.Data{Nr: int32(tt.nr), Arch: tt.arch}, false)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("verdict %s, want %s", profile.FormatRet(got), profile.FormatRet(tt.want))
			}
		})
	}
}
