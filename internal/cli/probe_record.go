package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sysfence/sysfence/kernel"
	"github.com/sysfence/sysfence/recorder"
)

func probeRecordItems(env probeEnv, release string) probeRecord {
	var r probeRecord
	caps, capsErr := kernel.EffectiveCaps()
	var privileged bool
	r.Privileges, privileged = probePrivileges(caps, capsErr)
	var tracefsDir string
	r.Tracefs, tracefsDir = probeTracefs(env, capsErr == nil && caps&(1<<kernel.CapSysAdmin) != 0)
	r.RawSyscalls = probeRawSyscalls(env, tracefsDir)
	if fi, err := os.Stat(env.btf); err == nil {
		r.BTF = item("btf", fmt.Sprintf("%s (%d bytes)", env.btf, fi.Size()), nil)
	} else {
		r.BTF = have("btf", false, nil, "", "use a kernel built with CONFIG_DEBUG_INFO_BTF=y")
		r.BTF.Value = env.btf + " absent"
	}
	r.Memlock = probeMemlock(release)
	r.UnprivilegedBPF = sysctlItem(env, "unprivileged_bpf_disabled", "kernel/unprivileged_bpf_disabled",
		"use a kernel built with CONFIG_BPF_SYSCALL=y")
	u := &r.UnprivilegedBPF
	if u.Status == probeOK {
		u.Value = describe(u.Value, "unprivileged BPF allowed", "unprivileged BPF disabled until reboot",
			"unprivileged BPF disabled, an admin may re-enable it")
	}
	if u.Status == probeOK && !strings.HasPrefix(u.Value, "0") && !privileged {
		u.Status = probeMissing
		u.Fix = "run with CAP_BPF and CAP_PERFMON, or as root (unprivileged BPF is disabled)"
	}
	if root, err := recorder.Cgroup2Root(); err == nil {
		r.Cgroup2 = item("cgroup2", root, nil)
	} else {
		r.Cgroup2 = probeItem{Name: "cgroup2", Status: probeMissing, Value: err.Error(),
			Fix: "mount -t cgroup2 none /sys/fs/cgroup/unified (record puts commands in a cgroup of their own)"}
	}
	if err := recorder.EBPFReady(); err == nil {
		r.Backend = item("backend", "sysfence record uses eBPF", nil)
	} else {
		r.Backend = probeItem{Name: "backend", Status: probeMissing, Value: "sysfence record falls back to ptrace: " + err.Error(),
			Fix: "run sysfence record as root on Linux 5.11 or later with BTF and cgroup v2"}
	}
	return r
}

func probePrivileges(caps uint64, err error) (probeItem, bool) {
	if err != nil {
		return item("privileges", "", err), false
	}
	has := func(c int) bool { return caps&(1<<c) != 0 }
	value := fmt.Sprintf("euid %d, CapEff %016x", os.Geteuid(), caps)
	switch {
	case has(kernel.CapSysAdmin):
		return item("privileges", value+": CAP_SYS_ADMIN", nil), true
	case has(kernel.CapBPF) && has(kernel.CapPerfmon):
		return item("privileges", value+": CAP_BPF+CAP_PERFMON", nil), true
	}
	fix := "run as root, or: setcap cap_bpf,cap_perfmon+ep $(command -v sysfence)"
	if os.Geteuid() == 0 {
		// Root without the capabilities: a container's bounding set.
		fix = "grant CAP_BPF and CAP_PERFMON (docker run --cap-add BPF --cap-add PERFMON)"
	}
	return probeItem{Name: "privileges", Status: probeMissing, Value: value, Fix: fix}, false
}

// probeTracefs returns the item and the directory tracefs is mounted on.
// Unmounted tracefs is ok when the kernel has it and the caller may mount
// it (CAP_SYS_ADMIN): recording then mounts it.
func probeTracefs(env probeEnv, canMount bool) (probeItem, string) {
	dirs, err := kernel.MountsOfType("tracefs")
	if err != nil {
		return item("tracefs", "", err), ""
	}
	for _, d := range dirs {
		for _, want := range env.tracing {
			if d == want {
				return item("tracefs", "mounted on "+d, nil), d
			}
		}
	}
	if len(dirs) > 0 {
		return item("tracefs", "mounted on "+dirs[0], nil), dirs[0]
	}
	known, err := kernel.FilesystemKnown("tracefs")
	if err != nil {
		return item("tracefs", "", err), ""
	}
	mount := "mount -t tracefs nodev " + env.tracing[0]
	switch {
	case !known:
		return probeItem{Name: "tracefs", Status: probeMissing, Value: "not in /proc/filesystems",
			Fix: "use a kernel built with CONFIG_FTRACE=y (tracefs)"}, ""
	case canMount:
		return item("tracefs", "not mounted; mountable: "+mount, nil), ""
	}
	return probeItem{Name: "tracefs", Status: probeMissing, Value: "not mounted; mounting needs CAP_SYS_ADMIN",
		Fix: mount + " as a user with CAP_SYS_ADMIN"}, ""
}

// probeRawSyscalls looks for the raw_syscalls tracepoints in tracefs, or,
// when it is not mounted, for the sys_enter tracepoint in /proc/kallsyms.
func probeRawSyscalls(env probeEnv, tracefsDir string) probeItem {
	const fix = "use a kernel built with CONFIG_FTRACE_SYSCALLS=y"
	if tracefsDir != "" {
		p := filepath.Join(tracefsDir, "events/raw_syscalls/sys_enter")
		return have("raw_syscalls", exists(p), nil, p, fix)
	}
	found, err := kallsymsHas(env.kallsyms, "__tracepoint_sys_enter", "__probestub_sys_enter", "__traceiter_sys_enter")
	if err != nil {
		return probeItem{Name: "raw_syscalls", Status: probeUnknown,
			Value: "tracefs not mounted, and " + err.Error()}
	}
	return have("raw_syscalls", found, nil, "sys_enter tracepoint in "+env.kallsyms+" (tracefs not mounted)", fix)
}

func kallsymsHas(path string, names ...string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("read symbols: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for _, n := range names {
			if len(fields) >= 3 && fields[2] == n {
				return true, nil
			}
		}
	}
	return false, sc.Err()
}

func probeMemlock(release string) probeItem {
	cur, _, err := kernel.MemlockLimit()
	if err != nil {
		return item("memlock", "", err)
	}
	value := "unlimited"
	if cur != kernel.Unlimited {
		value = fmt.Sprintf("%d KiB", cur/1024)
	}
	if memcg, _ := releaseAtLeast(release, 5, 11); memcg {
		return item("memlock", value+" (not used: BPF memory is charged to the memory cgroup since Linux 5.11)", nil)
	}
	if cur == kernel.Unlimited || cur >= 64<<20 {
		return item("memlock", value, nil)
	}
	return probeItem{Name: "memlock", Status: probeMissing, Value: value,
		Fix: "ulimit -l unlimited (systemd: LimitMEMLOCK=infinity)"}
}
