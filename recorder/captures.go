package recorder

import "github.com/sysfence/sysfence/syscalls"

// MaxValues bounds the distinct tuples kept per (ABI, call, capture); more
// set the ArgSet's Overflow flag, and generate then allows the call without
// conditions on that capture.
const MaxValues = 32

// Capture is one argument (or pair of arguments) whose value decides how
// risky a call is, recorded as a bounded set of distinct values.
type Capture struct {
	ID      string // stable name: "socket.family"
	Syscall string // the call, by its name on every x86 ABI
	Args    []int  // argument indices, one or two
	// RuleMask, when not zero, names the bits that decide the risk
	// (single-argument captures only): the recording keeps whole values,
	// and generate writes SCMP_CMP_MASKED_EQ rules on these bits only.
	RuleMask uint64
	// Rule says whether generate builds argument conditions from it; the
	// others are recorded for people (audit, explain) only.
	Rule bool
	Why  string
}

// Namespace flags of clone(2) (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|
// NEWPID|NEWNET): the mask Docker's default uses for clone.
const cloneNamespaceFlags = 0x7E020000

// protExec is PROT_EXEC.
const protExec = 0x4

// Captures is the curated set of argument captures, the same for both back
// ends. Indices into it are stable within a build: back ends key values by
// position.
var Captures = []Capture{
	{ID: "socket.family", Syscall: "socket", Args: []int{0}, Rule: true,
		Why: "the address family decides which protocol code in the kernel is reachable (AF_ALG, AF_VSOCK, AF_PACKET…)"},
	{ID: "socket.type", Syscall: "socket", Args: []int{1},
		Why: "socket type, with SOCK_NONBLOCK/SOCK_CLOEXEC (raw sockets need CAP_NET_RAW)"},
	{ID: "socketcall.call", Syscall: "socketcall", Args: []int{0}, Rule: true,
		Why: "i386 multiplexes socket calls through socketcall; the call number says which"},
	{ID: "clone.flags", Syscall: "clone", Args: []int{0}, RuleMask: cloneNamespaceFlags, Rule: true,
		Why: "clone with CLONE_NEW* flags creates namespaces, the first step of many container escapes"},
	{ID: "personality.persona", Syscall: "personality", Args: []int{0}, Rule: true,
		Why: "some personalities (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE) weaken memory protections"},
	{ID: "prctl.option", Syscall: "prctl", Args: []int{0}, Rule: true,
		Why: "prctl is dozens of operations behind one number"},
	{ID: "ioctl.request", Syscall: "ioctl", Args: []int{1}, Rule: true,
		Why: "each ioctl request is its own kernel entry point (TIOCSTI, for one, injects terminal input)"},
	{ID: "fcntl.cmd", Syscall: "fcntl", Args: []int{1}, Rule: true,
		Why: "fcntl is many operations behind one number"},
	{ID: "fcntl64.cmd", Syscall: "fcntl64", Args: []int{1}, Rule: true,
		Why: "fcntl64 is i386's fcntl"},
	{ID: "mmap.prot", Syscall: "mmap", Args: []int{2}, RuleMask: protExec, Rule: true,
		Why: "PROT_EXEC mappings are how injected code gets executed"},
	{ID: "mmap2.prot", Syscall: "mmap2", Args: []int{2}, RuleMask: protExec, Rule: true,
		Why: "mmap2 is i386's mmap"},
	{ID: "mprotect.prot", Syscall: "mprotect", Args: []int{2}, RuleMask: protExec, Rule: true,
		Why: "making memory executable after writing it is how injected code gets executed"},
	{ID: "setsockopt.option", Syscall: "setsockopt", Args: []int{1, 2}, Rule: true,
		Why: "socket options reach deep protocol code (netfilter's IPT_SO_SET_REPLACE, CVE-2021-22555)"},
}

// Clone3Note is written into every Observation that saw clone3: its flags
// live in a struct in user memory, which seccomp cannot read, so neither
// recording nor a profile can tell namespace-creating clone3 calls apart.
const Clone3Note = "clone3 was called: its flags are in a struct clone_args in user memory, which a seccomp filter cannot read, so the profile can only allow or deny clone3 as a whole"

// captureSlots lists, for one ABI, which captures apply to which number.
func captureSlots(arch *syscalls.Arch) map[uint32][]int {
	out := map[uint32][]int{}
	for i, c := range Captures {
		if nr, ok := arch.Number(c.Syscall); ok {
			out[nr] = append(out[nr], i)
		}
	}
	return out
}

// captureValue turns the raw arguments of a call on arch into the tuple
// capture c keeps. On ABIs whose arguments are 32 bits wide only the low
// half is kept, as a profile for them compares only that.
func captureValue(arch *syscalls.Arch, c Capture, args [6]uint64) [2]uint64 {
	var v [2]uint64
	for i, a := range c.Args {
		v[i] = args[a]
		if arch.Bits == 32 {
			v[i] &= 0xffffffff
		}
	}
	return v
}

// RecordedArches are the ABIs the recorder tells apart on this machine.
var RecordedArches = []*syscalls.Arch{syscalls.X86_64, syscalls.X86, syscalls.X32}
