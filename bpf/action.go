package bpf

import (
	"fmt"
	"strconv"
	"strings"
)

// Seccomp return values (include/uapi/linux/seccomp.h). The upper 16 bits
// choose the action, the lower 16 bits carry its data (an errno, a trace
// message, a signal's si_errno).
const (
	RetKillProcess uint32 = 0x80000000 // Linux ≥ 4.14
	RetKillThread  uint32 = 0x00000000
	RetTrap        uint32 = 0x00030000
	RetErrno       uint32 = 0x00050000
	RetUserNotif   uint32 = 0x7fc00000 // Linux ≥ 5.0
	RetTrace       uint32 = 0x7ff00000
	RetLog         uint32 = 0x7ffc0000 // Linux ≥ 4.14
	RetAllow       uint32 = 0x7fff0000

	RetActionFull uint32 = 0xffff0000 // SECCOMP_RET_ACTION_FULL
	RetData       uint32 = 0x0000ffff // SECCOMP_RET_DATA
)

// actionNames lists the actions in the words the disassembler prints.
var actionNames = []struct {
	name     string
	value    uint32
	withData bool // printed with its data even when that is 0
}{
	{"KILL_PROCESS", RetKillProcess, false},
	{"KILL_THREAD", RetKillThread, false},
	{"TRAP", RetTrap, true},
	{"ERRNO", RetErrno, true},
	{"NOTIFY", RetUserNotif, false},
	{"TRACE", RetTrace, true},
	{"LOG", RetLog, false},
	{"ALLOW", RetAllow, false},
}

// actionAliases are further spellings ParseAction accepts.
var actionAliases = map[string]uint32{
	"KILL":       RetKillThread,
	"USER_NOTIF": RetUserNotif,
}

// ActionString spells a seccomp return value the way `sysfence eval`
// prints verdicts: ALLOW, ERRNO(1), KILL_THREAD, TRACE(5), …; data on
// actions that take none is kept as NAME(n), and an unknown action is
// printed in hex, so the value can always be parsed back by ParseAction.
func ActionString(v uint32) string {
	action, data := v&RetActionFull, v&RetData
	for _, a := range actionNames {
		if a.value != action {
			continue
		}
		if a.withData || data != 0 {
			return fmt.Sprintf("%s(%d)", a.name, data)
		}
		return a.name
	}
	return fmt.Sprintf("0x%08x", v)
}

// ParseAction is the inverse of ActionString. It also accepts KILL,
// USER_NOTIF, a bare number, and an action name without data (data 0).
func ParseAction(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	name, arg, hasArg := strings.Cut(s, "(")
	name = strings.ToUpper(strings.TrimSpace(name))
	base, ok := actionValue(name)
	if !ok {
		if hasArg {
			return 0, fmt.Errorf("parse action %q: unknown action", s)
		}
		n, err := parseUint32(s)
		if err != nil {
			return 0, fmt.Errorf("parse action %q: unknown action", s)
		}
		return n, nil
	}
	if !hasArg {
		return base, nil
	}
	arg, closed := strings.CutSuffix(strings.TrimSpace(arg), ")")
	if !closed {
		return 0, fmt.Errorf("parse action %q: missing )", s)
	}
	n, err := parseUint32(strings.TrimSpace(arg))
	if err != nil || n > RetData {
		return 0, fmt.Errorf("parse action %q: data must be a number 0..65535", s)
	}
	return base | n, nil
}

func actionValue(name string) (uint32, bool) {
	for _, a := range actionNames {
		if a.name == name {
			return a.value, true
		}
	}
	v, ok := actionAliases[name]
	return v, ok
}

// parseUint32 reads a decimal, 0x hex, 0o octal or 0b binary number.
func parseUint32(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 0, 32)
	return uint32(n), err
}
