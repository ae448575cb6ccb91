package kernel

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/sysfence/sysfence/internal/unix"
)

// retActionFull is SECCOMP_RET_ACTION_FULL: the action bits of a verdict.
const retActionFull = 0xffff0000

// HaveSeccompFilter reports whether the kernel accepts seccomp filters
// (Linux 3.17 with CONFIG_SECCOMP_FILTER). It installs nothing: it hands
// seccomp(2) a null program, which a kernel with filters rejects with
// EFAULT while reading it.
func HaveSeccompFilter() (bool, error) {
	_, err := unix.Seccomp(unix.SECCOMP_SET_MODE_FILTER, 0, nil)
	switch {
	case errors.Is(err, unix.EFAULT):
		return true, nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL):
		return false, nil
	case errors.Is(err, unix.ErrNotSupported):
		return false, err
	case err == nil:
		return false, errors.New("probe seccomp filter: kernel accepted a null program")
	}
	return false, fmt.Errorf("probe seccomp filter: %w", err)
}

// HaveAction reports whether the kernel knows the action of the verdict
// ret (its SECCOMP_RET_ACTION_FULL bits; the data bits are ignored), asking
// seccomp(SECCOMP_GET_ACTION_AVAIL) (Linux 4.14). On older kernels it
// returns an error wrapping ErrNotSupported.
func HaveAction(ret uint32) (bool, error) {
	action := ret & retActionFull
	_, err := unix.Seccomp(unix.SECCOMP_GET_ACTION_AVAIL, 0, unsafe.Pointer(&action))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EOPNOTSUPP):
		return false, nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		return false, fmt.Errorf("probe action 0x%08x: %w: %w", action, ErrNotSupported, err)
	}
	return false, fmt.Errorf("probe action 0x%08x: %w", action, err)
}
