package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/kernel"
	"github.com/sysfence/sysfence/profile"
)

func init() { commands = append(commands, newProbeCmd) }

// Statuses of a probe item.
const (
	probeOK      = "ok"
	probeMissing = "missing"
	probeUnknown = "unknown"
)

// probeItem is one fact about the system. Fix is the one-line remedy, set
// only when Status is "missing" (and "" otherwise, so every key is always
// present in JSON).
type probeItem struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Value  string `json:"value"`
	Fix    string `json:"fix"`
}

// probeReport is the output of sysfence probe; its JSON keys are stable.
type probeReport struct {
	Kernel  probeItem    `json:"kernel"`
	Seccomp probeSeccomp `json:"seccomp"`
	Record  probeRecord  `json:"record"`
	Docker  probeDocker  `json:"docker"`
}

type probeSeccomp struct {
	Filter        probeItem   `json:"filter"`
	Actions       []probeItem `json:"actions"`
	ActionsAvail  probeItem   `json:"actions_avail"`
	ActionsLogged probeItem   `json:"actions_logged"`
	Flags         []probeItem `json:"flags"`
	NotifSizes    probeItem   `json:"notif_sizes"`
	ActionCache   probeItem   `json:"action_cache"`
	BPFJIT        probeItem   `json:"bpf_jit"`
}

type probeRecord struct {
	Privileges      probeItem `json:"privileges"`
	Tracefs         probeItem `json:"tracefs"`
	RawSyscalls     probeItem `json:"raw_syscalls"`
	BTF             probeItem `json:"btf"`
	Memlock         probeItem `json:"memlock"`
	UnprivilegedBPF probeItem `json:"unprivileged_bpf_disabled"`
	Cgroup2         probeItem `json:"cgroup2"`
	Backend         probeItem `json:"backend"`
}

type probeDocker struct {
	Engine probeItem `json:"engine"`
	Runc   probeItem `json:"runc"`
}

// probeEnv holds where probe looks; tests point entries elsewhere through
// probeHook to fake a missing item.
type probeEnv struct {
	procSys      string   // /proc/sys
	seccompCache string   // /proc/self/seccomp_cache
	tracing      []string // where tracefs is conventionally mounted
	btf          string   // /sys/kernel/btf/vmlinux
	kallsyms     string   // /proc/kallsyms
	docker, runc string   // commands looked up on PATH
	timeout      time.Duration
}

// probeHook, when set by a test, edits the environment before probing.
var probeHook func(*probeEnv)

func defaultProbeEnv() probeEnv {
	return probeEnv{
		procSys:      "/proc/sys",
		seccompCache: "/proc/self/seccomp_cache",
		tracing:      []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"},
		btf:          "/sys/kernel/btf/vmlinux",
		kallsyms:     "/proc/kallsyms",
		docker:       "docker",
		runc:         "runc",
		timeout:      5 * time.Second,
	}
}

func newProbeCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Report what the kernel, the privileges and Docker allow sysfence to do",
		Long: `Probe reports seccomp support (filters, actions, flags, notification sizes,
action cache, BPF JIT), readiness to record with eBPF (privileges, tracefs,
raw_syscalls tracepoints, BTF, memlock) and whether Docker Engine answers.
Each item is ok, missing (with a one-line fix) or unknown. Probing installs
nothing. The exit status is 0 whatever is missing; read --format json.`,
		Example: "  sysfence probe\n  sysfence probe --format json | jq .seccomp.flags",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			env := defaultProbeEnv()
			if probeHook != nil {
				probeHook(&env)
			}
			r := runProbe(cmd.Context(), env)
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			return writeProbeText(cmd.OutOrStdout(), r)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output `FORMAT`: text or json")
	return cmd
}

func runProbe(ctx context.Context, env probeEnv) *probeReport {
	if ctx == nil {
		ctx = context.Background()
	}
	r := &probeReport{}
	release, err := kernel.Release()
	r.Kernel = item("kernel", release, err)
	r.Seccomp = probeSeccompItems(env, release)
	r.Record = probeRecordItems(env, release)
	r.Docker = probeDockerItems(ctx, env)
	return r
}

// item makes an ok item from value, or an unknown one from err.
func item(name, value string, err error) probeItem {
	if err != nil {
		return probeItem{Name: name, Status: probeUnknown, Value: err.Error()}
	}
	return probeItem{Name: name, Status: probeOK, Value: value}
}

// have makes an item from a yes/no probe.
func have(name string, ok bool, err error, yes, fix string) probeItem {
	switch {
	case err != nil:
		return probeItem{Name: name, Status: probeUnknown, Value: err.Error()}
	case ok:
		return probeItem{Name: name, Status: probeOK, Value: yes}
	}
	return probeItem{Name: name, Status: probeMissing, Value: "absent", Fix: fix}
}

func upgrade(version string) string { return "upgrade the kernel to Linux " + version + " or later" }

// probeActions lists the actions with the release that brought each.
var probeActions = []struct {
	name  string
	ret   uint32
	since string
}{
	{"KILL_PROCESS", bpf.RetKillProcess, "4.14"}, {"KILL_THREAD", bpf.RetKillThread, "3.5"},
	{"TRAP", bpf.RetTrap, "3.5"}, {"ERRNO", bpf.RetErrno, "3.5"},
	{"USER_NOTIF", bpf.RetUserNotif, "5.0"}, {"TRACE", bpf.RetTrace, "3.5"},
	{"LOG", bpf.RetLog, "4.14"}, {"ALLOW", bpf.RetAllow, "3.5"},
}

// probeFlags lists the filter flags with the release that brought each.
var probeFlags = []struct {
	name  string
	flag  kernel.Flags
	since string
}{
	{"TSYNC", kernel.FlagTSync, "3.17"}, {"LOG", kernel.FlagLog, "4.14"},
	{"SPEC_ALLOW", kernel.FlagSpecAllow, "4.17"}, {"NEW_LISTENER", kernel.FlagNewListener, "5.0"},
	{"TSYNC_ESRCH", kernel.FlagTSyncESRCH, "5.7"}, {"WAIT_KILLABLE_RECV", kernel.FlagWaitKillableRecv, "5.19"},
}

func probeSeccompItems(env probeEnv, release string) probeSeccomp {
	var s probeSeccomp
	ok, err := kernel.HaveSeccompFilter()
	s.Filter = have("filter", ok, err, "seccomp(SECCOMP_SET_MODE_FILTER) accepts filters",
		"use a kernel built with CONFIG_SECCOMP=y and CONFIG_SECCOMP_FILTER=y (Linux 3.17 or later)")
	for _, a := range probeActions {
		ok, err := kernel.HaveAction(a.ret)
		if errors.Is(err, kernel.ErrNotSupported) {
			err = fmt.Errorf("kernel cannot say (SECCOMP_GET_ACTION_AVAIL needs Linux 4.14)")
		}
		s.Actions = append(s.Actions, have(a.name, ok, err, "available", upgrade(a.since)))
	}
	s.ActionsAvail = sysctlItem(env, "actions_avail", "kernel/seccomp/actions_avail", upgrade("4.14"))
	s.ActionsLogged = sysctlItem(env, "actions_logged", "kernel/seccomp/actions_logged", upgrade("4.14"))
	if s.ActionsLogged.Status == probeOK && !strings.Contains(" "+s.ActionsLogged.Value+" ", " log ") {
		s.ActionsLogged.Status = probeMissing
		s.ActionsLogged.Fix = "add log to it: echo " + s.ActionsLogged.Value + " log > " +
			filepath.Join(env.procSys, "kernel/seccomp/actions_logged")
	}
	for _, f := range probeFlags {
		ok, err := kernel.HaveFlag(f.flag)
		s.Flags = append(s.Flags, have(f.name, ok, err, "available", upgrade(f.since)))
	}
	s.NotifSizes = probeNotifSizes()
	s.ActionCache = probeActionCache(env, release)
	s.BPFJIT = sysctlItem(env, "bpf_jit", "net/core/bpf_jit_enable",
		"use a kernel built with CONFIG_BPF_JIT=y")
	if s.BPFJIT.Status == probeMissing && exists(filepath.Join(env.procSys, "net/core")) {
		// The bpf_jit sysctls live in the initial network namespace only.
		s.BPFJIT = probeItem{Name: "bpf_jit", Status: probeUnknown, Value: s.BPFJIT.Value +
			": a network namespace other than the host's, or a kernel without CONFIG_BPF_JIT"}
	}
	if s.BPFJIT.Status == probeOK {
		s.BPFJIT.Value = describe(s.BPFJIT.Value, "off", "on", "on, with debug output")
		if strings.HasPrefix(s.BPFJIT.Value, "0") {
			s.BPFJIT.Status = probeMissing
			s.BPFJIT.Fix = "sysctl -w net.core.bpf_jit_enable=1"
		}
	}
	return s
}

// sysctlItem reads a file under /proc/sys; a missing file is a missing item.
func sysctlItem(env probeEnv, name, rel, fix string) probeItem {
	path := filepath.Join(env.procSys, rel)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return probeItem{Name: name, Status: probeMissing, Value: path + " absent", Fix: fix}
	}
	return item(name, strings.TrimSpace(string(data)), err)
}

func probeNotifSizes() probeItem {
	s, err := kernel.GetNotifSizes()
	if errors.Is(err, kernel.ErrNotSupported) {
		return probeItem{Name: "notif_sizes", Status: probeMissing, Value: "absent", Fix: upgrade("5.0")}
	}
	return item("notif_sizes", fmt.Sprintf("seccomp_notif %d, seccomp_notif_resp %d, seccomp_data %d bytes",
		s.Notif, s.Resp, s.Data), err)
}

func probeActionCache(env probeEnv, release string) probeItem {
	ok, err := releaseAtLeast(release, 5, 11)
	debug := "; " + env.seccompCache + " absent (CONFIG_SECCOMP_CACHE_DEBUG off)"
	if exists(env.seccompCache) {
		debug = "; " + env.seccompCache + " present"
	}
	return have("action_cache", ok, err, "Linux 5.11 or later: always-allowed calls skip the filter"+debug,
		upgrade("5.11")+" (calls every filter allows then skip filtering)")
}

// describe appends to a sysctl value the meaning of 0, 1, 2….
func describe(value string, meanings ...string) string {
	for i, m := range meanings {
		if value == fmt.Sprint(i) {
			return value + " (" + m + ")"
		}
	}
	return value
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// sections lists the report's items in the order text output prints them.
func (r *probeReport) sections() []struct {
	title string
	items []probeItem
} {
	s, rec := r.Seccomp, r.Record
	seccomp := []probeItem{s.Filter}
	for _, a := range s.Actions {
		a.Name = "action " + a.Name
		seccomp = append(seccomp, a)
	}
	seccomp = append(seccomp, s.ActionsAvail, s.ActionsLogged)
	for _, f := range s.Flags {
		f.Name = "flag " + f.Name
		seccomp = append(seccomp, f)
	}
	seccomp = append(seccomp, s.NotifSizes, s.ActionCache, s.BPFJIT)
	return []struct {
		title string
		items []probeItem
	}{
		{"kernel", []probeItem{r.Kernel}},
		{"seccomp", seccomp},
		{"record with eBPF", []probeItem{rec.Privileges, rec.Tracefs, rec.RawSyscalls, rec.BTF, rec.Memlock, rec.UnprivilegedBPF, rec.Cgroup2, rec.Backend}},
		{"docker", []probeItem{r.Docker.Engine, r.Docker.Runc}},
	}
}

func writeProbeText(w io.Writer, r *probeReport) error {
	var b strings.Builder
	for i, sec := range r.sections() {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(sec.title + "\n")
		for _, it := range sec.items {
			fmt.Fprintf(&b, "  %-8s %-26s %s\n", it.Status, it.Name, it.Value)
			if it.Fix != "" {
				fmt.Fprintf(&b, "  %-8s %-26s fix: %s\n", "", "", it.Fix)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// releaseAtLeast reports whether a kernel release ("6.18.44-generic") is at
// least major.minor.
func releaseAtLeast(release string, major, minor uint64) (bool, error) {
	kv, err := profile.ParseKernel(release)
	if err != nil {
		return false, err
	}
	return kv.AtLeast(profile.KernelVersion{Major: major, Minor: minor}), nil
}
