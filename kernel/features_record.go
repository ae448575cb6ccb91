package kernel

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sysfence/sysfence/internal/unix"
)

// Capability numbers (include/uapi/linux/capability.h) that recording
// with eBPF needs.
const (
	CapSysAdmin = 21
	CapPerfmon  = 38 // Linux 5.8
	CapBPF      = 39 // Linux 5.8
)

// EffectiveCaps returns the effective capability set of the process, read
// from the CapEff line of /proc/self/status; bit n is capability n.
func EffectiveCaps() (uint64, error) {
	return capsFrom("/proc/self/status")
}

func capsFrom(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read capabilities: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hex, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("read capabilities: %s: CapEff: %w", path, err)
		}
		return caps, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read capabilities: %w", err)
	}
	return 0, fmt.Errorf("read capabilities: %s has no CapEff line", path)
}

// MountsOfType returns the mount points of every mounted file system of
// type fstype (such as "tracefs"), read from /proc/self/mounts.
func MountsOfType(fstype string) ([]string, error) {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	return mountsOfType(string(data), fstype), nil
}

func mountsOfType(table, fstype string) []string {
	var dirs []string
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == fstype {
			dirs = append(dirs, unescapeMount(f[1]))
		}
	}
	return dirs
}

// unescapeMount decodes the octal escapes (\040 for a space) the kernel
// writes in mount points.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// FilesystemKnown reports whether the kernel can mount a file system of
// type fstype, according to /proc/filesystems.
func FilesystemKnown(fstype string) (bool, error) {
	data, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false, fmt.Errorf("read file systems: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) > 0 && f[len(f)-1] == fstype {
			return true, nil
		}
	}
	return false, nil
}

// MemlockLimit returns the process's soft and hard RLIMIT_MEMLOCK in
// bytes; Unlimited means no limit.
func MemlockLimit() (cur, limit uint64, err error) {
	cur, limit, err = unix.MemlockLimit()
	if err != nil {
		return 0, 0, fmt.Errorf("get memlock limit: %w", err)
	}
	return cur, limit, nil
}

// Unlimited is the value of a resource limit that is not limited.
const Unlimited uint64 = unix.RlimInfinity
