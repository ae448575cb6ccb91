package unix

import "golang.org/x/sys/unix"

// MFD_CLOEXEC closes a memfd on exec.
const MFD_CLOEXEC = unix.MFD_CLOEXEC

// MemfdCreate makes an anonymous file (memfd_create(2)).
func MemfdCreate(name string, flags int) (int, error) { return unix.MemfdCreate(name, flags) }
