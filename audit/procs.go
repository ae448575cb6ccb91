package audit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Tree tells whether a pid belongs to a container-like process tree: its
// root (a container's init), or a process that, when Contains is first
// asked about it, shares the root's pid namespace, is in one of the
// root's cgroups (other than the root cgroup "/") or below it, or descends
// from the root. A process that has exited by then
// cannot be placed, since audit records carry no namespace or cgroup.
type Tree struct {
	Root   int
	ns     string            // the root's /proc/PID/ns/pid link
	cgroup map[string]string // the root's cgroups other than "/", by hierarchy
	seen   map[int]bool
}

// NewTree reads the root process's pid namespace and cgroup.
func NewTree(root int) (*Tree, error) {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", root))
	if err != nil {
		return nil, fmt.Errorf("read pid namespace of process %d: %w", root, err)
	}
	t := &Tree{Root: root, ns: ns, seen: map[int]bool{root: true}}
	t.cgroup, err = cgroupsOf(root)
	if err != nil {
		return nil, err
	}
	for h, path := range t.cgroup {
		if path == "/" {
			delete(t.cgroup, h)
		}
	}
	return t, nil
}

// cgroupsOf reads /proc/PID/cgroup: path by "ID:CONTROLLERS" hierarchy,
// for cgroup v1 and v2 alike.
func cgroupsOf(pid int) (map[string]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, fmt.Errorf("read cgroups of process %d: %w", pid, err)
	}
	out := map[string]string{}
	for line := range strings.Lines(string(b)) {
		i := strings.LastIndexByte(line, ':')
		if i > 0 {
			out[line[:i]] = strings.TrimSpace(line[i+1:])
		}
	}
	return out, nil
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

// inCgroup reports whether pid is in one of the root's cgroups or below.
func (t *Tree) inCgroup(pid int) bool {
	if len(t.cgroup) == 0 {
		return false
	}
	cg, err := cgroupsOf(pid)
	if err != nil {
		return false
	}
	for h, path := range t.cgroup {
		if p, ok := cg[h]; ok && (p == path || strings.HasPrefix(p, path+"/")) {
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
