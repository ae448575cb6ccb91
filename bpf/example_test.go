package bpf_test

import (
	"fmt"

	"github.com/sysfence/sysfence/bpf"
)

func Example() {
	prog, err := bpf.Assemble(`
		ld [4]                               ; arch
		jeq #0xc000003e, next, kill
		ld [0]                               ; nr
		jeq #59, deny, next                  ; execve
		ret ALLOW
		deny: ret ERRNO(1)
		kill: ret KILL_PROCESS`)
	if err != nil {
		panic(err)
	}
	fmt.Print(bpf.Disassemble(bpf.Optimize(prog)))
	verdicts, err := bpf.Eval(prog, []bpf.Data{{Nr: 59, Arch: 0xc000003e}, {Nr: 0, Arch: 0xc000003e}, {Arch: 3}}, false)
	if err != nil {
		panic(err)
	}
	for _, v := range verdicts {
		fmt.Println(bpf.ActionString(v))
	}
	// Output:
	// 0000: ld [4]                             ; arch
	// 0001: jeq #0xc000003e, 2, 6              ; AUDIT_ARCH_X86_64
	// 0002: ld [0]                             ; nr
	// 0003: jeq #0x3b, 5, 4                    ; execve
	// 0004: ret ALLOW
	// 0005: ret ERRNO(1)
	// 0006: ret KILL_PROCESS
	// ERRNO(1)
	// ALLOW
	// KILL_PROCESS
}
