package recorder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The eBPF back end tells recorded tasks apart by their cgroup v2 id: a
// command is started in a fresh cgroup, and a container already has its own.

// cgroup2Root returns where the cgroup v2 hierarchy is mounted
// (/sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones).
func cgroup2Root() (string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// "36 25 0:30 / /sys/fs/cgroup rw,… shared:9 - cgroup2 cgroup2 rw"
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, postFields := strings.Fields(pre), strings.Fields(post)
		if ok && len(fields) >= 5 && len(postFields) >= 1 && postFields[0] == "cgroup2" {
			return fields[4], nil
		}
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)")
}

// cgroupID is the id bpf_get_current_cgroup_id returns for the cgroup at
// path: the inode number of its directory.
func cgroupID(path string) (uint64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return inode(path, fi)
}

// inode is the inode number of fi, the file at path: a cgroup's id.
func inode(path string, fi os.FileInfo) (uint64, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("%s: no inode number", path)
	}
	return st.Ino, nil
}

// recordCgroup is a cgroup made for one recorded command.
type recordCgroup struct {
	path string
	id   uint64
}

// newRecordCgroup makes an empty cgroup under the v2 root.
func newRecordCgroup() (*recordCgroup, error) {
	root, err := cgroup2Root()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(root, fmt.Sprintf("sysfence-record-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(path, 0o755); err != nil {
		return nil, fmt.Errorf("making a cgroup for the recorded command: %w", err)
	}
	id, err := cgroupID(path)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return &recordCgroup{path: path, id: id}, nil
}

// add moves process pid into the cgroup.
func (c *recordCgroup) add(pid int) error {
	if err := os.WriteFile(filepath.Join(c.path, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("moving pid %d into %s: %w", pid, c.path, err)
	}
	return nil
}

// populated reports whether any process is left in the cgroup at path; a
// cgroup that no longer exists is not.
func populated(path string) (bool, error) {
	data, err := os.ReadFile(filepath.Join(path, "cgroup.events"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "populated "); ok {
			return v != "0", nil
		}
	}
	return false, fmt.Errorf("%s/cgroup.events: no populated line", path)
}

// kill ends every process in the cgroup.
func (c *recordCgroup) kill() {
	if os.WriteFile(filepath.Join(c.path, "cgroup.kill"), []byte("1"), 0) == nil {
		return
	}
	data, _ := os.ReadFile(filepath.Join(c.path, "cgroup.procs")) // kernels before 5.14 have no cgroup.kill
	for f := range strings.FieldsSeq(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// remove deletes the cgroup once it is empty, waiting briefly for exiting
// tasks to leave it.
func (c *recordCgroup) remove() {
	for range 100 {
		if err := os.Remove(c.path); err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processCgroup returns the cgroup v2 directory of process pid.
func processCgroup(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	root, err := cgroup2Root()
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rel, ok := strings.CutPrefix(line, "0::"); ok {
			return filepath.Join(root, rel), nil
		}
	}
	return "", fmt.Errorf("process %d is in no cgroup v2 cgroup", pid)
}
