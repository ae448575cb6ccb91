// Package compiler turns a resolved seccomp profile into a classic BPF
// program with exactly the verdicts of Docker's runc + libseccomp pipeline,
// laid out for speed: arch dispatch, a weighted search tree over syscall
// number ranges, argument checks only in the leaves, one shared return per
// action, then the bpf optimizer.
package compiler
