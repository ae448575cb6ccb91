package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/cli"
	"github.com/sysfence/sysfence/internal/dockertest"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/recorder"
)

// BenchmarkRedisRecorded measures what recording costs a real server: each
// op runs redis-benchmark against a plain redis container, against a plain
// one while an empty program is attached to the sys_enter tracepoint (the
// floor: what any program there costs, since it puts every system call of
// the machine on the kernel's slow path), and against one started by
// `sysfence record --docker`, interleaved, and reports the throughputs
// (requests/s, the mean over redis-benchmark's tests and three loads) and
// the losses in percent against plain. Each op turns the order of the three.
//
//	go test -run '^$' -bench 'RedisRecorded$' -count 12 -timeout 60m ./internal/e2e | tee redis.txt
//	benchstat redis.txt
func BenchmarkRedisRecorded(b *testing.B) {
	dockertest.Available(b)
	image := dockertest.WorkloadImage(b)
	redis := dockertest.Workloads[0]
	if redis.Name != "redis" {
		b.Fatalf("workload 0 is %s, not redis", redis.Name)
	}
	var sum [numConfigs]float64
	n := eachInTurn(b, func(config int) {
		switch config {
		case floorConfig:
			detach := testutil.AttachEmptySysEnter(b)
			defer detach()
			sum[config] += redisThroughput(b, redis, image, false)
		case recordedConfig:
			sum[config] += redisThroughput(b, redis, image, true)
		default:
			sum[config] += redisThroughput(b, redis, image, false)
		}
	})
	reportThroughputs(b, sum, n)
}

// The configurations the redis benchmarks compare.
const (
	plainConfig    = iota
	floorConfig    // an empty program on sys_enter
	recordedConfig // recorded by sysfence
	numConfigs
)

// eachInTurn runs every configuration once per op, the order turning each
// op so that none always runs first (a cold page cache) or last, and
// returns the number of ops.
func eachInTurn(b *testing.B, run func(config int)) int {
	n := 0
	for b.Loop() {
		for k := range numConfigs {
			run((k + n) % numConfigs)
		}
		n++
	}
	return n
}

// reportThroughputs reports each configuration's mean throughput over n
// ops and the losses against plain.
func reportThroughputs(b *testing.B, sum [numConfigs]float64, n int) {
	plain, floor, recorded := sum[plainConfig]/float64(n), sum[floorConfig]/float64(n), sum[recordedConfig]/float64(n)
	b.ReportMetric(plain, "plain-req/s")
	b.ReportMetric(floor, "floor-req/s")
	b.ReportMetric(recorded, "recorded-req/s")
	b.ReportMetric(100*(plain-floor)/plain, "floor-loss-%")
	b.ReportMetric(100*(plain-recorded)/plain, "loss-%")
}

// redisThroughput starts redis (recorded or not), drives it once with the
// workload's load, stops it, and returns the throughput.
func redisThroughput(b *testing.B, w dockertest.Workload, image string, record bool) float64 {
	name := fmt.Sprintf("sysfence-bench-redis-%d", time.Now().UnixNano())
	defer exec.Command("docker", "rm", "-f", name).Run()
	run := []string{"-d", "--name", name, "--label", dockertest.Label}
	run = append(append(append(run, w.ServerArgs...), image), w.Server...)
	done := make(chan int, 1)
	var stderr bytes.Buffer
	if record {
		args := append([]string{"record", "--docker", "--args", "-o", filepath.Join(b.TempDir(), "redis.json"), "--"}, run...)
		go func() { done <- cli.Run(args, nil, &bytes.Buffer{}, &stderr) }()
	} else if out, err := exec.Command("docker", append([]string{"run"}, run...)...).CombinedOutput(); err != nil {
		b.Fatalf("docker run: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(b.Context(), 2*time.Minute)
	defer cancel()
	if err := waitRunning(ctx, name, done); err != nil {
		b.Fatalf("%v\n%s", err, stderr.String())
	}
	if err := w.Ready(ctx, name); err != nil {
		b.Fatal(err)
	}
	// Three loads per start: one redis-benchmark run is a few seconds, too
	// short to rise above this machine's noise.
	var throughput float64
	for range 3 {
		res, err := w.Load(ctx, name)
		if err != nil || res.Errors != 0 {
			b.Fatalf("load: %v %v\n%s", res, err, res.Output)
		}
		throughput += res.Throughput / 3
	}
	if err := exec.Command("docker", "stop", name).Run(); err != nil {
		b.Fatal(err)
	}
	if record {
		if code := <-done; code != 0 {
			b.Fatalf("sysfence record exited %d\n%s", code, stderr.String())
		}
	}
	return throughput
}

// BenchmarkRedisRecordedRunning measures the same three configurations as
// BenchmarkRedisRecorded on one redis container that stays up: each op
// drives it plain, with an empty program on sys_enter (the floor), and
// while `sysfence record --container --args` records it, in turning order.
// With no container started or stopped between loads it is far less noisy;
// the program that records is the one record --docker switches to once the
// container is armed.
//
//	go test -run '^$' -bench RedisRecordedRunning -count 10 -timeout 60m ./internal/e2e | tee running.txt
//	benchstat running.txt
func BenchmarkRedisRecordedRunning(b *testing.B) {
	dockertest.Available(b)
	redis := dockertest.Workloads[0]
	if redis.Name != "redis" {
		b.Fatalf("workload 0 is %s, not redis", redis.Name)
	}
	c, err := dockertest.StartWorkload(b, redis, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	if err := redis.Ready(ctx, c.ID); err != nil {
		b.Fatal(err)
	}
	load := func() (throughput, cpuPerRequest float64) {
		before := busyCPU(b)
		res, err := redis.Load(ctx, c.ID)
		if err != nil || res.Errors != 0 {
			b.Fatalf("load: %v %v\n%s", res, err, res.Output)
		}
		return res.Throughput, (busyCPU(b) - before) / float64(res.Requests)
	}
	var sum, cpu [numConfigs]float64
	n := eachInTurn(b, func(config int) {
		switch config {
		case floorConfig:
			detach := testutil.AttachEmptySysEnter(b)
			defer detach()
		case recordedConfig:
			stop := recordRunning(b, c.ID)
			defer stop()
		}
		t, u := load()
		sum[config] += t
		cpu[config] += u
	})
	reportThroughputs(b, sum, n)
	// CPU time the machine spent per request (steal excluded): what the
	// throughput would show on a machine without noisy neighbours.
	b.ReportMetric(1e6*cpu[plainConfig]/float64(n), "plain-cpu-µs/req")
	b.ReportMetric(100*(cpu[floorConfig]-cpu[plainConfig])/cpu[plainConfig], "floor-cpu-%")
	b.ReportMetric(100*(cpu[recordedConfig]-cpu[plainConfig])/cpu[plainConfig], "recorded-cpu-%")
}

// busyCPU returns the CPU seconds the machine has spent busy (user, nice,
// system, irq, softirq; not idle, iowait or steal) since boot.
func busyCPU(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 8 || f[0] != "cpu" {
		b.Fatalf("/proc/stat: unexpected first line %q", line)
	}
	var ticks float64
	for _, i := range []int{1, 2, 3, 6, 7} {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			b.Fatalf("/proc/stat: %q: %v", line, err)
		}
		ticks += v
	}
	return ticks / 100 // USER_HZ
}

// recordRunning starts `sysfence record --container ID --args` and returns
// once it records (its first progress report), with a stop that ends the
// recording as Ctrl-C would and checks that it succeeded.
func recordRunning(b *testing.B, id string) (stop func()) {
	ctx, cancel := context.WithCancel(b.Context())
	recording := make(chan struct{})
	var once sync.Once
	opts := recorder.Options{Args: true, Progress: func(recorder.Progress) { once.Do(func() { close(recording) }) }}
	done := make(chan error, 1)
	go func() {
		_, err := recorder.RecordContainer(ctx, id, opts)
		done <- err
	}()
	select {
	case <-recording:
	case err := <-done:
		cancel()
		b.Fatalf("record --container %.12s: %v", id, err)
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			b.Fatalf("record --container %.12s: %v", id, err)
		}
	}
}
