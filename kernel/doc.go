// Package kernel is sysfence's interface to the running kernel's seccomp:
// installing a filter (seccomp(2), prctl(2) no_new_privs, filter flags),
// probing features (Have…), and reading back the filters of a running
// process with ptrace(PTRACE_SECCOMP_GET_FILTER).
//
// It carries out what it is told and decides no policy: programs come
// compiled from elsewhere. On systems other than Linux every function
// returns an error wrapping ErrNotSupported.
//
// Kernel requirements: seccomp filters need Linux 3.5 and
// CONFIG_SECCOMP_FILTER; seccomp(2) and TSYNC 3.17; PTRACE_SECCOMP_GET_FILTER
// 4.4 with CONFIG_CHECKPOINT_RESTORE; SECCOMP_GET_ACTION_AVAIL and the LOG
// flag 4.14; SPEC_ALLOW 4.17.
package kernel
