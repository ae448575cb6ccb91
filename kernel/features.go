package kernel

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/sysfence/sysfence/internal/unix"
)

// Filter flags that sysfence does not install but probes.
const (
	// FlagNewListener returns a user-notification fd
	// (SECCOMP_FILTER_FLAG_NEW_LISTENER, Linux 5.0).
	FlagNewListener Flags = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	// FlagTSyncESRCH makes a TSYNC failure return ESRCH instead of a
	// thread id (SECCOMP_FILTER_FLAG_TSYNC_ESRCH, Linux 5.7).
	FlagTSyncESRCH Flags = unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	// FlagWaitKillableRecv makes a notified task wait killably once its
	// notification is received (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
	// Linux 5.19).
	FlagWaitKillableRecv Flags = unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
)

// HaveFlag reports whether the kernel knows the filter flag f. Like
// HaveSeccompFilter it installs nothing: it passes f with a null program,
// which the kernel checks the flags before reading, so a known flag fails
// with EFAULT and an unknown one with EINVAL. FlagWaitKillableRecv is
// probed together with FlagNewListener, which the kernel requires with it.
func HaveFlag(f Flags) (bool, error) {
	flags := f
	if f&FlagWaitKillableRecv != 0 {
		flags |= FlagNewListener
	}
	_, err := unix.Seccomp(unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), nil)
	switch {
	case errors.Is(err, unix.EFAULT):
		return true, nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		return false, nil
	case errors.Is(err, unix.ErrNotSupported):
		return false, err
	case err == nil:
		return false, fmt.Errorf("probe filter flag 0x%x: kernel accepted a null program", uint32(f))
	}
	return false, fmt.Errorf("probe filter flag 0x%x: %w", uint32(f), err)
}

// NotifSizes are the sizes in bytes of the user-notification structures
// the running kernel uses (struct seccomp_notif_sizes).
type NotifSizes struct {
	Notif uint16 // struct seccomp_notif
	Resp  uint16 // struct seccomp_notif_resp
	Data  uint16 // struct seccomp_data
}

// GetNotifSizes asks seccomp(SECCOMP_GET_NOTIF_SIZES) (Linux 5.0) for the
// notification structure sizes. On older kernels it returns an error
// wrapping ErrNotSupported.
func GetNotifSizes() (NotifSizes, error) {
	var s NotifSizes
	_, err := unix.Seccomp(unix.SECCOMP_GET_NOTIF_SIZES, 0, unsafe.Pointer(&s))
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		return NotifSizes{}, fmt.Errorf("get notification sizes: %w: %w", ErrNotSupported, err)
	}
	return NotifSizes{}, fmt.Errorf("get notification sizes: %w", err)
}

// Release returns the running kernel's release, as uname -r prints it.
func Release() (string, error) {
	r, err := unix.KernelRelease()
	if err != nil {
		return "", fmt.Errorf("read kernel release: %w", err)
	}
	return r, nil
}
