package profile

import (
	"fmt"
	"slices"
)

// actionNames maps every action name the OCI spec and runc accept to its
// kind; SCMP_ACT_KILL is runc's alias of SCMP_ACT_KILL_THREAD.
var actionNames = map[string]ActionKind{
	"SCMP_ACT_KILL":         KillThread,
	"SCMP_ACT_KILL_THREAD":  KillThread,
	"SCMP_ACT_KILL_PROCESS": KillProcess,
	"SCMP_ACT_TRAP":         Trap,
	"SCMP_ACT_ERRNO":        Errno,
	"SCMP_ACT_TRACE":        Trace,
	"SCMP_ACT_ALLOW":        Allow,
	"SCMP_ACT_LOG":          Log,
	"SCMP_ACT_NOTIFY":       Notify,
}

// actionCanon is the name Encode writes for each kind.
var actionCanon = map[ActionKind]string{
	KillThread:  "SCMP_ACT_KILL_THREAD",
	KillProcess: "SCMP_ACT_KILL_PROCESS",
	Trap:        "SCMP_ACT_TRAP",
	Errno:       "SCMP_ACT_ERRNO",
	Trace:       "SCMP_ACT_TRACE",
	Allow:       "SCMP_ACT_ALLOW",
	Log:         "SCMP_ACT_LOG",
	Notify:      "SCMP_ACT_NOTIFY",
}

// ParseAction returns the kind an SCMP_ACT_* name stands for.
func ParseAction(name string) (ActionKind, error) {
	if k, ok := actionNames[name]; ok {
		return k, nil
	}
	return 0, fmt.Errorf("unknown action %q", name)
}

// String returns the canonical SCMP_ACT_* name of k.
func (k ActionKind) String() string {
	if s, ok := actionCanon[k]; ok {
		return s
	}
	return fmt.Sprintf("ActionKind(%d)", k)
}

// TakesData reports whether an action of kind k carries 16 bits of data
// from errnoRet: only ERRNO and TRACE do.
func (k ActionKind) TakesData() bool { return k == Errno || k == Trace }

// MaxErrno is the kernel's MAX_ERRNO: it caps SECCOMP_RET_ERRNO data there,
// so a larger errnoRet never reaches the process.
const MaxErrno = 4095

var operatorNames = map[string]Operator{
	"SCMP_CMP_NE":        OpNotEqual,
	"SCMP_CMP_LT":        OpLessThan,
	"SCMP_CMP_LE":        OpLessEqual,
	"SCMP_CMP_EQ":        OpEqualTo,
	"SCMP_CMP_GE":        OpGreaterEqual,
	"SCMP_CMP_GT":        OpGreaterThan,
	"SCMP_CMP_MASKED_EQ": OpMaskedEqual,
}

// ParseOperator returns the operator an SCMP_CMP_* name stands for.
func ParseOperator(name string) (Operator, error) {
	if op, ok := operatorNames[name]; ok {
		return op, nil
	}
	return 0, fmt.Errorf("unknown operator %q", name)
}

// Seccomp filter flags of the OCI runtime spec (and TSYNC, which runc
// accepts and ignores).
const (
	FlagTSync            = "SECCOMP_FILTER_FLAG_TSYNC"
	FlagLog              = "SECCOMP_FILTER_FLAG_LOG"
	FlagSpecAllow        = "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
	FlagWaitKillableRecv = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
	// FlagNewListener is never written in a profile; Resolve adds it, as
	// runc does, when a rule notifies.
	FlagNewListener = "SECCOMP_FILTER_FLAG_NEW_LISTENER"
)

var profileFlags = []string{FlagTSync, FlagLog, FlagSpecAllow, FlagWaitKillableRecv}

func validFlag(f string) bool { return slices.Contains(profileFlags, f) }

// mobyNative lists the architecture names Docker can see as native (the
// values of moby's goToNative table): only these select an archMap entry
// or match includes/excludes.arches.
var mobyNative = []string{
	"x86", "amd64", "arm", "arm64", "loongarch64", "mips64", "mips64n32",
	"mipsel64", "mips3l64n32", "mipsel", "ppc", "ppc64", "ppc64le",
	"riscv64", "s390", "s390x",
}

// runcArches are the OCI architecture names runc converts; it refuses
// the others of the spec (m68k, parisc, sh).
var runcArches = []string{
	"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
	"SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
	"SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
	"SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390",
	"SCMP_ARCH_S390X", "SCMP_ARCH_LOONGARCH64",
}
