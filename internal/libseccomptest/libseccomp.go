//go:build libseccomp

package libseccomptest

/*
#cgo pkg-config: libseccomp
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <seccomp.h>
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// Optimization levels of SCMP_FLTATR_CTL_OPTIMIZE.
const (
	// Linear is libseccomp's default layout: one `jeq` per syscall in
	// priority order. runc up to 1.1 and crun load it.
	Linear = 1
	// BinaryTree is libseccomp's binary search over syscall numbers, the
	// layout runc ≥ 1.2 asks for.
	BinaryTree = 2
)

// Build returns the filter libseccomp generates for res the way runc 1.1.5
// drives it: seccomp_init with the default action (which adds the native
// architecture), seccomp_arch_add for every architecture, then one
// seccomp_rule_add per rule, in order, with the rule's conditions. Names
// libseccomp does not know are skipped, as runc skips them. With optimize
// BinaryTree it sets SCMP_FLTATR_CTL_OPTIMIZE to 2; Linear keeps the
// default.
//
// Build does not add runc's ENOSYS stub; BuildRunc does.
func Build(res *profile.Resolved, optimize int) ([]bpf.Instruction, error) {
	if optimize != Linear && optimize != BinaryTree {
		return nil, fmt.Errorf("build libseccomp filter: optimize level %d, want %d or %d", optimize, Linear, BinaryTree)
	}
	ctx := C.seccomp_init(C.uint32_t(res.DefaultAction.Value()))
	if ctx == nil {
		return nil, errors.New("build libseccomp filter: seccomp_init failed")
	}
	defer C.seccomp_release(ctx)
	if optimize == BinaryTree {
		if rc := C.seccomp_attr_set(ctx, C.SCMP_FLTATR_CTL_OPTIMIZE, 2); rc != 0 {
			return nil, fmt.Errorf("build libseccomp filter: set optimize level: %w", errno(rc))
		}
	}
	if err := addArches(ctx, res.Arches); err != nil {
		return nil, fmt.Errorf("build libseccomp filter: %w", err)
	}
	for i, r := range res.Rules {
		if err := addRule(ctx, r); err != nil {
			return nil, fmt.Errorf("build libseccomp filter: rule %d (%s): %w", i, r.Name, err)
		}
	}
	prog, err := export(ctx)
	if err != nil {
		return nil, fmt.Errorf("build libseccomp filter: %w", err)
	}
	return prog, nil
}

// BuildRunc is Build with runc's ENOSYS stub in front: the filter runc
// loads for res (runc 1.1.5 with Linear, runc ≥ 1.2 with BinaryTree).
func BuildRunc(res *profile.Resolved, optimize int) ([]bpf.Instruction, error) {
	prog, err := Build(res, optimize)
	if err != nil {
		return nil, err
	}
	stub, err := Stub(StubBounds(res))
	if err != nil {
		return nil, fmt.Errorf("build runc filter: %w", err)
	}
	return append(stub, prog...), nil
}

// StubBounds computes runc's findLastSyscalls for res: for every
// architecture the profile lists, the largest number, as libseccomp
// resolves it on that architecture, of any name the profile mentions
// (including rules dropped for equalling the default action).
// Architectures with no such number are left out, as runc leaves them out.
// It is empty when runc adds no stub (default ALLOW, LOG or TRACE).
func StubBounds(res *profile.Resolved) []StubBound {
	var out []StubBound
	for _, a := range res.StubArches {
		var top int
		for _, name := range res.Named {
			if nr, ok := resolve(a, name); ok {
				top = max(top, nr)
			}
		}
		if top > 0 {
			out = append(out, StubBound{Arch: a, Max: uint32(top)})
		}
	}
	return out
}

// Known reports whether libseccomp puts a rule on name into a filter for
// a at the number sysfence's table gives it. It fits
// compiler.Options.KnownName.
//
// Where libseccomp's own number for the name is one of its socketcall or
// ipc pseudo numbers (-101 … -224: socket, shmget, … on x86), it emits
// both the multiplexed form and the direct syscall, so the name counts as
// known. Pseudo numbers from -10000 down mean that libseccomp's table has
// no such call on a (map_shadow_stack on x32 in 2.5.4), and -1 that it
// does not know the name at all.
func Known(a *syscalls.Arch, name string) bool {
	ours, found := a.Number(name)
	if !found {
		return false
	}
	nr, ok := resolveRaw(a, name)
	switch {
	case !ok || nr == C.__NR_SCMP_ERROR || nr <= pseudoAbsent:
		return false
	case nr < 0:
		return true // multiplexed (socketcall, ipc)
	}
	return uint32(nr) == ours
}

// pseudoAbsent is the first of libseccomp's pseudo numbers (__PNR_*) for
// calls an architecture lacks; the multiplexed ones are above it.
const pseudoAbsent = -10000

// resolve is seccomp_syscall_resolve_name_arch, keeping only real
// (non-negative) numbers, as runc's ENOSYS stub does.
func resolve(a *syscalls.Arch, name string) (int, bool) {
	nr, ok := resolveRaw(a, name)
	return nr, ok && nr >= 0
}

// resolveRaw is seccomp_syscall_resolve_name_arch, pseudo numbers and
// all; false when libseccomp does not know a.
func resolveRaw(a *syscalls.Arch, name string) (int, bool) {
	token, ok := archToken(a)
	if !ok {
		return 0, false
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return int(C.seccomp_syscall_resolve_name_arch(token, cname)), true
}

// archToken is libseccomp's SCMP_ARCH_* token for a; Arch.Name is
// libseccomp's own name for it.
func archToken(a *syscalls.Arch) (C.uint32_t, bool) {
	cname := C.CString(a.Name)
	defer C.free(unsafe.Pointer(cname))
	token := C.seccomp_arch_resolve_name(cname)
	return token, token != 0
}

func addArches(ctx C.scmp_filter_ctx, arches []*syscalls.Arch) error {
	for _, a := range arches {
		token, ok := archToken(a)
		if !ok {
			return fmt.Errorf("add arch %s: unknown to libseccomp", a.Name)
		}
		// The native architecture is already there: runc (through
		// libseccomp-golang) ignores EEXIST.
		if rc := C.seccomp_arch_add(ctx, token); rc != 0 && rc != -C.EEXIST {
			return fmt.Errorf("add arch %s: %w", a.Name, errno(rc))
		}
	}
	return nil
}

// addRule adds r as runc does: the name resolved on the native
// architecture (pseudo numbers included), skipped when unknown, then
// seccomp_rule_add (not _exact, so libseccomp may rewrite or drop it per
// architecture). For MASKED_EQ, datum_a is the mask and datum_b the datum,
// which is how runc passes value and valueTwo.
func addRule(ctx C.scmp_filter_ctx, r profile.Rule) error {
	cname := C.CString(r.Name)
	defer C.free(unsafe.Pointer(cname))
	nr := C.seccomp_syscall_resolve_name(cname)
	if nr == C.__NR_SCMP_ERROR {
		return nil
	}
	conds := make([]C.struct_scmp_arg_cmp, len(r.Args))
	for i, arg := range r.Args {
		conds[i] = C.struct_scmp_arg_cmp{
			arg:     C.uint(arg.Index),
			op:      C.enum_scmp_compare(compareOp(arg.Op)),
			datum_a: C.scmp_datum_t(arg.Value),
			datum_b: C.scmp_datum_t(arg.ValueTwo),
		}
	}
	var ptr *C.struct_scmp_arg_cmp
	if len(conds) > 0 {
		ptr = &conds[0]
	}
	if rc := C.seccomp_rule_add_array(ctx, C.uint32_t(r.Action.Value()), nr, C.uint(len(conds)), ptr); rc != 0 {
		return errno(rc)
	}
	return nil
}

// compareOp maps a profile operator to SCMP_CMP_*.
func compareOp(op profile.Operator) int {
	switch op {
	case profile.OpNotEqual:
		return C.SCMP_CMP_NE
	case profile.OpLessThan:
		return C.SCMP_CMP_LT
	case profile.OpLessEqual:
		return C.SCMP_CMP_LE
	case profile.OpEqualTo:
		return C.SCMP_CMP_EQ
	case profile.OpGreaterEqual:
		return C.SCMP_CMP_GE
	case profile.OpGreaterThan:
		return C.SCMP_CMP_GT
	case profile.OpMaskedEqual:
		return C.SCMP_CMP_MASKED_EQ
	}
	return 0 // libseccomp rejects it with EINVAL
}

// export runs seccomp_export_bpf into a memfd and decodes the result
// (host byte order, as the kernel takes it).
func export(ctx C.scmp_filter_ctx) ([]bpf.Instruction, error) {
	name := C.CString("libseccomptest")
	defer C.free(unsafe.Pointer(name))
	fd, err := C.memfd_create(name, C.MFD_CLOEXEC)
	if fd < 0 {
		return nil, fmt.Errorf("export filter: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "libseccomptest")
	defer f.Close()
	if rc := C.seccomp_export_bpf(ctx, fd); rc != 0 {
		return nil, fmt.Errorf("export filter: %w", errno(rc))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("export filter: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("export filter: %w", err)
	}
	return bpf.Unmarshal(data, binary.NativeEndian)
}

// errno turns libseccomp's negative errno return into an error.
func errno(rc C.int) error { return syscall.Errno(-rc) }
