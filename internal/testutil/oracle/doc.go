// Package oracle runs seccomp programs in the real kernel, in a child
// process, and reports the kernel's verdicts so tests can compare them with
// the bpf VM's. Every distinct return value of the program is rewritten to
// its own ERRNO, so no verdict kills, traps or runs anything: each probed
// system call comes back with an errno that names the verdict.
//
// A test binary that uses it needs a TestMain that calls
// testutil.MaybeChild (or testutil.Main); the child function is registered
// by this package's init.
package oracle
