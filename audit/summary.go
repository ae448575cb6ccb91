package audit

import (
	"slices"
	"time"
)

// Key is what records are grouped by.
type Key struct {
	Comm    string `json:"comm"`
	Exe     string `json:"exe"`
	PID     int    `json:"pid,omitempty"` // 0 unless the summary groups by pid
	Arch    string `json:"arch"`
	Syscall string `json:"syscall"`
	Action  string `json:"action"`
}

// Group is the records of one Key.
type Group struct {
	Key
	Number uint32    `json:"number"` // the syscall number, x32 bit included
	Count  int       `json:"count"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
	PIDs   []int     `json:"pids"` // distinct pids, ascending
}

// Summary groups records by Key.
type Summary struct {
	// ByPID puts the pid in the key; otherwise a group lists its pids.
	ByPID  bool
	groups map[Key]*Group
	order  []*Group
}

// Add counts one record.
func (s *Summary) Add(r *Record) {
	k := Key{Comm: r.Comm, Exe: r.Exe, Arch: r.ArchName(), Syscall: r.Syscall(), Action: r.Action()}
	if s.ByPID {
		k.PID = r.PID
	}
	if s.groups == nil {
		s.groups = make(map[Key]*Group)
	}
	g := s.groups[k]
	if g == nil {
		g = &Group{Key: k, Number: r.Number, First: r.Time, Last: r.Time}
		s.groups[k] = g
		s.order = append(s.order, g)
	}
	g.Count++
	if r.Time.Before(g.First) {
		g.First = r.Time
	}
	if r.Time.After(g.Last) {
		g.Last = r.Time
	}
	if i, found := slices.BinarySearch(g.PIDs, r.PID); !found {
		g.PIDs = slices.Insert(g.PIDs, i, r.PID)
	}
}

// Groups returns the groups in the order their first record came.
func (s *Summary) Groups() []Group {
	out := make([]Group, len(s.order))
	for i, g := range s.order {
		out[i] = *g
		out[i].PIDs = slices.Clone(g.PIDs)
	}
	return out
}

// Records is the number of records counted.
func (s *Summary) Records() int {
	n := 0
	for _, g := range s.order {
		n += g.Count
	}
	return n
}
