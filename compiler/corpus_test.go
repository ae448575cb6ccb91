package compiler_test

import (
	"encoding/json"
	"fmt"

	"github.com/sysfence/sysfence/profile"
)

// corpusCase is one profile of the Docker comparison corpus, with the
// `docker run` flags and the equivalent target flags.
type corpusCase struct {
	name    string
	profile map[string]any // Docker JSON, as written by a user
	capAdd  []string
	capDrop []string
}

// startup lists what runc (after it loads the filter) and the probe binary
// need so a container under a restrictive profile can start and stay up.
// Corpus tests use other syscalls for their rules.
var startup = []string{
	"execve", "execveat", "exit", "exit_group", "pause", "nanosleep", "clock_nanosleep",
	"brk", "mmap", "munmap", "mprotect", "arch_prctl", "set_tid_address", "set_robust_list",
	"rseq", "prlimit64", "getrandom", "futex", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"sigaltstack", "gettid", "getpid", "tgkill", "sched_yield", "madvise", "openat", "read",
	"write", "close", "fstat", "newfstatat", "readlinkat", "fcntl", "dup3", "capget", "capset",
	"prctl", "setgroups", "setresuid", "setresgid", "setuid", "setgid", "getuid", "geteuid",
	"getgid", "getegid", "getppid", "clone", "clone3", "wait4", "epoll_create1", "epoll_ctl",
	"epoll_pwait", "pipe2", "close_range", "statx", "access", "faccessat2", "sched_getaffinity",
	"getcwd", "chdir", "fchdir", "uname", "fstatfs", "statfs", "keyctl", "socket", "connect", "sendmsg", "recvmsg",
	"ioctl", "lseek", "pread64", "getdents64", "umask", "mount", "umount2", "seccomp", "kill",
}

func syscallEntry(names []string, action string, extra map[string]any) map[string]any {
	e := map[string]any{"names": names, "action": action}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

func arg(index int, value uint64, op string) map[string]any {
	return map[string]any{"index": index, "value": value, "op": op}
}

func masked(index int, mask, datum uint64) map[string]any {
	return map[string]any{"index": index, "value": mask, "valueTwo": datum, "op": "SCMP_CMP_MASKED_EQ"}
}

// restrictive builds a profile with the given default whose first entry
// allows startup, followed by entries.
func restrictive(def string, entries ...map[string]any) map[string]any {
	return map[string]any{
		"defaultAction": def,
		"archMap": []any{map[string]any{
			"architecture":     "SCMP_ARCH_X86_64",
			"subArchitectures": []string{"SCMP_ARCH_X86", "SCMP_ARCH_X32"},
		}},
		"syscalls": append([]map[string]any{syscallEntry(startup, "SCMP_ACT_ALLOW", nil)}, entries...),
	}
}

// hi marks values that differ from their low word only in the high 32 bits.
const hi = uint64(1) << 32

func corpus() []corpusCase {
	errnoEntries := []map[string]any{
		syscallEntry([]string{"personality"}, "SCMP_ACT_ERRNO", map[string]any{"errnoRet": 22}),
		syscallEntry([]string{"acct", "syslog"}, "SCMP_ACT_ERRNO", nil),
		syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", nil),
	}
	cases := []corpusCase{
		{name: "podman-errno-enosys", profile: withKey(restrictive("SCMP_ACT_ERRNO", errnoEntries...), "defaultErrnoRet", 38)},
		{name: "default-kill", profile: restrictive("SCMP_ACT_KILL", errnoEntries...)},
		{name: "default-kill-thread", profile: restrictive("SCMP_ACT_KILL_THREAD", errnoEntries...)},
		{name: "default-kill-process", profile: restrictive("SCMP_ACT_KILL_PROCESS", errnoEntries...)},
		{name: "default-trap", profile: restrictive("SCMP_ACT_TRAP", errnoEntries...)},
		{name: "default-errno", profile: restrictive("SCMP_ACT_ERRNO", errnoEntries...)},
		{name: "default-log", profile: restrictive("SCMP_ACT_LOG", errnoEntries...)},
		{name: "default-allow-denylist", profile: map[string]any{
			"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": []map[string]any{
				syscallEntry([]string{"acct", "syslog", "kcmp"}, "SCMP_ACT_ERRNO", nil),
				syscallEntry([]string{"sethostname"}, "SCMP_ACT_KILL_PROCESS", nil),
				syscallEntry([]string{"setdomainname"}, "SCMP_ACT_TRAP", nil),
				syscallEntry([]string{"getcpu"}, "SCMP_ACT_TRACE", map[string]any{"errnoRet": 7}),
				syscallEntry([]string{"tee"}, "SCMP_ACT_LOG", nil),
				syscallEntry([]string{"personality"}, "SCMP_ACT_ERRNO", map[string]any{"args": []any{arg(0, 0xff|hi, "SCMP_CMP_EQ")}}),
			},
		}},
		{name: "trace-and-errno-data", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"acct"}, "SCMP_ACT_TRACE", nil),
			syscallEntry([]string{"syslog"}, "SCMP_ACT_TRACE", map[string]any{"errnoRet": 4095}),
			syscallEntry([]string{"kcmp"}, "SCMP_ACT_ERRNO", map[string]any{"errnoRet": 0}),
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ERRNO", nil), // equals the default: dropped
		)},
	}
	for _, op := range []string{"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE"} {
		cases = append(cases, corpusCase{name: "op-" + op, profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"personality"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 5|hi, op)}}),
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(1, 0x80000000, op)}}),
			syscallEntry([]string{"ioprio_get"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 0, op), arg(1, ^uint64(0), op)}}),
			syscallEntry([]string{"fchmod"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(2, 0xffffffff, op)}}),
		)})
	}
	cases = append(cases,
		corpusCase{name: "masked-eq", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"personality"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{masked(0, 0xff00|hi, 0x1200|hi)}}),
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{masked(0, 0xffffffff00000000, 0)}}),
			syscallEntry([]string{"fchmod"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{masked(1, 0xf0, 0x0f)}}), // never matches
			syscallEntry([]string{"ioprio_get"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{masked(0, 0x7e020000, 0)}}),
		)},
		corpusCase{name: "repeated-index", profile: restrictive("SCMP_ACT_ERRNO",
			// runc splits repeated indexes into ORed rules: a0 == 10 || a0 == 20 (hi-word variant).
			syscallEntry([]string{"personality"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 10, "SCMP_CMP_EQ"), arg(0, 20|hi, "SCMP_CMP_EQ")}}),
			syscallEntry([]string{"ioprio_get"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(1, 7, "SCMP_CMP_GE"), arg(1, 3, "SCMP_CMP_NE")}}),
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 1, "SCMP_CMP_EQ"), arg(1, 2, "SCMP_CMP_EQ"), arg(0, 3, "SCMP_CMP_EQ")}}),
		)},
		corpusCase{name: "and-of-args", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 1, "SCMP_CMP_EQ"), arg(1, 2, "SCMP_CMP_EQ"), arg(2, 3|hi, "SCMP_CMP_GE")}}),
			syscallEntry([]string{"ioprio_get"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 1, "SCMP_CMP_NE"), masked(1, 0xf, 0x3)}}),
		)},
		corpusCase{name: "several-entries", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"personality"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 0, "SCMP_CMP_EQ")}}),
			syscallEntry([]string{"personality"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 8, "SCMP_CMP_EQ")}}),
			syscallEntry([]string{"personality"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 0xffffffff, "SCMP_CMP_EQ")}}),
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 1, "SCMP_CMP_EQ")}}),
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", nil),
			syscallEntry([]string{"acct"}, "SCMP_ACT_TRAP", nil),
			syscallEntry([]string{"acct"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 1, "SCMP_CMP_EQ")}}),
			syscallEntry([]string{"kcmp"}, "SCMP_ACT_ERRNO", map[string]any{"errnoRet": 5, "args": []any{arg(0, 1, "SCMP_CMP_EQ")}}),
			syscallEntry([]string{"kcmp"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 2, "SCMP_CMP_EQ")}}),
		)},
		corpusCase{name: "arches-list-native-only", profile: map[string]any{
			"defaultAction": "SCMP_ACT_ERRNO",
			"architectures": []string{"SCMP_ARCH_X86_64"},
			"syscalls":      []map[string]any{syscallEntry(startup, "SCMP_ACT_ALLOW", nil), errnoEntries[0]},
		}},
		corpusCase{name: "no-arches", profile: map[string]any{
			"defaultAction": "SCMP_ACT_ERRNO",
			"syscalls":      []map[string]any{syscallEntry(startup, "SCMP_ACT_ALLOW", nil), errnoEntries[0]},
		}},
		corpusCase{name: "archmap-without-x32", profile: map[string]any{
			"defaultAction": "SCMP_ACT_ERRNO",
			"archMap": []any{
				map[string]any{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": []string{"SCMP_ARCH_ARM"}},
				map[string]any{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []string{"SCMP_ARCH_X86"}},
			},
			"syscalls": []map[string]any{syscallEntry(startup, "SCMP_ACT_ALLOW", nil), errnoEntries[0]},
		}},
		corpusCase{name: "includes-excludes-caps", capAdd: []string{"SYS_ADMIN"}, capDrop: []string{"CHOWN"}, profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"acct"}, "SCMP_ACT_ALLOW", map[string]any{"includes": map[string]any{"caps": []string{"CAP_SYS_ADMIN"}}}),
			syscallEntry([]string{"syslog"}, "SCMP_ACT_ALLOW", map[string]any{"includes": map[string]any{"caps": []string{"CAP_CHOWN"}}}),
			syscallEntry([]string{"kcmp"}, "SCMP_ACT_ALLOW", map[string]any{"excludes": map[string]any{"caps": []string{"CAP_SYS_ADMIN"}}}),
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", map[string]any{"excludes": map[string]any{"caps": []string{"CAP_CHOWN"}}}),
		)},
		corpusCase{name: "includes-caps-defaults", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"acct"}, "SCMP_ACT_ALLOW", map[string]any{"includes": map[string]any{"caps": []string{"CAP_SYS_ADMIN"}}}),
			syscallEntry([]string{"syslog"}, "SCMP_ACT_ALLOW", map[string]any{"includes": map[string]any{"caps": []string{"CAP_CHOWN", "CAP_KILL"}}}),
			syscallEntry([]string{"kcmp"}, "SCMP_ACT_ALLOW", map[string]any{"excludes": map[string]any{"caps": []string{"CAP_SYS_ADMIN"}}}),
		)},
		corpusCase{name: "includes-excludes-arches", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"acct"}, "SCMP_ACT_ALLOW", map[string]any{"includes": map[string]any{"arches": []string{"amd64"}}}),
			syscallEntry([]string{"syslog"}, "SCMP_ACT_ALLOW", map[string]any{"includes": map[string]any{"arches": []string{"arm64", "x86"}}}),
			syscallEntry([]string{"kcmp"}, "SCMP_ACT_ALLOW", map[string]any{"excludes": map[string]any{"arches": []string{"amd64"}}}),
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", map[string]any{"excludes": map[string]any{"arches": []string{"s390x"}}}),
		)},
		corpusCase{name: "min-kernel", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"acct"}, "SCMP_ACT_ALLOW", map[string]any{"includes": map[string]any{"minKernel": "4.8"}}),
			syscallEntry([]string{"syslog"}, "SCMP_ACT_ALLOW", map[string]any{"includes": map[string]any{"minKernel": "99.0"}}),
			syscallEntry([]string{"kcmp"}, "SCMP_ACT_ALLOW", map[string]any{"excludes": map[string]any{"minKernel": "5.1"}}),
			syscallEntry([]string{"getcpu"}, "SCMP_ACT_ALLOW", map[string]any{"excludes": map[string]any{"minKernel": "255.255"}}),
		)},
		corpusCase{name: "unknown-names-and-name-key", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"no_such_call", "acct"}, "SCMP_ACT_ALLOW", nil),
			map[string]any{"name": "syslog", "action": "SCMP_ACT_ALLOW", "comment": "deprecated name key"},
		)},
		corpusCase{name: "socket-rules", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"socketpair"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 1, "SCMP_CMP_EQ")}}),
			syscallEntry([]string{"socketpair"}, "SCMP_ACT_ALLOW", map[string]any{"args": []any{arg(0, 10, "SCMP_CMP_LT")}}),
			syscallEntry([]string{"socketcall", "ipc", "semop", "shmat"}, "SCMP_ACT_ALLOW", nil),
		)},
		corpusCase{name: "high-numbers", profile: restrictive("SCMP_ACT_ERRNO",
			syscallEntry([]string{"fchmodat2", "mseal", "lsm_list_modules", "listmount"}, "SCMP_ACT_ALLOW", nil),
		)},
	)
	return cases
}

func withKey(p map[string]any, k string, v any) map[string]any {
	p[k] = v
	return p
}

// corpusJSON renders a case's profile.
func corpusJSON(c corpusCase) []byte {
	if c.profile == nil {
		data, err := profile.Encode(profile.MustDefault(), profile.FormatDocker)
		if err != nil {
			panic(fmt.Sprintf("encode default: %v", err))
		}
		return data
	}
	data, err := json.MarshalIndent(c.profile, "", "  ")
	if err != nil {
		panic(err)
	}
	return data
}
