package kernel

import (
	"debug/elf"
	"encoding/binary"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/elfexec"
)

// execStub builds the x86_64 program that Exec runs to install a filter
// and exec a command: a static ELF of a few hundred bytes that makes three
// system calls, seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog) and
// execve(argv[1], &argv[2], envp), and on failure write(2, message) and
// exit_group(126 or 127). No Go runtime runs between the install and the
// exec, so no runtime thread, signal handler (rt_sigreturn) or allocation
// can meet the filter before the command does. The filter is part of the
// image; it is called as `sysfence-exec PATH ARGV0 ARGV1…`.
func execStub(prog []bpf.Instruction, flags Flags) []byte {
	const base = 0x400000
	at := func(off int) uint64 { return base + elfexec.Header64Size + uint64(off) } // address of a body offset
	installMsg := []byte("sysfence: the kernel refused the seccomp filter\n")
	execMsg := []byte("sysfence: execve of the command failed under the filter\n")

	code := []byte{
		0x48, 0x89, 0xe3, // mov rbx, rsp (argc, argv…, 0, envp…)
		0xb8, 0x3d, 0x01, 0x00, 0x00, // mov eax, 317 (seccomp)
		0xbf, 0x01, 0x00, 0x00, 0x00, // mov edi, 1 (SECCOMP_SET_MODE_FILTER)
		0xbe, 0, 0, 0, 0, // mov esi, flags                    [14]
		0x48, 0xba, 0, 0, 0, 0, 0, 0, 0, 0, // movabs rdx, &fprog  [20]
		0x0f, 0x05, // syscall
		0x48, 0x85, 0xc0, // test rax, rax
		0x75, 0x2e, // jne install_failed (+46)
		0x48, 0x8b, 0x7b, 0x10, // mov rdi, [rbx+16]   (argv[1]: the path)
		0x48, 0x8d, 0x73, 0x18, // lea rsi, [rbx+24]   (&argv[2])
		0x48, 0x8b, 0x0b, // mov rcx, [rbx]      (argc)
		0x48, 0x8d, 0x54, 0xcb, 0x10, // lea rdx, [rbx+rcx*8+16] (envp)
		0xb8, 0x3b, 0x00, 0x00, 0x00, // mov eax, 59 (execve)
		0x0f, 0x05, // syscall
		0x41, 0xbc, 0x7f, 0x00, 0x00, 0x00, // mov r12d, 127
		0x48, 0xbe, 0, 0, 0, 0, 0, 0, 0, 0, // movabs rsi, execMsg  [66]
		0xba, 0, 0, 0, 0, // mov edx, len(execMsg)             [75]
		0xeb, 0x15, // jmp report (+21)
		// install_failed:
		0x41, 0xbc, 0x7e, 0x00, 0x00, 0x00, // mov r12d, 126
		0x48, 0xbe, 0, 0, 0, 0, 0, 0, 0, 0, // movabs rsi, installMsg [89]
		0xba, 0, 0, 0, 0, // mov edx, len(installMsg)          [98]
		// report:
		0xbf, 0x02, 0x00, 0x00, 0x00, // mov edi, 2
		0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (write)
		0x0f, 0x05, // syscall
		0x44, 0x89, 0xe7, // mov edi, r12d
		0xb8, 0xe7, 0x00, 0x00, 0x00, // mov eax, 231 (exit_group)
		0x0f, 0x05, // syscall
	}
	fprogOff := (len(code) + 7) &^ 7 // body offsets; the headers' 120 bytes keep 8-byte alignment
	filterOff := fprogOff + 16
	execMsgOff := filterOff + 8*len(prog)
	installMsgOff := execMsgOff + len(execMsg)
	size := installMsgOff + len(installMsg)

	le := binary.LittleEndian
	le.PutUint32(code[14:], uint32(flags))
	le.PutUint64(code[20:], at(fprogOff))
	le.PutUint64(code[66:], at(execMsgOff))
	le.PutUint32(code[75:], uint32(len(execMsg)))
	le.PutUint64(code[89:], at(installMsgOff))
	le.PutUint32(code[98:], uint32(len(installMsg)))

	body := make([]byte, size)
	copy(body, code)
	le.PutUint16(body[fprogOff:], uint16(len(prog))) // struct sock_fprog
	le.PutUint64(body[fprogOff+8:], at(filterOff))
	for i, ins := range prog {
		b := body[filterOff+8*i:]
		le.PutUint16(b, ins.Op)
		b[2], b[3] = ins.Jt, ins.Jf
		le.PutUint32(b[4:], ins.K)
	}
	copy(body[execMsgOff:], execMsg)
	copy(body[installMsgOff:], installMsg)
	return elfexec.Static64(elf.EM_X86_64, base, body)
}
