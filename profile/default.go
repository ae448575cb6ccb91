package profile

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrNotSupported is returned for what this system cannot do.
var ErrNotSupported = errors.New("not supported on this system")

// defaultProfile converts moby's built-in profile once: it goes through
// its own JSON form and Decode, so it passes the same checks as a file.
var defaultProfile = sync.OnceValues(func() (*Profile, error) {
	data, err := mobyDefaultJSON()
	if err != nil {
		return nil, fmt.Errorf("built-in default profile: %w", err)
	}
	p, err := Decode(data)
	if err != nil {
		// The module is pinned in go.mod and a test decodes it: a failure
		// here is a broken build, not bad input.
		panic(fmt.Sprintf("profile: decode moby's default profile: %v", err))
	}
	return p, nil
})

// Default returns Docker's built-in default profile, as the
// github.com/moby/profiles/seccomp module this build depends on defines
// it. Each call returns a fresh copy the caller may change. The module
// defines it on Linux only; elsewhere Default returns an error wrapping
// ErrNotSupported.
func Default() (*Profile, error) {
	p, err := defaultProfile()
	if err != nil {
		return nil, err
	}
	return p.Clone(), nil
}

// MustDefault is Default for Linux-only callers such as tests; it panics
// where the default profile is not available.
func MustDefault() *Profile {
	p, err := Default()
	if err != nil {
		panic(err)
	}
	return p
}

// Clone returns a deep copy of p.
func (p *Profile) Clone() *Profile {
	if p == nil {
		return nil
	}
	q := *p
	q.DefaultErrnoRet = clonePtr(p.DefaultErrnoRet)
	q.Architectures = slices.Clone(p.Architectures)
	q.Flags = slices.Clone(p.Flags)
	q.ArchMap = nil
	for _, m := range p.ArchMap {
		q.ArchMap = append(q.ArchMap, ArchMapEntry{Arch: m.Arch, SubArches: slices.Clone(m.SubArches)})
	}
	q.Syscalls = nil
	for _, s := range p.Syscalls {
		s.Names = slices.Clone(s.Names)
		s.ErrnoRet = clonePtr(s.ErrnoRet)
		s.Args = slices.Clone(s.Args)
		s.Includes = s.Includes.clone()
		s.Excludes = s.Excludes.clone()
		q.Syscalls = append(q.Syscalls, s)
	}
	return &q
}

func (f *Filter) clone() *Filter {
	if f == nil {
		return nil
	}
	return &Filter{Caps: slices.Clone(f.Caps), Arches: slices.Clone(f.Arches), MinKernel: clonePtr(f.MinKernel)}
}
