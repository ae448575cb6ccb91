// Package dockertest is the Docker harness for sysfence's tests: it builds
// (offline, once per content) a tiny image FROM scratch holding static
// binaries, starts containers under a given seccomp profile, and reads
// back the filters the kernel really gave them.
//
// The image holds:
//
//	/probe   a static Go program (see ./probe): `/probe sleep`,
//	         `/probe syscall NR [A0 … A5]`
//	/spin    a 122-byte hand-made ELF whose whole program is `jmp .`: it
//	         makes no system call after execve, so it keeps running under
//	         any profile runc can start, however restrictive
//
// Tests that use it need root (PTRACE_SECCOMP_GET_FILTER wants
// CAP_SYS_ADMIN) and a Docker daemon; Available skips them otherwise, and
// fails them when CI=true.
package dockertest
