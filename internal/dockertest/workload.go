package dockertest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/elf"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/testutil"
)

// Workload is a real server and the real client that drives it. The
// server runs in the foreground as the main process of its container
// (docker stop ends it); each client command runs in a separate container
// of the same image under Docker's default profile, joined to the
// server's network namespace (--network container:SERVER), so that
// nothing of the client happens inside the server's container.
type Workload struct {
	Name string // "redis", "nginx", "postgres"
	// Server is the container's command.
	Server []string
	// ServerArgs are the docker run flags the server needs (--user,
	// --tmpfs, …); they hold no --security-opt.
	ServerArgs []string
	// Ready waits until the server accepts clients, polling it with its
	// client; when ctx ends first, or the server container stops, the
	// error carries the last client error and the server's log tail.
	Ready func(ctx context.Context, container string) error
	// Load drives the server with its real client. The error is non-nil
	// when the client exited with a failure or its report could not be
	// read; the result holds what was read, and always Output.
	Load func(ctx context.Context, container string) (LoadResult, error)
}

// LoadResult is how a Load went, as its client reported it.
type LoadResult struct {
	Requests   int     // requests (operations, transactions) completed
	Errors     int     // failed or wrong requests the client saw
	Throughput float64 // requests per second
	Output     string  // the clients' output
}

func (r LoadResult) String() string {
	return fmt.Sprintf("%d requests, %d errors, %.0f requests/s", r.Requests, r.Errors, r.Throughput)
}

// Workloads are the servers of the acceptance test, in the image of
// WorkloadImage.
var Workloads = []Workload{
	{
		Name:   "redis",
		Server: []string{"redis-server", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--bind", "127.0.0.1"},
		Ready: func(ctx context.Context, server string) error {
			return waitReady(ctx, server, "PONG", "redis-cli", "-h", "127.0.0.1", "ping")
		},
		Load: redisLoad,
	},
	{
		Name:   "nginx",
		Server: []string{"nginx", "-g", "daemon off;"},
		Ready: func(ctx context.Context, server string) error {
			return waitReady(ctx, server, "", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/")
		},
		Load: nginxLoad,
	},
	{
		Name: "postgres",
		// initdb into the tmpfs at every start, then the postmaster as
		// the container's main process.
		Server: []string{"sh", "-c", "initdb --no-sync -A trust -U postgres --locale=C -E UTF8 -D " + pgData + " >/dev/null && " +
			"exec postgres -D " + pgData + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=/tmp"},
		ServerArgs: []string{"--user", "postgres", "--tmpfs", "/pgdata:rw,mode=1777"},
		Ready: func(ctx context.Context, server string) error {
			return waitReady(ctx, server, "1", "psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "select 1")
		},
		Load: postgresLoad,
	},
}

// pgData is PostgreSQL's data directory, on the container's tmpfs.
const pgData = "/pgdata/data"

// Workload image recipe. Changing any of it changes the rootfs cache key
// and the image tag.
const (
	workloadRepo   = "sysfence-workload"
	workloadSuite  = "bookworm"
	workloadRecipe = "v1" // bump when rootfsCleanup changes
	pgBin          = "/usr/lib/postgresql/15/bin"
	// defaultMirror is used when the apt sources name no reachable
	// mirror of the suite.
	defaultMirror = "http://deb.debian.org/debian"
	// mirrorEnv overrides the mirror taken from the apt sources.
	mirrorEnv = "SYSFENCE_DEBIAN_MIRROR"
)

// cacheDir holds the rootfs tarballs and the lock guarding their build.
var cacheDir = "/var/cache/sysfence"

// workloadPackages are debootstrap's --include; pgbench is in postgresql-15.
var workloadPackages = []string{
	"redis-server", "redis-tools", "nginx-light", "postgresql",
	"apache2-utils", "curl", "util-linux", "procps",
}

// workloadChanges are docker import's --change lines.
var workloadChanges = []string{
	"ENV PATH=" + pgBin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"ENV LANG=C.UTF-8",
	"WORKDIR /",
	`CMD ["/bin/sh"]`,
}

// rawsysSource is the probe put at /rawsys.
//
//go:embed rawsys/rawsys.c
var rawsysSource []byte

// rawsysFlags build rawsys without libc, startup code or stack protector,
// so that its only system calls are the probed one and exit_group.
var rawsysFlags = []string{
	"-static", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
	"-fno-pie", "-no-pie", "-fno-asynchronous-unwind-tables",
	"-O2", "-Wall", "-Werror", "-Wl,--build-id=none", "-s",
}

var workloadImage struct {
	once sync.Once
	tag  string
	err  error
}

// WorkloadImage returns the tag of the workload image, building it on
// first use: a Debian bookworm minbase root file system with the servers
// and clients of Workloads (debootstrap from the host's apt mirror,
// cached as a tarball in /var/cache/sysfence), plus /rawsys, imported
// with `docker import`. The tag hashes the recipe, so an existing image is
// reused; a flock on the cache serialises builds of concurrent test
// processes.
//
// /rawsys is a static x86_64 program without libc: `/rawsys NR [A0 … A5]`
// (decimal or 0x hex) makes exactly that system call and exits with its
// errno (0 on success), writing nothing.
func WorkloadImage(t testing.TB) string {
	t.Helper()
	Available(t)
	if runtime.GOARCH != "amd64" {
		testutil.Unavailable(t, "the workload image's /rawsys is x86_64 code; GOARCH is %s", runtime.GOARCH)
	}
	workloadImage.once.Do(func() {
		workloadImage.tag, workloadImage.err = buildWorkloadImage(t.Logf)
	})
	if workloadImage.err != nil {
		t.Fatalf("build workload image: %v", workloadImage.err)
	}
	return workloadImage.tag
}

// recipeHash names the root file system.
func recipeHash() string {
	return shortHash("rootfs", workloadRecipe, workloadSuite, strings.Join(workloadPackages, ","))
}

// workloadTag names the image: the root file system, rawsys and the
// image configuration.
func workloadTag() string {
	return workloadRepo + ":" + shortHash(recipeHash(), string(rawsysSource),
		strings.Join(rawsysFlags, " "), strings.Join(workloadChanges, "\n"))
}

func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func buildWorkloadImage(logf func(string, ...any)) (string, error) {
	tag := workloadTag()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if _, err := docker(ctx, nil, "image", "inspect", tag); err == nil {
		return tag, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(cacheDir, "workload.lock"), logf)
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have built it while we waited.
	if _, err := docker(ctx, nil, "image", "inspect", tag); err == nil {
		return tag, nil
	}
	start := time.Now()
	rawsys, err := buildRawsys(ctx)
	if err != nil {
		return "", err
	}
	rootfs := filepath.Join(cacheDir, "workload-rootfs-"+recipeHash()+".tar")
	if _, err := os.Stat(rootfs); err != nil {
		if err := buildRootfs(ctx, rootfs, logf); err != nil {
			return "", err
		}
	} else {
		logf("workload image: using the cached root file system %s", rootfs)
	}
	importStart := time.Now()
	if err := importRootfs(ctx, rootfs, rawsys, tag); err != nil {
		return "", err
	}
	size, _ := docker(ctx, nil, "image", "inspect", "-f", "{{.Size}}", tag)
	logf("workload image %s built in %v (docker import %v), %s bytes",
		tag, time.Since(start).Round(time.Second), time.Since(importStart).Round(time.Second), strings.TrimSpace(size))
	return tag, nil
}

// lockFile takes an exclusive flock on path, waiting for other processes.
func lockFile(path string, logf func(string, ...any)) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		logf("workload image: waiting for another process building it (lock %s)", path)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// buildRawsys compiles rawsys with the host's gcc and checks that the
// result is a static x86_64 executable.
func buildRawsys(ctx context.Context) ([]byte, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return nil, fmt.Errorf("build /rawsys: gcc not found (scripts/install-test-deps installs it): %w", err)
	}
	dir, err := os.MkdirTemp("", "sysfence-rawsys-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src, out := filepath.Join(dir, "rawsys.c"), filepath.Join(dir, "rawsys")
	if err := os.WriteFile(src, rawsysSource, 0o644); err != nil {
		return nil, err
	}
	args := append(append([]string{}, rawsysFlags...), "-o", out, src)
	if msg, err := exec.CommandContext(ctx, gcc, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("gcc %s: %w\n%s", strings.Join(args, " "), err, msg)
	}
	f, err := elf.Open(out)
	if err != nil {
		return nil, fmt.Errorf("build /rawsys: %w", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("build /rawsys: gcc made a %v %v, want a static x86_64 executable", f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return nil, errors.New("build /rawsys: gcc made a dynamically linked executable")
		}
	}
	return os.ReadFile(out)
}

// buildRootfs debootstraps the root file system and writes it as a tar to
// dst (atomically: a killed build leaves no cache behind).
func buildRootfs(ctx context.Context, dst string, logf func(string, ...any)) error {
	debootstrap, err := exec.LookPath("debootstrap")
	if err != nil {
		return fmt.Errorf("build workload root file system: debootstrap not found (scripts/install-test-deps installs it): %w", err)
	}
	mirror, err := debianMirror(ctx)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(cacheDir, "build-")
	if err != nil {
		return err
	}
	defer removeBuildDir(work, logf)
	root := filepath.Join(work, "root")
	args := []string{"--variant=minbase", "--include=" + strings.Join(workloadPackages, ","), workloadSuite, root, mirror}
	logf("workload image: debootstrap %s (takes minutes, once per machine)", strings.Join(args, " "))
	start := time.Now()
	cmd := exec.CommandContext(ctx, debootstrap, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := "debootstrap " + strings.Join(args, " ") + ": " + err.Error() + "\n" + tail(string(out), 25)
		if log, lerr := os.ReadFile(filepath.Join(root, "debootstrap", "debootstrap.log")); lerr == nil {
			msg += "\n--- debootstrap/debootstrap.log (tail) ---\n" + tail(string(log), 25)
		}
		return errors.New(msg)
	}
	logf("workload image: debootstrap took %v", time.Since(start).Round(time.Second))
	if err := cleanRootfs(root); err != nil {
		return err
	}
	tmp := filepath.Join(work, "rootfs.tar")
	tarArgs := []string{"-C", root, "--numeric-owner", "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "-cf", tmp, "."}
	if msg, err := exec.CommandContext(ctx, "tar", tarArgs...).CombinedOutput(); err != nil {
		return fmt.Errorf("tar %s: %w\n%s", strings.Join(tarArgs, " "), err, msg)
	}
	return os.Rename(tmp, dst)
}

// cleanRootfs removes what the servers and clients do not need.
func cleanRootfs(root string) error {
	globs := []string{
		"var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*",
		"usr/share/doc/*", "usr/share/man/*", "usr/share/info/*", "usr/share/locale/*",
		"var/log/*.log", "var/cache/debconf/*-old",
		// The cluster the package created: the server initdbs its own.
		"etc/postgresql/15/main", "var/lib/postgresql/15/main",
		// PostgreSQL's JIT (130 MB of LLVM, used by no other program):
		// without llvmjit.so the server quietly runs without JIT, which
		// pgbench's cheap queries never reach anyway.
		"usr/lib/postgresql/15/lib/llvmjit*", "usr/lib/postgresql/15/lib/bitcode",
		"usr/lib/x86_64-linux-gnu/libLLVM-*",
	}
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			return err
		}
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return fmt.Errorf("clean root file system: %w", err)
			}
		}
	}
	return nil
}

// removeBuildDir removes a debootstrap directory, unmounting first what a
// failed debootstrap may have left mounted in it (proc, sys, a bind mount
// of /dev); it removes nothing while a mount remains.
func removeBuildDir(dir string, logf func(string, ...any)) {
	mounts := mountsUnder(dir)
	for i := len(mounts) - 1; i >= 0; i-- { // deepest last in mountinfo
		if err := syscall.Unmount(mounts[i], mntDetach); err != nil {
			logf("workload image: unmount %s: %v", mounts[i], err)
		}
	}
	if left := mountsUnder(dir); len(left) > 0 {
		logf("workload image: left %s in place, it still has mounts: %v", dir, left)
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		logf("workload image: remove %s: %v", dir, err)
	}
}

// mountsUnder lists the mount points below dir, in mount order.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var mounts []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMountinfo(f[4])
		if strings.HasPrefix(mp, dir+"/") {
			mounts = append(mounts, mp)
		}
	}
	return mounts
}

// unescapeMountinfo undoes the octal escapes (\040 …) of mountinfo.
func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// debianMirror returns the first mirror of the suite, from $SYSFENCE_DEBIAN_MIRROR
// or the host's apt sources, whose Release file answers; else deb.debian.org.
func debianMirror(ctx context.Context) (string, error) {
	var candidates []string
	if m := os.Getenv(mirrorEnv); m != "" {
		candidates = append(candidates, m)
	}
	for _, pattern := range []string{"/etc/apt/sources.list", "/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"} {
		files, _ := filepath.Glob(pattern)
		sort.Strings(files)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				continue
			}
			candidates = append(candidates, aptMirrors(string(b), strings.HasSuffix(file, ".sources"), workloadSuite)...)
		}
	}
	candidates = append(candidates, defaultMirror)
	var tried []string
	seen := map[string]bool{}
	for _, m := range candidates {
		m = strings.TrimSuffix(m, "/")
		if seen[m] {
			continue
		}
		seen[m] = true
		err := reachable(ctx, m+"/dists/"+workloadSuite+"/Release")
		if err == nil {
			return m, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v", m, err))
	}
	return "", fmt.Errorf("no Debian mirror of %s answers (set %s):\n  %s", workloadSuite, mirrorEnv, strings.Join(tried, "\n  "))
}

// aptMirrors returns the URIs of the deb entries for suite in an apt
// sources file: one-line format, or deb822 when deb822 is set.
func aptMirrors(text string, deb822 bool, suite string) []string {
	var uris []string
	if !deb822 {
		for _, line := range strings.Split(text, "\n") {
			line, _, _ = strings.Cut(line, "#")
			f := strings.Fields(line)
			if len(f) < 3 || f[0] != "deb" {
				continue
			}
			f = f[1:]
			if strings.HasPrefix(f[0], "[") { // [arch=amd64 signed-by=…]
				for len(f) > 0 && !strings.HasSuffix(f[0], "]") {
					f = f[1:]
				}
				if len(f) > 0 {
					f = f[1:]
				}
			}
			if len(f) >= 2 && f[1] == suite {
				uris = append(uris, f[0])
			}
		}
		return uris
	}
	for _, stanza := range regexp.MustCompile(`\n\s*\n`).Split(text, -1) {
		fields := map[string][]string{}
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if ok && !strings.HasPrefix(line, " ") {
				fields[strings.ToLower(strings.TrimSpace(k))] = strings.Fields(v)
			}
		}
		if !contains(fields["types"], "deb") || !contains(fields["suites"], suite) {
			continue
		}
		if e := fields["enabled"]; len(e) > 0 && e[0] == "no" {
			continue
		}
		uris = append(uris, fields["uris"]...)
	}
	return uris
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// reachable checks that url answers 200 to a HEAD request.
func reachable(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// importRootfs streams the rootfs tarball plus /rawsys into docker import.
// A tarball that cannot be read is removed, so that the next run
// rebuilds it.
func importRootfs(ctx context.Context, rootfs string, rawsys []byte, tag string) error {
	f, err := os.Open(rootfs)
	if err != nil {
		return err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	var copyErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyErr = appendToTar(pw, f, "rawsys", rawsys)
		pw.CloseWithError(copyErr)
	}()
	args := []string{"import"}
	for _, c := range workloadChanges {
		args = append(args, "--change", c)
	}
	args = append(args, "-", tag)
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = pr
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	pr.CloseWithError(errors.New("docker import ended"))
	<-done
	if copyErr != nil && !strings.Contains(copyErr.Error(), "docker import ended") {
		os.Remove(rootfs)
		return fmt.Errorf("read %s (removed; the next run rebuilds it): %w", rootfs, copyErr)
	}
	if err != nil {
		return fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// appendToTar copies the tar archive in to out and adds an executable
// file name at its root.
func appendToTar(out io.Writer, in io.Reader, name string, content []byte) error {
	bw := bufio.NewWriterSize(out, 1<<20)
	tr, tw := tar.NewReader(bufio.NewReaderSize(in, 1<<20)), tar.NewWriter(bw)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if strings.TrimPrefix(hdr.Name, "./") == name {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	hdr := &tar.Header{Name: "./" + name, Mode: 0o755, Size: int64(len(content)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := tw.Write(content); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// StartWorkload starts w's server in a detached container of the
// workload image named name (a fresh name if empty), with one
// --security-opt per securityOpts entry ("seccomp=/path/profile.json",
// "no-new-privileges", …; none leaves Docker's default profile), and
// returns once the server command runs. It does not wait for Ready. The
// container is kept when the server exits, so that its logs can be read,
// and removed when the test ends. An error of docker run is returned with
// docker's message; other failures fail t.
func StartWorkload(t testing.TB, w Workload, securityOpts []string, name string) (*Container, error) {
	t.Helper()
	img := WorkloadImage(t)
	if name == "" {
		name = containerName()
	}
	args := []string{"run", "-d", "--name", name, "--label", Label}
	for _, o := range securityOpts {
		args = append(args, "--security-opt", o)
	}
	args = append(append(append(args, w.ServerArgs...), img), w.Server...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := docker(ctx, nil, args...)
	if err != nil {
		// A container that failed to start stays behind as "Created";
		// one that held the name already is not ours to remove.
		if !strings.Contains(err.Error(), "is already in use") {
			(&Container{ID: name, t: t}).Remove()
		}
		return nil, err
	}
	c := &Container{ID: strings.TrimSpace(out), t: t}
	t.Cleanup(c.Remove)
	if c.PID, err = c.waitExec(ctx, filepath.Base(w.Server[0])); err != nil {
		t.Fatalf("%s container %.12s: %v\n%s", w.Name, c.ID, err, serverLogs(c.ID))
	}
	return c, nil
}

// Exec runs `docker exec container args…` and returns the command's exit
// status and its standard output and error, combined. The error is
// non-nil only when docker could not run the command (no such container,
// not running, no such executable) or ctx ended.
func Exec(ctx context.Context, container string, args ...string) (exitCode int, output string, err error) {
	cmd := exec.CommandContext(ctx, "docker", append([]string{"exec", container}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	output = stdout.String() + stderr.String()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, output, nil
	case ctx.Err() != nil:
		return -1, output, fmt.Errorf("docker exec %s %s: %w", container, strings.Join(args, " "), ctx.Err())
	case !errors.As(err, &exitErr):
		return -1, output, fmt.Errorf("docker exec %s %s: %w", container, strings.Join(args, " "), err)
	case dockerFailed(stderr.String()):
		return exitErr.ExitCode(), output, fmt.Errorf("docker exec %s %s: %w: %s", container, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return exitErr.ExitCode(), output, nil
}

// dockerFailed tells docker's own errors from a command's: docker exec
// exits 1 (as EPERM does for rawsys) when the container is not running.
func dockerFailed(stderr string) bool {
	for _, s := range []string{"Error response from daemon", "Error: No such container", "OCI runtime exec failed"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

// Rawsys runs `/rawsys nr args…` in the running container and returns the
// call's errno (0 on success).
func Rawsys(ctx context.Context, container string, nr int, args ...uint64) (syscall.Errno, error) {
	argv := []string{"/rawsys", strconv.Itoa(nr)}
	for _, a := range args {
		argv = append(argv, "0x"+strconv.FormatUint(a, 16))
	}
	code, out, err := Exec(ctx, container, argv...)
	if err != nil {
		return 0, err
	}
	if out != "" || code < 0 || code > 254 {
		return 0, fmt.Errorf("%s: exit status %d, output %q", strings.Join(argv, " "), code, out)
	}
	return syscall.Errno(code), nil
}

// client runs `args…` in a client container: the server's image under
// Docker's default profile, in the server's network namespace. It returns
// the combined output; the error carries the exit status and output tail.
func client(ctx context.Context, server string, args ...string) (string, error) {
	img, err := docker(ctx, nil, "inspect", "-f", "{{.Image}}", server)
	if err != nil {
		return "", err
	}
	name := containerName()
	dargs := append([]string{"run", "--rm", "--name", name, "--label", Label,
		"--network", "container:" + server, strings.TrimSpace(img)}, args...)
	cmd := exec.CommandContext(ctx, "docker", dargs...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		// Killing the docker client leaves its container running.
		rmCtx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, _ = docker(rmCtx, nil, "rm", "-f", name)
	}
	if err != nil {
		return out.String(), fmt.Errorf("client %s: %w\n%s", strings.Join(args, " "), err, tail(out.String(), 15))
	}
	return out.String(), nil
}

// waitReady polls the server with a client command until its output
// contains want (any output if want is empty) and it exits 0.
func waitReady(ctx context.Context, server, want string, args ...string) error {
	var last error
	for {
		state, err := docker(ctx, nil, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", server)
		if err != nil {
			return err
		}
		if st := strings.Fields(state); len(st) == 0 || st[0] != "running" {
			return fmt.Errorf("server container %.12s is not running (%s)\n%s", server, strings.TrimSpace(state), serverLogs(server))
		}
		out, err := client(ctx, server, args...)
		if err == nil && strings.Contains(out, want) {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("client %s: output %q lacks %q", strings.Join(args, " "), out, want)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("server %.12s not ready: %w; last try: %v\n%s", server, ctx.Err(), last, serverLogs(server))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// serverLogs returns the tail of a container's log, for error messages.
func serverLogs(container string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "logs", "--tail", "20", container)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(docker logs: %v %s)", err, bytes.TrimSpace(out))
	}
	return "--- server log (tail) ---\n" + strings.TrimRight(string(out), "\n")
}

// Load parameters.
const (
	redisRequests = 20000 // per redis-benchmark test
	redisTests    = "get,set,incr,lpush,lpop"
	abRequests    = 2000
	abConcurrency = 10
	pgbenchTime   = 10 // seconds
)

// redisLoad runs redis-benchmark and checks its INCRs and a SET/GET
// roundtrip with redis-cli: redis-benchmark only reports the first error
// of each second (-e), so the counter tells whether each INCR landed.
func redisLoad(ctx context.Context, server string) (LoadResult, error) {
	var r LoadResult
	counter := func() (int, string, error) {
		out, err := client(ctx, server, "redis-cli", "-h", "127.0.0.1", "--raw", "get", "counter:__rand_int__")
		if err != nil {
			return 0, out, err
		}
		s := strings.TrimSpace(out)
		if s == "" {
			return 0, out, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, out, fmt.Errorf("redis-cli get counter: %q", out)
		}
		return n, out, nil
	}
	before, out, err := counter()
	r.Output += out
	if err != nil {
		return r, err
	}
	out, err = client(ctx, server, "redis-benchmark", "-h", "127.0.0.1", "-e", "--csv",
		"-n", strconv.Itoa(redisRequests), "-t", redisTests)
	r.Output += out
	if err != nil {
		return r, err
	}
	var seconds float64
	tests := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Error") {
			r.Errors++
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 2 {
			continue
		}
		rps, err := strconv.ParseFloat(strings.Trim(f[1], `"`), 64)
		if err != nil || rps <= 0 {
			continue // the header
		}
		tests++
		r.Requests += redisRequests
		seconds += redisRequests / rps
	}
	if want := strings.Count(redisTests, ",") + 1; tests != want {
		return r, fmt.Errorf("redis-benchmark reported %d tests, want %d:\n%s", tests, want, tail(out, 15))
	}
	r.Throughput = float64(r.Requests) / seconds

	token := randomToken()
	out, err = client(ctx, server, "sh", "-c", "redis-cli -h 127.0.0.1 --raw get counter:__rand_int__ && "+
		"redis-cli -h 127.0.0.1 set sysfence:roundtrip "+token+" && redis-cli -h 127.0.0.1 --raw get sysfence:roundtrip")
	r.Output += out
	if err != nil {
		return r, err
	}
	lines := strings.Fields(out)
	if len(lines) != 3 {
		return r, fmt.Errorf("redis-cli get/set/get: %q", out)
	}
	after, err := strconv.Atoi(lines[0])
	if err != nil {
		return r, fmt.Errorf("redis-cli get counter: %q", lines[0])
	}
	if lost := redisRequests - (after - before); lost != 0 {
		r.Errors += max(lost, -lost)
		r.Output += fmt.Sprintf("sysfence: the counter went from %d to %d, not up by %d\n", before, after, redisRequests)
	}
	if lines[1] != "OK" || lines[2] != token {
		r.Errors++
		r.Output += fmt.Sprintf("sysfence: SET/GET roundtrip of %q gave %q\n", token, lines[1:])
	}
	return r, nil
}

func randomToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var (
	abComplete = regexp.MustCompile(`(?m)^Complete requests:\s+(\d+)`)
	abFailed   = regexp.MustCompile(`(?m)^Failed requests:\s+(\d+)`)
	abNon2xx   = regexp.MustCompile(`(?m)^Non-2xx responses:\s+(\d+)`)
	abRate     = regexp.MustCompile(`(?m)^Requests per second:\s+([0-9.]+)`)
)

// nginxLoad fetches the default page once with curl, checking its
// content, then runs ab against it.
func nginxLoad(ctx context.Context, server string) (LoadResult, error) {
	var r LoadResult
	out, err := client(ctx, server, "curl", "-fsS", "http://127.0.0.1/")
	r.Output += out
	if err != nil {
		return r, err
	}
	r.Requests++
	if !strings.Contains(out, "Welcome to nginx") {
		r.Errors++
		r.Output += "sysfence: the page is not nginx's default page\n"
	}
	out, err = client(ctx, server, "ab", "-n", strconv.Itoa(abRequests), "-c", strconv.Itoa(abConcurrency), "http://127.0.0.1/")
	r.Output += out
	if err != nil {
		return r, err
	}
	complete, ok1 := matchInt(abComplete, out)
	failed, ok2 := matchInt(abFailed, out)
	rate, ok3 := matchFloat(abRate, out)
	if !ok1 || !ok2 || !ok3 {
		return r, fmt.Errorf("ab: no complete/failed/rate figures:\n%s", tail(out, 20))
	}
	non2xx, _ := matchInt(abNon2xx, out) // printed only when not 0
	r.Requests += complete
	r.Errors += failed + non2xx
	r.Throughput = rate
	return r, nil
}

var (
	pgProcessed = regexp.MustCompile(`(?m)^number of transactions actually processed:\s+(\d+)`)
	pgFailed    = regexp.MustCompile(`(?m)^number of failed transactions:\s+(\d+)`)
	pgTPS       = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)
)

// postgresLoad initialises pgbench's tables (scale 1), then runs its
// TPC-B-like script with 4 clients on 2 threads for pgbenchTime seconds.
func postgresLoad(ctx context.Context, server string) (LoadResult, error) {
	var r LoadResult
	conn := []string{"-h", "127.0.0.1", "-U", "postgres"}
	out, err := client(ctx, server, append(append([]string{"pgbench", "-i", "-s", "1", "-q"}, conn...), "postgres")...)
	r.Output += out
	if err != nil {
		return r, err
	}
	out, err = client(ctx, server, append(append([]string{"pgbench", "-c", "4", "-j", "2", "-T", strconv.Itoa(pgbenchTime)}, conn...), "postgres")...)
	r.Output += out
	processed, ok1 := matchInt(pgProcessed, out)
	tps, ok2 := matchFloat(pgTPS, out)
	failed, _ := matchInt(pgFailed, out) // printed only when some failed
	r.Requests, r.Errors, r.Throughput = processed, failed, tps
	if err != nil { // clients aborted: pgbench exits 2
		return r, err
	}
	if !ok1 || !ok2 {
		return r, fmt.Errorf("pgbench: no processed/tps figures:\n%s", tail(out, 20))
	}
	return r, nil
}

func matchInt(re *regexp.Regexp, s string) (int, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

func matchFloat(re *regexp.Regexp, s string) (float64, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	return f, err == nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// mntDetach is Linux's MNT_DETACH (lazy unmount), spelled out so that the
// package still builds for other systems, where the syscall package lacks
// the name.
const mntDetach = 0x2
