//go:build linux

package unix

import "golang.org/x/sys/unix"

// KernelRelease returns the running kernel's release string, as uname -r
// prints it.
func KernelRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

// MemlockLimit returns the soft and hard RLIMIT_MEMLOCK of the process in
// bytes; RlimInfinity means unlimited.
func MemlockLimit() (cur, limit uint64, err error) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		return 0, 0, err
	}
	return r.Cur, r.Max, nil
}

// RlimInfinity is RLIM_INFINITY, the value of an unlimited resource limit.
const RlimInfinity = unix.RLIM_INFINITY
