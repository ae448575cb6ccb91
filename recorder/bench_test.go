package recorder_test

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/recorder"
)

// ddCount is how many one-byte blocks the overhead benchmark's dd copies
// (two system calls each); SYSFENCE_BENCH_DD_COUNT overrides it.
func ddCount(b *testing.B) string {
	if n := os.Getenv("SYSFENCE_BENCH_DD_COUNT"); n != "" {
		if _, err := strconv.Atoi(n); err != nil {
			b.Fatalf("SYSFENCE_BENCH_DD_COUNT=%q: %v", n, err)
		}
		return n
	}
	return "100000"
}

func ddCmd(b *testing.B) *exec.Cmd {
	return exec.Command("dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count="+ddCount(b), "status=none")
}

// BenchmarkRecordOverhead is the worst case for a recorder: dd copying one
// byte at a time makes a system call every microsecond or so. Each op runs
// dd once in each configuration, interleaved, so that the machine's drift
// hits all alike; the metrics are the seconds of one dd run per
// configuration and the ratios to untraced (ns/op is their sum). "floor"
// is dd untraced while an empty program sits on sys_enter: the least any
// recorder on that tracepoint can cost. eBPF includes everything `sysfence
// record` does: loading the program, the cgroup, reading the maps.
//
//	go test -run '^$' -bench RecordOverhead -count 6 ./recorder | tee dd.txt
//	benchstat dd.txt
func BenchmarkRecordOverhead(b *testing.B) {
	type mode struct {
		name string
		run  func() error
	}
	modes := []mode{
		{"untraced", func() error { return ddCmd(b).Run() }},
		{"floor", func() error {
			detach := testutil.AttachEmptySysEnter(b)
			defer detach()
			return ddCmd(b).Run()
		}},
		{"ebpf", func() error {
			_, _, err := recorder.RecordEBPF(b.Context(), ddCmd(b), recorder.Options{Args: true})
			return err
		}},
		{"ptrace", func() error {
			_, _, err := recorder.RecordPtrace(b.Context(), ddCmd(b), recorder.Options{Args: true})
			return err
		}},
		{"strace", func() error {
			return exec.Command("strace", append([]string{"-f", "-c", "-o", "/dev/null"}, ddCmd(b).Args...)...).Run()
		}},
	}
	if os.Geteuid() != 0 {
		b.Skip("eBPF recording needs root")
	}
	if _, err := exec.LookPath("strace"); err != nil {
		b.Skip("strace is not installed (scripts/install-test-deps installs it)")
	}
	total := make([]time.Duration, len(modes))
	n := 0
	for b.Loop() {
		for i, m := range modes {
			start := time.Now()
			if err := m.run(); err != nil {
				b.Fatalf("%s: %v", m.name, err)
			}
			total[i] += time.Since(start)
		}
		n++
	}
	for i, m := range modes {
		b.ReportMetric(total[i].Seconds()/float64(n), m.name+"-s")
		if i > 0 {
			b.ReportMetric(float64(total[i])/float64(total[0]), m.name+"-x")
		}
	}
	reportMaxRSS(b)
}

// reportMaxRSS reports the benchmark process's peak resident memory: an
// upper bound of what the recorder in it used.
func reportMaxRSS(b *testing.B) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
	}
}
