package profile

import (
	"errors"
	"fmt"

	"github.com/sysfence/sysfence/syscalls"
)

// Validate checks a Profile built in Go against the rules Decode applies
// to JSON, with the same paths; a decoded profile always passes. Resolve
// calls it first.
func (p *Profile) Validate() error {
	w := &walker{}
	if p == nil {
		w.fail("", "no profile")
		return errors.Join(w.errs...)
	}
	w.checkAction(p.DefaultAction, "defaultAction")
	if p.DefaultAction == Notify {
		w.fail("defaultAction", "SCMP_ACT_NOTIFY cannot be the default action")
	}
	w.checkData(p.DefaultAction, p.DefaultErrnoRet, "defaultErrnoRet")
	w.checkArches(p.Architectures, "architectures")
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		w.fail("archMap", "must not be set together with architectures")
	}
	for i, m := range p.ArchMap {
		path := index("archMap", i)
		if m.Arch == nil {
			w.fail(join(path, "architecture"), "required")
		}
		w.checkArches(m.SubArches, join(path, "subArchitectures"))
	}
	for i, f := range p.Flags {
		if !validFlag(f) {
			w.fail(index("flags", i), "unknown flag %q", f)
		}
	}
	for i := range p.Syscalls {
		w.checkSyscall(&p.Syscalls[i], index("syscalls", i))
	}
	return errors.Join(w.errs...)
}

func (w *walker) checkAction(k ActionKind, path string) {
	if _, ok := actionCanon[k]; !ok {
		w.fail(path, "unknown action %d", k)
	}
}

func (w *walker) checkData(k ActionKind, d *uint16, path string) {
	if d == nil {
		return
	}
	if err := checkData(k, uint64(*d)); err != nil {
		w.fail(path, "%v", err)
	}
}

func (w *walker) checkArches(as []*syscalls.Arch, path string) {
	for i, a := range as {
		if a == nil {
			w.fail(index(path, i), "no architecture")
		}
	}
}

func (w *walker) checkSyscall(s *Syscall, path string) {
	if len(s.Names) == 0 {
		w.fail(join(path, "names"), "must list at least one system call")
	}
	for i, n := range s.Names {
		if n == "" {
			w.fail(index(join(path, "names"), i), "must not be empty")
		}
	}
	w.checkAction(s.Action, join(path, "action"))
	w.checkData(s.Action, s.ErrnoRet, join(path, "errnoRet"))
	for i, a := range s.Args {
		p := index(join(path, "args"), i)
		if a.Index >= MaxArgs {
			w.fail(join(p, "index"), "must be < %d, got %d", MaxArgs, a.Index)
		}
		if _, ok := opCanon(a.Op); !ok {
			w.fail(join(p, "op"), "unknown operator %d", a.Op)
		}
	}
	w.checkFilter(s.Includes, join(path, "includes"))
	w.checkFilter(s.Excludes, join(path, "excludes"))
}

func (w *walker) checkFilter(f *Filter, path string) {
	if f == nil {
		return
	}
	for i, c := range f.Caps {
		if !KnownCap(c) {
			w.fail(index(join(path, "caps"), i), "unknown capability %q (want a CAP_* name)", c)
		}
	}
	for i, a := range f.Arches {
		if !knownMobyArch(a) {
			w.fail(index(join(path, "arches"), i), "unknown architecture %q", a)
		}
	}
	if f.MinKernel != nil {
		if err := checkMinKernel(*f.MinKernel); err != nil {
			w.fail(join(path, "minKernel"), "%v", err)
		}
	}
}

// opCanon returns the SCMP_CMP_* name of op, if it is one.
func opCanon(op Operator) (string, bool) {
	for n, o := range operatorNames {
		if o == op {
			return n, true
		}
	}
	return "", false
}

// String returns the SCMP_CMP_* name of op.
func (op Operator) String() string {
	if s, ok := opCanon(op); ok {
		return s
	}
	return fmt.Sprintf("Operator(%d)", op)
}
