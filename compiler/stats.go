package compiler

import (
	"time"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
)

// Stats describes a compiled program: its size, how many instructions the
// kernel runs per syscall, and what the kernel's action cache can skip.
type Stats struct {
	Instructions      int           `json:"instructions"`
	NaiveInstructions int           `json:"naiveInstructions"` // before optimization
	Arches            []ArchStats   `json:"arches"`
	Probes            []ProbeStats  `json:"probes"`
	BuildTime         time.Duration `json:"buildTimeNs"`
}

// ArchStats are the per-architecture figures, over every number from the
// architecture's first to its last syscall, with all arguments zero.
type ArchStats struct {
	Arch     string  `json:"arch"`
	Numbers  int     `json:"numbers"`
	MeanPath float64 `json:"meanPath"`
	MaxPath  int     `json:"maxPath"`
	// Ideal counts numbers whose verdict is ALLOW whatever the arguments;
	// Cacheable counts those the kernel's action cache proves constant.
	Ideal     int      `json:"ideal"`
	Cacheable int      `json:"cacheable"`
	Uncached  []string `json:"uncached,omitempty"` // ideal but not cacheable
}

// ProbeStats is the path length of one argument-checked call.
type ProbeStats struct {
	Arch    string    `json:"arch"`
	Syscall string    `json:"syscall"`
	Args    [6]uint64 `json:"args"`
	Path    int       `json:"path"`
	Verdict string    `json:"verdict"`
}

// ProbeCall is a system call with arguments whose path length Stats reports.
type ProbeCall struct {
	Name string
	Args [6]uint64
}

// ProbeCalls are the argument-checked calls of Docker's default profile
// whose cost the README reports: clone as glibc's pthread_create calls it,
// socket(AF_INET, SOCK_STREAM), and personality(0xffffffff), the query
// glibc makes.
var ProbeCalls = []ProbeCall{
	{"clone", [6]uint64{0x3d0f00}},
	{"socket", [6]uint64{2, 1}},
	{"personality", [6]uint64{0xffffffff}},
}

// Stats measures the program: it runs it in the VM for every syscall number
// of every architecture, so it costs far more than Compile itself.
func (p *Program) Stats() Stats {
	s := Stats{Instructions: len(p.Instructions), NaiveInstructions: p.NaiveLen, BuildTime: p.BuildTime}
	vm, err := bpf.NewProgram(p.Instructions)
	if err != nil {
		panic("compiler: compiled program does not validate: " + err.Error())
	}
	for _, t := range p.tables {
		s.Arches = append(s.Arches, archStats(p, vm, t))
		for _, c := range ProbeCalls {
			nr, ok := t.arch.Number(c.Name)
			if !ok {
				continue
			}
			d := bpf.Data{Nr: int32(nr), Arch: t.arch.Audit, Args: c.Args}
			s.Probes = append(s.Probes, ProbeStats{
				Arch: t.arch.Name, Syscall: c.Name, Args: c.Args,
				Path:    vm.PathLength(d, t.arch.BigEndian),
				Verdict: profile.FormatRet(vm.Run(d, t.arch.BigEndian)),
			})
		}
	}
	return s
}

func archStats(p *Program, vm *bpf.Program, t *archTable) ArchStats {
	a := t.arch
	st := ArchStats{Arch: a.Name}
	total := 0
	for nr := a.Min(); nr <= a.Max(); nr++ {
		d := bpf.Data{Nr: int32(nr), Arch: a.Audit}
		n := vm.PathLength(d, a.BigEndian)
		total += n
		st.MaxPath = max(st.MaxPath, n)
		st.Numbers++
		if !p.alwaysAllowed(t, nr) {
			continue
		}
		st.Ideal++
		if bpf.ConstantAllow(p.Instructions, a.Audit, nr) {
			st.Cacheable++
		} else {
			name, _ := a.SyscallName(nr)
			st.Uncached = append(st.Uncached, name)
		}
	}
	if st.Numbers > 0 {
		st.MeanPath = float64(total) / float64(st.Numbers)
	}
	return st
}

// alwaysAllowed reports whether number nr of t is ALLOWed whatever the
// arguments, according to the compiler's own decision tables.
func (p *Program) alwaysAllowed(t *archTable, nr uint32) bool {
	if d, ok := t.named[nr]; ok {
		return d.constant() && d.fallback.Kind == profile.Allow
	}
	if t.stub && nr > t.max {
		return false
	}
	return p.res.DefaultAction.Kind == profile.Allow
}
