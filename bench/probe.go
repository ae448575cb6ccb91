package bench

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sysfence/sysfence/syscalls"
)

// Probe is one system call the benchmark times, with fixed arguments.
type Probe struct {
	Name string    `json:"name"`
	Nr   uint32    `json:"nr"`
	Args [6]uint64 `json:"args"`
	// NArgs is how many arguments were given, for printing.
	NArgs int `json:"nargs"`
}

// String spells the probe as NAME(A0, …) with arguments in hex.
func (p Probe) String() string {
	parts := make([]string, p.NArgs)
	for i := range parts {
		parts[i] = fmt.Sprintf("%#x", p.Args[i])
	}
	return p.Name + "(" + strings.Join(parts, ", ") + ")"
}

// DefaultSpecs are the default probes in ParseProbe's syntax: getppid (a
// call the kernel's action cache makes free, Linux ≥ 5.11), personality
// with the query argument (an allowed call whose argument the filter
// checks), and swapon with invalid flags (denied by Docker's default
// profile without CAP_SYS_ADMIN; unfiltered, the kernel rejects the flags
// with EINVAL before anything else, so the baseline is harmless too).
var DefaultSpecs = []string{"getppid", "personality:0xffffffff", "swapon:0,0xffffffff"}

// ParseProbe parses NAME[:A0,A1,…] (arguments decimal or 0x hex, at most
// six) into a probe for arch.
func ParseProbe(spec string, arch *syscalls.Arch) (Probe, error) {
	name, argList, hasArgs := strings.Cut(spec, ":")
	name = strings.TrimSpace(name)
	nr, ok := arch.Number(name)
	if !ok {
		return Probe{}, fmt.Errorf("probe %q: unknown system call %q on %s", spec, name, arch)
	}
	p := Probe{Name: name, Nr: nr}
	if !hasArgs {
		return p, nil
	}
	args := strings.Split(argList, ",")
	if len(args) > len(p.Args) {
		return Probe{}, fmt.Errorf("probe %q: %d arguments, want at most 6", spec, len(args))
	}
	for i, a := range args {
		v, err := strconv.ParseUint(strings.TrimSpace(a), 0, 64)
		if err != nil {
			return Probe{}, fmt.Errorf("probe %q: argument %d: want a decimal or 0x hex number: %w", spec, i, err)
		}
		p.Args[i] = v
	}
	p.NArgs = len(args)
	return p, nil
}

// ParseProbes parses every spec, or DefaultSpecs when specs is empty.
func ParseProbes(specs []string, arch *syscalls.Arch) ([]Probe, error) {
	if len(specs) == 0 {
		specs = DefaultSpecs
	}
	probes := make([]Probe, 0, len(specs))
	for _, s := range specs {
		p, err := ParseProbe(s, arch)
		if err != nil {
			return nil, err
		}
		probes = append(probes, p)
	}
	return probes, nil
}
