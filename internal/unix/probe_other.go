//go:build !linux

package unix

// KernelRelease returns ErrNotSupported.
func KernelRelease() (string, error) { return "", ErrNotSupported }

// MemlockLimit returns ErrNotSupported.
func MemlockLimit() (cur, limit uint64, err error) { return 0, 0, ErrNotSupported }

// RlimInfinity is RLIM_INFINITY, the value of an unlimited resource limit.
const RlimInfinity = ^uint64(0)
