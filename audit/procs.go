package audit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Tree tells whether a pid belongs to a container-like process tree: its
// root (a container's init), or a process that, when Contains is first
// asked about it, shares the root's pid namespace, is in the root's
// cgroup, or descends from the root. A process that has exited by then
// cannot be placed, since audit records carry no namespace or cgroup.
type Tree struct {
	Root   int
	ns     string // the root's /proc/PID/ns/pid link
	cgroup string // the root's cgroup.procs file, "" without cgroup v2
	seen   map[int]bool
}

// NewTree reads the root process's pid namespace and cgroup.
func NewTree(root int) (*Tree, error) {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", root))
	if err != nil {
		return nil, fmt.Errorf("read pid namespace of process %d: %w", root, err)
	}
	t := &Tree{Root: root, ns: ns, seen: map[int]bool{root: true}}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", root)); err == nil {
		for line := range strings.Lines(string(b)) {
			if path, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
				t.cgroup = "/sys/fs/cgroup" + path + "/cgroup.procs"
			}
		}
	}
	return t, nil
}

// Contains reports whether pid belongs to the tree; the answer for a pid
// is kept, so a pid reused later keeps its first answer.
func (t *Tree) Contains(pid int) bool {
	in, ok := t.seen[pid]
	if !ok {
		in = t.sameNS(pid) || t.inCgroup(pid) || t.descends(pid)
		t.seen[pid] = in
	}
	return in
}

func (t *Tree) sameNS(pid int) bool {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	return err == nil && ns == t.ns
}

func (t *Tree) inCgroup(pid int) bool {
	if t.cgroup == "" {
		return false
	}
	b, err := os.ReadFile(t.cgroup)
	if err != nil {
		return false
	}
	want := strconv.Itoa(pid)
	for line := range strings.Lines(string(b)) {
		if strings.TrimSpace(line) == want {
			return true
		}
	}
	return false
}

// descends walks the parent chain of a live process up to the root.
func (t *Tree) descends(pid int) bool {
	for range 64 {
		ppid, err := parentOf(pid)
		if err != nil || ppid <= 1 {
			return false
		}
		if ppid == t.Root {
			return true
		}
		pid = ppid
	}
	return false
}

func parentOf(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "PPid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("read parent of process %d: no PPid line", pid)
}
