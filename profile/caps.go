package profile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// allCaps lists every Linux capability in number order (CAP_CHOWN is 0,
// CAP_CHECKPOINT_RESTORE is 40 since Linux 5.9).
var allCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// dockerCaps is the bounding set `docker run` gives a container, in the
// order of moby's oci/caps defaults.
var dockerCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
	"CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP",
	"CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
	"CAP_AUDIT_WRITE",
}

// DefaultCaps returns Docker's default capability set: the bounding set
// of a container started without --cap-add, --cap-drop or --privileged.
func DefaultCaps() []string { return slices.Clone(dockerCaps) }

// AllCaps returns every Linux capability, the bounding set of a
// --privileged container (on a kernel that knows them all).
func AllCaps() []string { return slices.Clone(allCaps) }

// KnownCap reports whether name is a capability name as Docker's
// includes/excludes compare them: upper case with the CAP_ prefix.
func KnownCap(name string) bool { return slices.Contains(allCaps, name) }

// ParseKernel reads the major.minor of a kernel release as moby does:
// "6.18", "6.18.44-fc-v782" and "3.12-1-amd64" are accepted and anything
// after the minor number is ignored.
func ParseKernel(s string) (KernelVersion, error) {
	major, rest, ok := leadingNumber(s)
	if !ok || !strings.HasPrefix(rest, ".") {
		return KernelVersion{}, fmt.Errorf("parse kernel version %q: want major.minor", s)
	}
	minor, _, ok := leadingNumber(rest[1:])
	if !ok {
		return KernelVersion{}, fmt.Errorf("parse kernel version %q: want major.minor", s)
	}
	return KernelVersion{Major: major, Minor: minor}, nil
}

// leadingNumber splits a decimal number off the front of s.
func leadingNumber(s string) (uint64, string, bool) {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	v, err := strconv.ParseUint(s[:n], 10, 64)
	if err != nil {
		return 0, s, false
	}
	return v, s[n:], true
}

// parseMinKernel applies Docker's rule for minKernel: exactly two dot
// separated decimal numbers, each at most 255, not both zero. An empty
// string means no minimum (nil).
func parseMinKernel(s string) (*KernelVersion, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 2 {
		return nil, fmt.Errorf("invalid kernel version %q, want \"<major>.<minor>\"", s)
	}
	var k KernelVersion
	var err error
	if k.Major, err = strconv.ParseUint(parts[0], 10, 8); err != nil {
		return nil, fmt.Errorf("invalid kernel version %q: major must be a number 0..255", s)
	}
	if k.Minor, err = strconv.ParseUint(parts[1], 10, 8); err != nil {
		return nil, fmt.Errorf("invalid kernel version %q: minor must be a number 0..255", s)
	}
	if err := checkMinKernel(k); err != nil {
		return nil, err
	}
	return &k, nil
}

// checkMinKernel holds the rules of parseMinKernel for a KernelVersion.
func checkMinKernel(k KernelVersion) error {
	if k.Major > 255 || k.Minor > 255 {
		return fmt.Errorf("invalid kernel version %s: each part must be at most 255", k)
	}
	if k.Major == 0 && k.Minor == 0 {
		return fmt.Errorf("invalid kernel version %s: must not be 0.0", k)
	}
	return nil
}
