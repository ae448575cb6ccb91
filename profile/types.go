package profile

import (
	"fmt"

	"github.com/sysfence/sysfence/syscalls"
)

// ActionKind is a seccomp action, independent of its return data.
type ActionKind uint8

// The actions a profile can name. KillThread is also what SCMP_ACT_KILL means.
const (
	KillThread ActionKind = iota + 1
	KillProcess
	Trap
	Errno
	Trace
	Allow
	Log
	Notify
)

// Kernel SECCOMP_RET_* values of each action, without data.
const (
	RetKillProcess uint32 = 0x80000000
	RetKillThread  uint32 = 0x00000000
	RetTrap        uint32 = 0x00030000
	RetErrno       uint32 = 0x00050000
	RetUserNotif   uint32 = 0x7fc00000
	RetTrace       uint32 = 0x7ff00000
	RetLog         uint32 = 0x7ffc0000
	RetAllow       uint32 = 0x7fff0000

	RetActionFull uint32 = 0xffff0000 // SECCOMP_RET_ACTION_FULL
	RetData       uint32 = 0x0000ffff // SECCOMP_RET_DATA
)

// EPERM and ENOSYS are the errno values runc and the ENOSYS stub use.
const (
	EPERM  = 1
	ENOSYS = 38
)

// Action is a resolved verdict: an action and, for ERRNO and TRACE, its
// 16-bit data (the errno, or the tracer's message).
type Action struct {
	Kind ActionKind
	Data uint16
}

// Value returns the SECCOMP_RET_* value the filter returns for a.
func (a Action) Value() uint32 {
	switch a.Kind {
	case KillThread:
		return RetKillThread
	case KillProcess:
		return RetKillProcess
	case Trap:
		return RetTrap | uint32(a.Data)
	case Errno:
		return RetErrno | uint32(a.Data)
	case Trace:
		return RetTrace | uint32(a.Data)
	case Allow:
		return RetAllow
	case Log:
		return RetLog
	case Notify:
		return RetUserNotif
	}
	panic(fmt.Sprintf("profile: invalid action kind %d", a.Kind))
}

// String formats a the way `sysfence eval` prints verdicts: ALLOW,
// ERRNO(1), KILL_THREAD, KILL_PROCESS, TRAP(n), TRACE(n), LOG or NOTIFY.
func (a Action) String() string { return FormatRet(a.Value()) }

// FormatRet formats any SECCOMP_RET_* value a filter returns. Values the
// kernel does not define are shown as the kernel would treat them.
func FormatRet(ret uint32) string {
	data := ret & RetData
	switch ret & RetActionFull {
	case RetKillProcess:
		return "KILL_PROCESS"
	case RetKillThread:
		return "KILL_THREAD"
	case RetTrap:
		return fmt.Sprintf("TRAP(%d)", data)
	case RetErrno:
		return fmt.Sprintf("ERRNO(%d)", data)
	case RetUserNotif:
		return "NOTIFY"
	case RetTrace:
		return fmt.Sprintf("TRACE(%d)", data)
	case RetLog:
		return "LOG"
	case RetAllow:
		return "ALLOW"
	}
	// The kernel treats unknown actions as KILL_PROCESS.
	return fmt.Sprintf("KILL_PROCESS(unknown 0x%08x)", ret)
}

// Operator is an argument comparison.
type Operator uint8

// The comparison operators of the OCI spec, SCMP_CMP_*.
const (
	OpNotEqual Operator = iota + 1
	OpLessThan
	OpLessEqual
	OpEqualTo
	OpGreaterEqual
	OpGreaterThan
	OpMaskedEqual
)

// Arg is one argument condition. For OpMaskedEqual, Value is the mask and
// ValueTwo the datum: (arg & Value) == ValueTwo.
type Arg struct {
	Index    uint
	Value    uint64
	ValueTwo uint64
	Op       Operator
}

// KernelVersion is a kernel "major.minor"; patch levels are ignored as
// Docker ignores them.
type KernelVersion struct {
	Major, Minor uint64
}

// AtLeast reports whether k ≥ min.
func (k KernelVersion) AtLeast(min KernelVersion) bool {
	return k.Major > min.Major || (k.Major == min.Major && k.Minor >= min.Minor)
}

func (k KernelVersion) String() string { return fmt.Sprintf("%d.%d", k.Major, k.Minor) }

// Filter is Docker's includes/excludes condition on an entry.
type Filter struct {
	Caps      []string
	Arches    []string
	MinKernel *KernelVersion
}

// Syscall is one entry of a profile's syscalls list.
type Syscall struct {
	Names    []string
	UsedName bool // written with the deprecated "name" key
	Action   ActionKind
	ErrnoRet *uint16
	Args     []Arg
	Comment  string
	Includes *Filter
	Excludes *Filter
}

// ArchMapEntry is one entry of Docker's archMap.
type ArchMapEntry struct {
	Arch      *syscalls.Arch
	SubArches []*syscalls.Arch
}

// Profile is a seccomp profile in Docker's or OCI's JSON form, decoded and
// validated.
type Profile struct {
	DefaultAction    ActionKind
	DefaultErrnoRet  *uint16
	Architectures    []*syscalls.Arch
	ArchMap          []ArchMapEntry
	ListenerPath     string
	ListenerMetadata string
	Flags            []string
	Syscalls         []Syscall
}

// Target is the host a profile is resolved for: what `docker run` would
// see. Resolve never looks at the running machine itself.
type Target struct {
	Arch   *syscalls.Arch // the native architecture
	Kernel KernelVersion
	Caps   []string // the bounding set, "CAP_*" names
	// LegacyRunc selects runc before 1.2, whose ENOSYS stub covers only the
	// architectures the profile lists; runc 1.2 and later always add the
	// native one. It matters for profiles that list no architectures.
	LegacyRunc bool
}

// Rule is one libseccomp rule as runc adds it: a system call name, an
// action, and argument conditions that must all hold.
type Rule struct {
	Entry  int    // index of the profile entry it came from
	Name   string // system call name
	Action Action
	Args   []Arg
}

// Resolved is a profile after Docker's and runc's processing for one
// Target: the input of the compiler.
type Resolved struct {
	Target        Target
	DefaultAction Action
	// Arches lists the filter's architectures: the native one first, then
	// the others in profile order, without duplicates.
	Arches []*syscalls.Arch
	Flags  []string
	Rules  []Rule
	// Named lists every system call name the resolved entries mention,
	// including rules dropped because their action is the default; runc's
	// ENOSYS stub is computed from it.
	Named []string
	// StubArches lists the architectures runc's ENOSYS stub covers: the
	// ones the profile lists (architectures, or the archMap entry of the
	// native arch with its subarchitectures) and, unless
	// Target.LegacyRunc, the native one; empty when the default action is
	// ALLOW, LOG or TRACE.
	StubArches []*syscalls.Arch
	// Warnings are things a user should know: unknown syscall names, …
	Warnings []string
}
