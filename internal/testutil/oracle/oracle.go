package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/syscalls"
)

// errnoBase is the errno the first distinct verdict is rewritten to; the
// kernel caps ERRNO data at MAX_ERRNO (4095).
const (
	errnoBase = 1000
	maxErrno  = 4095
)

// maxProbes bounds the system call numbers one child probes, so that the
// guard prefix (two instructions per number) stays small.
const maxProbes = 400

// runtimeCalls are x86_64 system calls the Go runtime may make on the
// probing thread while the filter is in place (signal handling, futex
// wake-ups, thread exit). Probing one of them would turn the runtime's own
// call into an ERRNO and crash the child, so KernelVerdicts refuses them.
var runtimeCalls = map[int32]string{
	0: "read", 1: "write", 3: "close", 7: "poll", 9: "mmap", 10: "mprotect",
	11: "munmap", 12: "brk", 13: "rt_sigaction", 14: "rt_sigprocmask",
	15: "rt_sigreturn", 23: "select", 24: "sched_yield", 28: "madvise",
	35: "nanosleep", 39: "getpid", 56: "clone", 60: "exit", 96: "gettimeofday",
	131: "sigaltstack", 186: "gettid", 200: "tkill", 201: "time", 202: "futex",
	204: "sched_getaffinity", 228: "clock_gettime", 230: "clock_nanosleep",
	231: "exit_group", 232: "epoll_wait", 233: "epoll_ctl", 234: "tgkill",
	270: "pselect6", 281: "epoll_pwait", 291: "epoll_create1", 318: "getrandom",
	435: "clone3", 441: "epoll_pwait2",
}

// Probeable reports whether KernelVerdicts can probe number nr: every
// number but the ones the Go runtime needs while the filter is in place.
func Probeable(nr int32) bool {
	_, used := runtimeCalls[nr]
	_, special := unprobeable[nr]
	return !used && !special
}

// unprobeable are x86_64 numbers the kernel treats specially: uretprobe
// (Linux 6.11) and uprobe skip seccomp and raise SIGILL when called from
// anywhere but a uprobe trampoline.
var unprobeable = map[int32]string{335: "uretprobe", 336: "uprobe"}

// Native returns the audit-arch token of the system calls this process
// makes, and whether KernelVerdicts supports this architecture.
func Native() (uint32, bool) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return 0, false
	}
	return syscalls.X86_64.Audit, true
}

// KernelVerdicts returns, for each element of data, the verdict the running
// kernel's seccomp gives with prog installed: prog's 32-bit return value
// for that system call. Every data[i].Arch must be the native token (see
// Native) and Nr any number but one the Go runtime needs (see
// runtimeCalls); x32 numbers (with the 0x40000000 bit) and -1 work. IP is
// ignored, so prog must not load it; nor may it end in `ret a`.
// No probed call ever runs: every verdict is rewritten to an ERRNO.
func KernelVerdicts(t testing.TB, prog []bpf.Instruction, data []bpf.Data) []uint32 {
	t.Helper()
	testutil.RequireSeccomp(t)
	native, ok := Native()
	if !ok {
		testutil.Unavailable(t, "kernel oracle supports linux/amd64 only, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	rets, err := returnValues(prog)
	if err != nil {
		t.Fatalf("kernel oracle: %v\n%s", err, bpf.Disassemble(prog))
	}
	for i, d := range data {
		if err := checkData(d, native); err != nil {
			t.Fatalf("kernel oracle: data[%d]: %v", i, err)
		}
	}
	out := make([]uint32, 0, len(data))
	for _, batch := range batches(data, prog) {
		out = append(out, runBatch(t, rewrite(prog, rets, batch.nrs), rets, batch.data)...)
	}
	return out
}

// CompareVM runs prog on data in the bpf VM and in the kernel and reports
// every difference, with the program's disassembly.
func CompareVM(t testing.TB, prog []bpf.Instruction, data []bpf.Data) {
	t.Helper()
	p, err := bpf.NewProgram(prog)
	if err != nil {
		t.Fatalf("compile for VM: %v\n%s", err, bpf.Disassemble(prog))
	}
	kernel := KernelVerdicts(t, prog, data)
	var diffs []string
	for i, d := range data {
		if vm := p.Run(d, false); vm != kernel[i] {
			diffs = append(diffs, fmt.Sprintf("nr=%d args=%#x: vm %s, kernel %s",
				d.Nr, d.Args, bpf.ActionString(vm), bpf.ActionString(kernel[i])))
		}
	}
	if len(diffs) > 0 {
		if len(diffs) > 20 {
			diffs = append(diffs[:20], fmt.Sprintf("… and %d more", len(diffs)-20))
		}
		t.Errorf("VM and kernel differ on %d of %d inputs:\n%s\nprogram:\n%s",
			len(diffs), len(data), strings.Join(diffs, "\n"), bpf.Disassemble(prog))
	}
}

func checkData(d bpf.Data, native uint32) error {
	if d.Arch != native {
		return fmt.Errorf("arch 0x%08x is not the native 0x%08x", d.Arch, native)
	}
	if name, ok := runtimeCalls[d.Nr]; ok {
		return fmt.Errorf("nr %d (%s) is used by the Go runtime and cannot be probed", d.Nr, name)
	}
	return nil
}

// returnValues lists prog's distinct `ret #k` values in order of first
// appearance; the i-th is rewritten to ERRNO(errnoBase+i).
func returnValues(prog []bpf.Instruction) ([]uint32, error) {
	var rets []uint32
	for pc, in := range prog {
		switch {
		case in.Op == bpf.ClassRET|bpf.RetA:
			return nil, fmt.Errorf("instruction %d: `ret a` cannot be made observable", pc)
		case in.Op == bpf.ClassLD|bpf.SizeW|bpf.ModeABS && (in.K == bpf.OffsetIP || in.K == bpf.OffsetIP+4):
			return nil, fmt.Errorf("instruction %d loads the instruction pointer, which the oracle cannot choose", pc)
		case in.IsRet() && !slices.Contains(rets, in.K):
			rets = append(rets, in.K)
		}
	}
	if errnoBase+len(rets)-1 > maxErrno {
		return nil, fmt.Errorf("%d distinct return values, at most %d can be observed", len(rets), maxErrno-errnoBase+1)
	}
	return rets, nil
}

type batch struct {
	nrs  []int32
	data []bpf.Data
}

// batches splits data so each child probes at most maxProbes numbers and
// the guarded program stays within the kernel's length limit.
func batches(data []bpf.Data, prog []bpf.Instruction) []batch {
	limit := min(maxProbes, (bpf.MaxInstructions-len(prog)-4)/2)
	var out []batch
	var cur batch
	for _, d := range data {
		if !slices.Contains(cur.nrs, d.Nr) {
			if len(cur.nrs) == limit {
				out = append(out, cur)
				cur = batch{}
			}
			cur.nrs = append(cur.nrs, d.Nr)
		}
		cur.data = append(cur.data, d)
	}
	if len(cur.data) > 0 {
		out = append(out, cur)
	}
	return out
}

// runBatch probes data in as many children as it takes: a call that kills
// the probing thread gets verdict KILL_THREAD (the kernel's implicit
// `ret 0`), and the calls after it go to a fresh child.
func runBatch(t testing.TB, prog []bpf.Instruction, rets []uint32, data []bpf.Data) []uint32 {
	t.Helper()
	var verdicts []uint32
	for len(data) > 0 {
		out := runChild(t, prog, data)
		for i, e := range out.Errnos {
			if e < errnoBase || int(e-errnoBase) >= len(rets) {
				t.Fatalf("kernel oracle: call %+v answered errno %d, which is no verdict of the program", data[i], e)
			}
			verdicts = append(verdicts, rets[e-errnoBase])
		}
		if out.Killed < 0 {
			break
		}
		verdicts = append(verdicts, bpf.RetKillThread)
		data = data[out.Killed+1:]
	}
	return verdicts
}

func runChild(t testing.TB, prog []bpf.Instruction, data []bpf.Data) childOutput {
	t.Helper()
	in := childInput{Prog: prog}
	for _, d := range data {
		// A negative number is sign-extended, as a C caller's long would be.
		c := [7]uint64{uint64(int64(d.Nr))}
		copy(c[1:], d.Args[:])
		in.Calls = append(in.Calls, c)
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out childOutput
	raw := testutil.RunChild(t, childName, stdin)
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&out); err != nil {
		t.Fatalf("kernel oracle: child answered %q: %v", raw, err)
	}
	if want := len(data); out.Killed < 0 && len(out.Errnos) != want || out.Killed >= want {
		t.Fatalf("kernel oracle: child answered %d errnos (killed at %d) for %d calls", len(out.Errnos), out.Killed, want)
	}
	return out
}
