//go:build !linux

package unix

// MFD_CLOEXEC closes a memfd on exec.
const MFD_CLOEXEC = 0x1

// MemfdCreate needs Linux.
func MemfdCreate(name string, flags int) (int, error) { return -1, ErrNotSupported }
