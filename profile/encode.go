package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sysfence/sysfence/syscalls"
)

// Format is a JSON form Encode writes.
type Format int

const (
	// FormatDocker is Docker's profile JSON, moby's schema.
	FormatDocker Format = iota
	// FormatOCI is the runtime-spec LinuxSeccomp object, as in the
	// linux.seccomp section of a config.json: no archMap, includes,
	// excludes, name or comment.
	FormatOCI
)

func (f Format) String() string {
	switch f {
	case FormatDocker:
		return "docker"
	case FormatOCI:
		return "oci"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// The JSON shapes Encode writes; field order is the output order.
type (
	jsonProfile struct {
		DefaultAction    string        `json:"defaultAction"`
		DefaultErrnoRet  *uint16       `json:"defaultErrnoRet,omitempty"`
		Architectures    []string      `json:"architectures,omitempty"`
		ArchMap          []jsonArchMap `json:"archMap,omitempty"`
		ListenerPath     string        `json:"listenerPath,omitempty"`
		ListenerMetadata string        `json:"listenerMetadata,omitempty"`
		Flags            []string      `json:"flags,omitempty"`
		Syscalls         []jsonSyscall `json:"syscalls"`
	}
	jsonArchMap struct {
		Arch      string   `json:"architecture"`
		SubArches []string `json:"subArchitectures,omitempty"`
	}
	jsonSyscall struct {
		Name     string      `json:"name,omitempty"`
		Names    []string    `json:"names,omitempty"`
		Action   string      `json:"action"`
		ErrnoRet *uint16     `json:"errnoRet,omitempty"`
		Args     []jsonArg   `json:"args,omitempty"`
		Comment  string      `json:"comment,omitempty"`
		Includes *jsonFilter `json:"includes,omitempty"`
		Excludes *jsonFilter `json:"excludes,omitempty"`
	}
	jsonArg struct {
		Index    uint   `json:"index"`
		Value    uint64 `json:"value"`
		ValueTwo uint64 `json:"valueTwo"`
		Op       string `json:"op"`
	}
	jsonFilter struct {
		Caps      []string `json:"caps,omitempty"`
		Arches    []string `json:"arches,omitempty"`
		MinKernel string   `json:"minKernel,omitempty"`
	}
)

// Encode writes p as JSON in format f with canonical names (SCMP_ACT_KILL
// is written SCMP_ACT_KILL_THREAD), the keys in a fixed order and a
// two-space indent. Decode reads the result back to an equal Profile.
// FormatOCI refuses Docker's extensions (archMap, includes, excludes)
// rather than drop them; it drops comments and writes name as names.
func Encode(p *Profile, f Format) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("encode profile: %w", err)
	}
	if f != FormatDocker && f != FormatOCI {
		return nil, fmt.Errorf("encode profile: unknown format %v", f)
	}
	if f == FormatOCI {
		if err := ociOnly(p); err != nil {
			return nil, fmt.Errorf("encode profile: %w", err)
		}
	}
	out := jsonProfile{
		DefaultAction:    p.DefaultAction.String(),
		DefaultErrnoRet:  p.DefaultErrnoRet,
		Architectures:    ociNames(p.Architectures),
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
		Flags:            p.Flags,
		Syscalls:         []jsonSyscall{},
	}
	for _, m := range p.ArchMap {
		out.ArchMap = append(out.ArchMap, jsonArchMap{Arch: m.Arch.OCI, SubArches: ociNames(m.SubArches)})
	}
	for i := range p.Syscalls {
		out.Syscalls = append(out.Syscalls, encodeSyscall(&p.Syscalls[i], f))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode profile: %w", err)
	}
	return buf.Bytes(), nil
}

// MarshalJSON writes p in Docker's format.
func (p *Profile) MarshalJSON() ([]byte, error) { return Encode(p, FormatDocker) }

// UnmarshalJSON reads p with Decode, in any format Decode accepts.
func (p *Profile) UnmarshalJSON(data []byte) error {
	q, err := Decode(data)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

func ociOnly(p *Profile) error {
	var errs []error
	if len(p.ArchMap) > 0 {
		errs = append(errs, &FieldError{Path: "archMap", Err: errors.New("the OCI format has no archMap; resolve the profile for a target first")})
	}
	for i, s := range p.Syscalls {
		for _, c := range []struct {
			key string
			f   *Filter
		}{{"includes", s.Includes}, {"excludes", s.Excludes}} {
			if c.f != nil {
				errs = append(errs, &FieldError{Path: join(index("syscalls", i), c.key), Err: errors.New("the OCI format has no conditions; resolve the profile for a target first")})
			}
		}
	}
	return errors.Join(errs...)
}

func encodeSyscall(s *Syscall, f Format) jsonSyscall {
	out := jsonSyscall{Names: s.Names, Action: s.Action.String(), ErrnoRet: s.ErrnoRet}
	if f == FormatDocker {
		if s.UsedName && len(s.Names) == 1 {
			out.Name, out.Names = s.Names[0], nil
		}
		out.Comment = s.Comment
		out.Includes = encodeFilter(s.Includes)
		out.Excludes = encodeFilter(s.Excludes)
	}
	for _, a := range s.Args {
		op, _ := opCanon(a.Op)
		out.Args = append(out.Args, jsonArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: op})
	}
	return out
}

func encodeFilter(f *Filter) *jsonFilter {
	if f == nil {
		return nil
	}
	out := &jsonFilter{Caps: f.Caps, Arches: f.Arches}
	if f.MinKernel != nil {
		out.MinKernel = f.MinKernel.String()
	}
	return out
}

func ociNames(as []*syscalls.Arch) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.OCI)
	}
	return out
}
