package syscalls

// socketCalls maps each socket-family call to its socketcall(2) call
// number (SYS_SOCKET … SYS_SENDMMSG in linux/net.h).
var socketCalls = map[string]uint64{
	"socket": 1, "bind": 2, "connect": 3, "listen": 4, "accept": 5,
	"getsockname": 6, "getpeername": 7, "socketpair": 8, "send": 9, "recv": 10,
	"sendto": 11, "recvfrom": 12, "shutdown": 13, "setsockopt": 14, "getsockopt": 15,
	"sendmsg": 16, "recvmsg": 17, "accept4": 18, "recvmmsg": 19, "sendmmsg": 20,
}

// ipcCalls maps each SysV IPC call to its ipc(2) call number (SEMOP …
// SHMCTL in linux/ipc.h).
var ipcCalls = map[string]uint64{
	"semop": 1, "semget": 2, "semctl": 3, "semtimedop": 4,
	"msgsnd": 11, "msgrcv": 12, "msgget": 13, "msgctl": 14,
	"shmat": 21, "shmdt": 22, "shmget": 23, "shmctl": 24,
}

// multiplexing lists the ABIs whose socket and SysV IPC rules libseccomp
// also writes as rules on socketcall(2) and ipc(2) (its abi_rule_add).
var multiplexing = map[string]bool{
	"x86": true, "ppc": true, "ppc64": true, "ppc64le": true,
	"s390": true, "s390x": true, "mips": true, "mipsel": true,
}

// Multiplexed reports, for an ABI where libseccomp multiplexes, the
// multiplexer a call goes through ("socketcall" or "ipc") and the call
// number it passes as the first argument.
func (a *Arch) Multiplexed(name string) (mux string, call uint64, ok bool) {
	if !multiplexing[a.Name] {
		return "", 0, false
	}
	if c, ok := socketCalls[name]; ok {
		return "socketcall", c, true
	}
	if c, ok := ipcCalls[name]; ok {
		return "ipc", c, true
	}
	return "", 0, false
}
