package audit

import (
	"fmt"
	"testing"

	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

func TestMissing(t *testing.T) {
	p, err := profile.Decode([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
		"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
		{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := profile.Resolve(p, profile.Target{Arch: syscalls.X86_64, Kernel: profile.KernelVersion{Major: 6, Minor: 18}})
	if err != nil {
		t.Fatal(err)
	}
	line := func(arch string, nr int, code string) string {
		return fmt.Sprintf(`type=SECCOMP msg=audit(1764240000.100:1): pid=10 comm="a" exe="/a" sig=0 arch=%s syscall=%d compat=0 ip=0x1 code=%s`, arch, nr, code)
	}
	var s Summary
	for _, r := range records(t,
		line("c000003e", 83, "0x7ffc0000"),         // mkdir, x86_64
		line("40000003", 39, "0x7ffc0000"),         // mkdir, i386
		line("c000003e", 84, "0x7ffc0000"),         // rmdir, x86_64 only
		line("c000003e", 84, "0x7ffc0000"),         // twice
		line("40000003", 40, "0x7ffc0000"),         // rmdir, i386 also
		line("40000003", 13, "0x7ffc0000"),         // time, i386 only
		line("c000003e", 0, "0x7ffc0000"),          // read: allowed already
		line("c000003e", 135, "0x7ffc0000"),        // personality: allowed only for 0
		line("c000003e", 1073741907, "0x7ffc0000"), // x32 mkdir: not covered
		line("c000003e", 1005, "0x7ffc0000"),       // no name
		line("c000003e", 1, "0x7fff0000"),          // ALLOW
	) {
		s.Add(r)
	}
	added, skipped := Missing(res, s.Groups())
	got := fmt.Sprint(added)
	want := "[{[x86 x86_64] [mkdir rmdir] 5} {[x86_64] [personality] 1} {[x86] [time] 1}]"
	if got != want {
		t.Errorf("added %s\nwant  %s", got, want)
	}
	if len(skipped) != 2 {
		t.Errorf("skipped %q, want the x32 call and #1005", skipped)
	}
}
