package report

import "strings"

// Kinds are the groups of the syscall map, in display order.
var Kinds = []string{"file", "network", "process", "memory", "ipc", "time", "system", "security", "other"}

// kindRules assign a kind by name: the first rule whose pattern matches
// wins. A pattern is an exact name, a prefix ending in '*', or a substring
// between '*'s.
var kindRules = []struct {
	kind     string
	patterns []string
}{
	{"file", []string{"sendfile", "sendfile64"}},
	{"security", []string{"getrandom", "seccomp", "bpf", "keyctl", "add_key", "request_key", "landlock*", "lsm_*", "capget", "capset", "ptrace", "process_vm_*", "personality", "prctl", "arch_prctl", "security", "*xattr*"}},
	{"network", []string{"socket*", "*sock*", "connect", "accept*", "bind", "listen", "send*", "recv*", "shutdown", "getpeername", "setsockopt", "getsockopt", "sethostname", "setdomainname"}},
	{"ipc", []string{"pipe*", "msg*", "sem*", "shm*", "mq_*", "eventfd*", "signalfd*", "futex*", "ipc", "epoll*", "poll", "ppoll", "select", "pselect6*", "_newselect", "io_uring*", "io_*", "inotify*", "fanotify*", "memfd_*", "process_madvise"}},
	{"memory", []string{"mmap*", "munmap", "mremap", "mprotect", "pkey_*", "madvise", "mlock*", "munlock*", "brk", "mincore", "msync", "mbind", "*mempolicy*", "move_pages", "migrate_pages", "remap_file_pages", "userfaultfd", "map_shadow_stack", "mseal", "cachestat", "subpage_prot"}},
	{"time", []string{"*time*", "*clock*", "nanosleep", "alarm", "*itimer*", "adjtimex", "stime"}},
	{"process", []string{"clone*", "fork", "vfork", "exec*", "exit*", "wait*", "kill", "tkill", "tgkill", "rt_sig*", "rt_tg*", "sig*", "pidfd_*", "*uid", "*gid", "*uid32", "*gid32", "getpid", "getppid", "gettid", "membarrier", "process_mrelease", "listns", "getpgrp", "setpgid", "getpgid", "getsid", "setsid", "getgroups*", "setgroups*", "sched_*", "*priority", "unshare", "setns", "getrlimit", "setrlimit", "prlimit64", "ugetrlimit", "getrusage", "times", "set_tid_address", "*robust_list", "rseq*", "restart_syscall", "pause", "getcpu", "uname", "olduname", "oldolduname", "vm86*", "set_thread_area", "get_thread_area", "modify_ldt", "ioprio_*", "kcmp"}},
	{"system", []string{"mount*", "umount*", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree*", "swap*", "reboot", "kexec*", "*module*", "acct", "quotactl*", "syslog", "sysinfo", "sysfs", "_sysctl", "ustat", "vhangup", "iopl", "ioperm", "perf_event_open", "lookup_dcookie", "nfsservctl", "chroot", "sync", "syncfs", "uselib", "get_kernel_syms", "query_module", "create_module", "*statmount*", "listmount", "uretprobe"}},
	{"file", []string{"*open*", "*stat*", "read*", "write*", "pread*", "pwrite*", "lseek", "_llseek", "close*", "dup*", "fcntl*", "ioctl", "flock", "*sync*", "*truncate*", "*getdents*", "readdir", "*chdir", "getcwd", "*rename*", "*mkdir*", "rmdir", "*link*", "*chmod*", "*chown*", "umask", "*access*", "*mknod*", "utime*", "futimesat", "creat", "fadvise*", "fallocate", "*sendfile*", "splice", "tee", "vmsplice", "copy_file_range", "name_to_handle_at", "readahead", "*notify*", "quotactl_fd", "file_*", "*xattrat"}},
}

// kindOf returns the kind of system call name.
func kindOf(name string) string {
	for _, r := range kindRules {
		for _, p := range r.patterns {
			if matchPattern(p, name) {
				return r.kind
			}
		}
	}
	return "other"
}

func matchPattern(p, name string) bool {
	switch {
	case strings.HasPrefix(p, "*") && strings.HasSuffix(p, "*") && len(p) > 1:
		return strings.Contains(name, p[1:len(p)-1])
	case strings.HasSuffix(p, "*"):
		return strings.HasPrefix(name, p[:len(p)-1])
	case strings.HasPrefix(p, "*"):
		return strings.HasSuffix(name, p[1:])
	}
	return p == name
}

// kindTitle is how the map heads a kind.
func kindTitle(kind string) string {
	if kind == "ipc" {
		return "IPC"
	}
	return strings.ToUpper(kind[:1]) + kind[1:]
}
