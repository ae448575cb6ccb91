package compiler_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/internal/dockertest"
	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/kernel"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// comparedArches are the ABIs of an x86_64 host that Docker's filter covers.
var comparedArches = []*syscalls.Arch{syscalls.X86_64, syscalls.X86, syscalls.X32}

// TestIdenticalToDocker runs every corpus profile under real Docker, dumps
// the filter the container really has, and compares its verdicts with our
// program's on every syscall number of x86_64, x86 and x32 (and the edges
// of the number space) with argument values at and around every value the
// profile mentions.
//
// The engine's libseccomp may predate syscalls our table knows; runc then
// ignores rules on them. The test compiles twice: once restricted to the
// names that libseccomp knows (zero differences allowed), once with our
// full table, where every difference must be on a number of a syscall that
// libseccomp does not know, or above libseccomp's ENOSYS-stub bound.
func TestIdenticalToDocker(t *testing.T) {
	testutil.RequireDocker(t)
	testutil.RequireFilterDump(t)
	known := libseccompNames(t)
	engine := detectEngine(t)
	t.Logf("engine: dockerd %s (drops defaultErrnoRet: %v), runc %s (stub only for listed arches: %v)",
		engine.dockerd, engine.dropsDefaultErrnoRet, engine.runc, engine.legacyRunc)
	cases := append([]corpusCase{
		{name: "docker-default"},
		{name: "docker-default-cap-sys-admin", capAdd: []string{"SYS_ADMIN"}},
		// The capabilities the default profile's includes/excludes name,
		// less BPF and PERFMON, which Docker 20.10 does not know (ALL
		// would also need CAP_SYS_RESOURCE, which sandboxes may lack).
		{name: "docker-default-many-caps", capAdd: []string{"SYS_ADMIN", "SYS_BOOT", "SYS_MODULE", "SYS_PACCT",
			"SYS_PTRACE", "SYS_RAWIO", "SYS_TIME", "SYS_TTY_CONFIG", "SYS_NICE", "SYSLOG", "DAC_READ_SEARCH"}},
		{name: "docker-default-no-caps", capDrop: []string{"ALL"}},
	}, corpus()...)
	if len(cases) < 25 {
		t.Fatalf("corpus has %d profiles, want at least 25", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := corpusJSON(c)
			var args []string
			for _, a := range c.capAdd {
				args = append(args, "--cap-add", a)
			}
			for _, a := range c.capDrop {
				args = append(args, "--cap-drop", a)
			}
			if c.profile != nil {
				// With no_new_privs runc loads the filter just before
				// execve, so a restrictive corpus profile needs to allow
				// only a few calls for the container to start. The filter
				// itself is the same either way.
				args = append(args, "--security-opt", "no-new-privileges")
			}
			filters := dockertest.RunWithProfile(t, data, args...)
			if len(filters) != 1 {
				t.Fatalf("container has %d filters, want 1", len(filters))
			}
			docker := filters[0]
			res := resolveCase(t, c, engine.view(t, data), engine.legacyRunc)
			inputs := inputsFor(res, comparedArches...)

			restricted, err := compiler.Compile(res, compiler.Options{KnownName: known.has})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			diffs, err := compare(docker, restricted.Instructions, inputs)
			if err != nil {
				t.Fatal(err)
			}
			reportDiffs(t, "restricted to libseccomp's table", diffs, docker, restricted.Instructions)

			full, err := compiler.Compile(res, compiler.Options{})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			diffs, err = compare(docker, full.Instructions, inputs)
			if err != nil {
				t.Fatal(err)
			}
			var unexplained []difference
			for _, d := range diffs {
				if !known.explains(res, d.in) {
					unexplained = append(unexplained, d)
				}
			}
			reportDiffs(t, "full table, unexplained", unexplained, docker, full.Instructions)
			t.Logf("%d inputs; Docker's filter %d instructions, ours %d; %d expected differences from syscalls newer than the engine's libseccomp",
				len(inputs), len(docker), len(full.Instructions), len(diffs))
		})
	}
}

func resolveCase(t *testing.T, c corpusCase, data []byte, legacyRunc bool) *profile.Resolved {
	t.Helper()
	p, err := profile.Decode(data)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	caps, err := applyCaps(c.capAdd, c.capDrop)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := profile.ParseKernel(hostRelease(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := profile.Resolve(p, profile.Target{Arch: syscalls.X86_64, Kernel: kv, Caps: caps, LegacyRunc: legacyRunc})
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	return res
}

func reportDiffs(t *testing.T, what string, diffs []difference, docker, ours []bpf.Instruction) {
	t.Helper()
	if len(diffs) == 0 {
		return
	}
	for i, d := range diffs {
		if i == 20 {
			t.Errorf("… and %d more", len(diffs)-20)
			break
		}
		t.Errorf("%s: %v: Docker %s, ours %s", what, d.in, profile.FormatRet(d.want), profile.FormatRet(d.got))
	}
	t.Logf("Docker's filter:\n%s", bpf.Disassemble(docker))
	t.Logf("our filter:\n%s", bpf.Disassemble(ours))
}

// applyCaps applies --cap-add/--cap-drop to Docker's default set.
func applyCaps(add, drop []string) ([]string, error) {
	var caps []string
	dropAll := false
	for _, d := range drop {
		dropAll = dropAll || d == "ALL"
	}
	if !dropAll {
	next:
		for _, c := range profile.DefaultCaps() {
			for _, d := range drop {
				if "CAP_"+d == c {
					continue next
				}
			}
			caps = append(caps, c)
		}
	}
	for _, a := range add {
		if a == "ALL" {
			return profile.AllCaps(), nil
		}
		caps = append(caps, "CAP_"+a)
	}
	return caps, nil
}

func hostRelease(t *testing.T) string {
	r, err := kernel.Release()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// knownNames is the syscall table of the engine's libseccomp, read with
// scmp_sys_resolver (Debian's seccomp package, same libseccomp as runc's).
type knownNames map[*syscalls.Arch]map[string]uint32

var (
	knownOnce sync.Once
	knownVal  knownNames
	knownErr  error
)

func libseccompNames(t *testing.T) knownNames {
	t.Helper()
	if _, err := exec.LookPath("scmp_sys_resolver"); err != nil {
		testutil.Unavailable(t, "scmp_sys_resolver not installed (apt-get install seccomp): %v", err)
	}
	knownOnce.Do(func() { knownVal, knownErr = readLibseccompNames() })
	if knownErr != nil {
		t.Fatal(knownErr)
	}
	return knownVal
}

func readLibseccompNames() (knownNames, error) {
	k := knownNames{}
	for _, a := range comparedArches {
		k[a] = map[string]uint32{}
		names := a.Names()
		out, err := exec.Command("sh", "-c", resolverScript(a.Name, names)).Output()
		if err != nil {
			return nil, err
		}
		for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
			if err != nil || i >= len(names) {
				continue
			}
			switch {
			case n >= 0:
				k[a][names[i]] = uint32(n)
			case n <= -100 && n > -300:
				// libseccomp's socketcall/ipc pseudo numbers (socket is
				// -101 on x86): it knows the name and multiplexes it;
				// the direct number comes from the same table as ours.
				// Pseudo numbers ≤ -10000 mean "not on this ABI".
				k[a][names[i]], _ = a.Number(names[i])
			}
		}
	}
	return k, nil
}

func resolverScript(arch string, names []string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString("scmp_sys_resolver -a " + arch + " " + n + " || echo -1\n")
	}
	return b.String()
}

// has reports whether libseccomp knows name on a with our number for it.
func (k knownNames) has(a *syscalls.Arch, name string) bool {
	m, ok := k[a]
	if !ok {
		return true
	}
	nr, ok := m[name]
	ours, _ := a.Number(name)
	return ok && nr == ours
}

// explains reports whether a difference between Docker's filter and ours
// comes from the engine's older libseccomp table (see olderTableExplains).
func (k knownNames) explains(res *profile.Resolved, in input) bool {
	return olderTableExplains(res, in, k.has)
}

// engineSemantics is what the Docker engine under test does differently
// from current Docker: dockerd before 23.0 drops defaultErrnoRet (and
// flags and the listener fields) from the profile, and runc before 1.2
// builds its ENOSYS stub only for the architectures the profile lists.
type engineSemantics struct {
	dockerd, runc        string
	dropsDefaultErrnoRet bool
	legacyRunc           bool
}

func detectEngine(t *testing.T) engineSemantics {
	t.Helper()
	var e engineSemantics
	out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").Output()
	if err != nil {
		t.Fatalf("docker version: %v", err)
	}
	e.dockerd = strings.TrimSpace(string(out))
	e.dropsDefaultErrnoRet = versionBefore(e.dockerd, 23, 0)
	out, err = exec.Command("runc", "--version").Output()
	if err != nil {
		t.Fatalf("runc --version: %v", err)
	}
	f := strings.Fields(string(out)) // "runc version 1.1.5 …"
	if len(f) < 3 {
		t.Fatalf("runc --version: unexpected output %q", out)
	}
	e.runc = f[2]
	e.legacyRunc = versionBefore(e.runc, 1, 2)
	return e
}

// versionBefore reports whether version "X.Y…" is older than major.minor.
func versionBefore(v string, major, minor int) bool {
	var x, y int
	fmt.Sscanf(v, "%d.%d", &x, &y)
	return x < major || x == major && y < minor
}

// view is the profile as the engine hands it to runc: an old dockerd
// drops the keys it does not know.
func (e engineSemantics) view(t *testing.T, data []byte) []byte {
	if !e.dropsDefaultErrnoRet {
		return data
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep 64-bit values exact
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"defaultErrnoRet", "flags", "listenerPath", "listenerMetadata"} {
		delete(m, k)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
