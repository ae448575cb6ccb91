package profile

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sysfence/sysfence/syscalls"
)

// Decode reads a profile in any of the forms sysfence accepts: Docker's
// JSON (moby's schema with archMap, includes/excludes, name and comment),
// OCI's LinuxSeccomp JSON, or a whole OCI config.json, of which it takes
// linux.seccomp. Every problem is reported, joined with errors.Join: a
// *SyntaxError for malformed JSON, else one *FieldError per problem.
// Warnings (unknown keys, which Docker ignores too) are dropped; use
// DecodeWithWarnings to see them.
func Decode(data []byte) (*Profile, error) {
	p, _, err := DecodeWithWarnings(data)
	return p, err
}

// DecodeWithWarnings is Decode that also returns the warnings, each
// prefixed with the JSON path it concerns. Warnings are returned even when
// decoding fails.
func DecodeWithWarnings(data []byte) (*Profile, []string, error) {
	tree, err := parseTree(data)
	if err != nil {
		return nil, nil, fmt.Errorf("decode profile: %w", err)
	}
	w := &walker{}
	p := w.document(tree)
	if len(w.errs) > 0 {
		return nil, w.warns, fmt.Errorf("decode profile: %w", errors.Join(w.errs...))
	}
	return p, w.warns, nil
}

// document tells a config.json from a profile and reads the profile.
func (w *walker) document(tree any) *Profile {
	root, ok := w.asObject(tree, "")
	if !ok {
		if tree == nil {
			w.fail("", "expected an object, got null")
		}
		return nil
	}
	if !isConfig(root.m) {
		return w.profile(root, false)
	}
	v, path, ok := root.get(w, "linux")
	linux, ok2 := w.asObject(v, path)
	if !ok || !ok2 {
		if !ok {
			w.fail("linux.seccomp", "missing: the OCI config has no seccomp section")
		}
		return nil
	}
	v, path, ok = linux.get(w, "seccomp")
	sec, ok2 := w.asObject(v, path)
	if !ok || !ok2 {
		if !ok {
			w.fail(path, "missing: the OCI config has no seccomp section")
		}
		return nil
	}
	// runc reads linux.seccomp with the runtime-spec types, so Docker's
	// extensions there are unknown keys, not conditions.
	return w.profile(sec, true)
}

// isConfig reports whether a top-level object is an OCI config.json.
func isConfig(m map[string]any) bool {
	has := func(key string) bool {
		for k := range m {
			if strings.EqualFold(k, key) {
				return true
			}
		}
		return false
	}
	return (has("ociVersion") || has("linux")) && !has("defaultAction") && !has("syscalls")
}

// profile reads a Docker or (oci) LinuxSeccomp object.
func (w *walker) profile(o *object, oci bool) *Profile {
	p := &Profile{}
	v, path, ok := o.get(w, "defaultAction")
	if !ok {
		w.fail(path, "required")
	} else {
		p.DefaultAction = w.action(v, path)
		if p.DefaultAction == Notify {
			w.fail(path, "SCMP_ACT_NOTIFY cannot be the default action")
		}
	}
	if v, path, ok := o.get(w, "defaultErrnoRet"); ok {
		p.DefaultErrnoRet = w.errnoRet(v, path, p.DefaultAction)
	}
	archs, _, _ := o.get(w, "architectures")
	p.Architectures = w.archList(archs, join(o.path, "architectures"))
	if !oci {
		if v, path, ok := o.get(w, "archMap"); ok {
			p.ArchMap = w.archMap(v, path)
			// Docker refuses the pair when both lists are non-empty.
			a, _ := archs.([]any)
			if m, _ := v.([]any); len(a) > 0 && len(m) > 0 {
				w.fail(path, "must not be set together with architectures")
			}
		}
	}
	if v, path, ok := o.get(w, "listenerPath"); ok {
		p.ListenerPath, _ = w.asString(v, path)
	}
	if v, path, ok := o.get(w, "listenerMetadata"); ok {
		p.ListenerMetadata, _ = w.asString(v, path)
	}
	if v, path, ok := o.get(w, "flags"); ok {
		p.Flags = w.flags(v, path)
	}
	if v, path, ok := o.get(w, "syscalls"); ok {
		if a, ok := w.asArray(v, path); ok {
			for i, e := range a {
				if s, ok := w.syscall(e, index(path, i), oci); ok {
					p.Syscalls = append(p.Syscalls, s)
				}
			}
		}
	}
	o.finish(w)
	return p
}

func (w *walker) action(v any, path string) ActionKind {
	s, ok := w.asString(v, path)
	if !ok {
		return 0
	}
	k, err := ParseAction(s)
	if err != nil {
		w.fail(path, "%v", err)
	}
	return k
}

// errnoRet reads an errnoRet for an action of kind k (0 if it was bad).
func (w *walker) errnoRet(v any, path string, k ActionKind) *uint16 {
	n, ok := w.asUint(v, path)
	if !ok {
		return nil
	}
	if err := checkData(k, n); err != nil {
		w.fail(path, "%v", err)
		return nil
	}
	d := uint16(n)
	return &d
}

// checkData holds the rules for an errnoRet n on an action of kind k;
// k == 0 (an action already reported bad) only checks the 16-bit range.
func checkData(k ActionKind, n uint64) error {
	switch {
	case k != 0 && !k.TakesData():
		return fmt.Errorf("not allowed with %s (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one)", k)
	case k == Errno && n > MaxErrno:
		return fmt.Errorf("must be at most %d (MAX_ERRNO), got %d", MaxErrno, n)
	case n > 0xffff:
		return fmt.Errorf("must be at most 65535, got %d", n)
	}
	return nil
}

// ociArch finds an architecture by its OCI name, the only spelling runc
// and Docker's archMap accept.
func (w *walker) ociArch(v any, path string) *syscalls.Arch {
	s, ok := w.asString(v, path)
	if !ok {
		if v == nil {
			w.fail(path, "expected a string, got null")
		}
		return nil
	}
	for _, a := range syscalls.Arches {
		if a.OCI == s {
			return a
		}
	}
	if a, err := syscalls.Lookup(s); err == nil {
		w.fail(path, "unknown architecture %q (the OCI name is %q)", s, a.OCI)
	} else {
		w.fail(path, "unknown architecture %q", s)
	}
	return nil
}

func (w *walker) archList(v any, path string) []*syscalls.Arch {
	a, _ := w.asArray(v, path)
	var out []*syscalls.Arch
	for i, e := range a {
		if arch := w.ociArch(e, index(path, i)); arch != nil {
			out = append(out, arch)
		}
	}
	return out
}

func (w *walker) archMap(v any, path string) []ArchMapEntry {
	a, _ := w.asArray(v, path)
	var out []ArchMapEntry
	for i, e := range a {
		o, ok := w.asObject(e, index(path, i))
		if !ok {
			if e == nil {
				w.fail(index(path, i), "expected an object, got null")
			}
			continue
		}
		var m ArchMapEntry
		if v, p, ok := o.get(w, "architecture"); ok {
			m.Arch = w.ociArch(v, p)
		} else {
			w.fail(p, "required")
		}
		if v, p, ok := o.get(w, "subArchitectures"); ok {
			m.SubArches = w.archList(v, p)
		}
		o.finish(w)
		if m.Arch != nil {
			out = append(out, m)
		}
	}
	return out
}

func (w *walker) flags(v any, path string) []string {
	var out []string
	w.eachString(v, path, func(_ int, f, path string) {
		if !validFlag(f) {
			w.fail(path, "unknown flag %q", f)
			return
		}
		out = append(out, f)
	})
	return out
}
