package profile

import (
	"slices"
)

// MaxArgs is how many arguments a system call has, so an arg index must be
// below it.
const MaxArgs = 6

// syscall reads one entry of the syscalls list; ok is false if it is not
// an object at all.
func (w *walker) syscall(v any, path string, oci bool) (Syscall, bool) {
	var s Syscall
	o, ok := w.asObject(v, path)
	if !ok {
		if v == nil {
			w.fail(path, "expected an object, got null")
		}
		return s, false
	}
	w.names(o, &s, oci)
	if v, p, ok := o.get(w, "action"); ok {
		s.Action = w.action(v, p)
	} else {
		w.fail(p, "required")
	}
	if v, p, ok := o.get(w, "errnoRet"); ok {
		s.ErrnoRet = w.errnoRet(v, p, s.Action)
	}
	if v, p, ok := o.get(w, "args"); ok {
		a, _ := w.asArray(v, p)
		for i, e := range a {
			if arg, ok := w.arg(e, index(p, i)); ok {
				s.Args = append(s.Args, arg)
			}
		}
	}
	if !oci {
		if v, p, ok := o.get(w, "comment"); ok {
			s.Comment, _ = w.asString(v, p)
		}
		if v, p, ok := o.get(w, "includes"); ok {
			s.Includes = w.filter(v, p)
		}
		if v, p, ok := o.get(w, "excludes"); ok {
			s.Excludes = w.filter(v, p)
		}
	}
	o.finish(w)
	return s, true
}

// names reads name and names. Like Docker, an empty name counts as absent;
// unlike Docker, an entry that names nothing is an error.
func (w *walker) names(o *object, s *Syscall, oci bool) {
	var name string
	before := len(w.errs)
	if !oci {
		if v, p, ok := o.get(w, "name"); ok {
			name, _ = w.asString(v, p)
		}
	}
	v, namesPath, _ := o.get(w, "names")
	w.eachString(v, namesPath, func(_ int, n, p string) {
		if n == "" {
			w.fail(p, "must not be empty")
		}
		s.Names = append(s.Names, n)
	})
	switch {
	case name != "" && len(s.Names) > 0:
		w.fail(o.path, "both name and names are set")
	case name != "":
		s.Names, s.UsedName = []string{name}, true
	case len(s.Names) == 0 && len(w.errs) == before:
		w.fail(namesPath, "must list at least one system call")
	}
}

func (w *walker) arg(v any, path string) (Arg, bool) {
	var a Arg
	o, ok := w.asObject(v, path)
	if !ok {
		if v == nil {
			w.fail(path, "expected an object, got null")
		}
		return a, false
	}
	good := true
	// A missing index, value or valueTwo is 0, as in Docker.
	if v, p, ok := o.get(w, "index"); ok {
		n, ok := w.asUint(v, p)
		switch {
		case !ok:
			good = false
		case n >= MaxArgs:
			w.fail(p, "must be < %d, got %d", MaxArgs, n)
			good = false
		}
		a.Index = uint(n)
	}
	for _, f := range []struct {
		key string
		dst *uint64
	}{{"value", &a.Value}, {"valueTwo", &a.ValueTwo}} {
		if v, p, ok := o.get(w, f.key); ok {
			n, ok := w.asUint(v, p)
			good = good && ok
			*f.dst = n
		}
	}
	if v, p, ok := o.get(w, "op"); !ok {
		w.fail(p, "required")
		good = false
	} else if s, ok := w.asString(v, p); ok {
		op, err := ParseOperator(s)
		if err != nil {
			w.fail(p, "%v", err)
		}
		a.Op = op
		good = good && err == nil
	} else {
		good = false
	}
	o.finish(w)
	return a, good
}

// filter reads an includes or excludes object.
func (w *walker) filter(v any, path string) *Filter {
	o, ok := w.asObject(v, path)
	if !ok {
		return nil
	}
	f := &Filter{}
	if v, p, ok := o.get(w, "caps"); ok {
		w.eachString(v, p, func(_ int, c, p string) {
			if !KnownCap(c) {
				w.fail(p, "unknown capability %q (want a CAP_* name)", c)
			}
			f.Caps = append(f.Caps, c)
		})
	}
	if v, p, ok := o.get(w, "arches"); ok {
		w.eachString(v, p, func(_ int, a, p string) {
			if !knownMobyArch(a) {
				w.fail(p, "unknown architecture %q (Docker compares names like amd64, arm64, x86)", a)
			}
			f.Arches = append(f.Arches, a)
		})
	}
	if v, p, ok := o.get(w, "minKernel"); ok {
		if s, ok := w.asString(v, p); ok {
			k, err := parseMinKernel(s)
			if err != nil {
				w.fail(p, "%v", err)
			}
			f.MinKernel = k
		}
	}
	o.finish(w)
	return f
}

// knownMobyArch reports whether Docker could ever see name as the native
// architecture, or it is x32, which its default profile names.
func knownMobyArch(name string) bool {
	return name == "x32" || slices.Contains(mobyNative, name)
}
