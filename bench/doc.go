// Package bench measures what a seccomp filter costs at run time: the
// latency it adds to chosen system calls, against a no-filter baseline.
//
// Every measurement runs in a fresh child process, never in the caller,
// because a filter cannot be removed once installed. Run starts one child
// per configuration (a filter, or none for the baseline) and round, in
// round-robin order, so that slow drifts of the machine (frequency
// scaling, other load) fall on every configuration alike. The child, which
// the caller's executable provides by calling ServeChild, locks its OS
// thread, pins it to one CPU, sets no_new_privs, installs the filter with
// SECCOMP_FILTER_FLAG_TSYNC|SPEC_ALLOW (as runc does for a profile without
// "flags"), and times each probe system call in a tight loop of raw
// syscalls with the monotonic clock.
//
// Results are medians over rounds; the overhead of a filter on a probe is
// its median minus the baseline's, and ratios compare the overheads of
// two filters. Nothing here asserts that one filter is faster: the numbers
// are the output.
package bench
