package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/kernel"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// targetFlags are the flags that say which host a profile is resolved for;
// without them the target is what `docker run` would use here.
type targetFlags struct {
	arch       string
	capAdd     []string
	capDrop    []string
	privileged bool
	kernel     string
	legacyRunc bool
}

func (f *targetFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.arch, "arch", "", "native architecture of the target (x86_64, aarch64, SCMP_ARCH_X86_64, amd64…; default: this host)")
	fl.StringSliceVar(&f.capAdd, "cap-add", nil, "add a capability to Docker's default set, as `docker run --cap-add` (ALL for every one)")
	fl.StringSliceVar(&f.capDrop, "cap-drop", nil, "drop a capability from the set, as `docker run --cap-drop` (ALL for every one)")
	fl.BoolVar(&f.privileged, "privileged", false, "resolve with every capability, as for `docker run --privileged`")
	fl.StringVar(&f.kernel, "kernel", "", "kernel version X.Y for minKernel conditions (default: this host's)")
	fl.BoolVar(&f.legacyRunc, "legacy-runc", false, "runc before 1.2: the ENOSYS stub covers only the architectures the profile lists")
}

// target builds the profile.Target the flags describe.
func (f *targetFlags) target() (profile.Target, error) {
	var t profile.Target
	var err error
	if f.arch == "" {
		t.Arch, err = syscalls.Lookup(runtime.GOARCH)
	} else {
		t.Arch, err = syscalls.Lookup(f.arch)
	}
	if err != nil {
		return t, usageError{fmt.Errorf("--arch: %w", err)}
	}
	release := f.kernel
	if release == "" {
		if release, err = kernel.Release(); err != nil {
			return t, fmt.Errorf("%w (give --kernel X.Y)", err)
		}
	}
	if t.Kernel, err = profile.ParseKernel(release); err != nil {
		return t, usageError{fmt.Errorf("--kernel: %w", err)}
	}
	t.LegacyRunc = f.legacyRunc
	t.Caps, err = f.caps()
	return t, err
}

// caps applies --privileged, --cap-add and --cap-drop to Docker's defaults
// the way Docker does: drops first, then adds; ALL means every capability.
func (f *targetFlags) caps() ([]string, error) {
	if f.privileged {
		return profile.AllCaps(), nil
	}
	all := profile.AllCaps()
	norm := func(flag string, in []string) ([]string, error) {
		var out []string
		for _, c := range in {
			c = strings.ToUpper(strings.TrimSpace(c))
			if c == "ALL" {
				out = append(out, "ALL")
				continue
			}
			if !strings.HasPrefix(c, "CAP_") {
				c = "CAP_" + c
			}
			if !slices.Contains(all, c) {
				return nil, usageError{fmt.Errorf("%s: unknown capability %q", flag, c)}
			}
			out = append(out, c)
		}
		return out, nil
	}
	add, err := norm("--cap-add", f.capAdd)
	if err != nil {
		return nil, err
	}
	drop, err := norm("--cap-drop", f.capDrop)
	if err != nil {
		return nil, err
	}
	caps := profile.DefaultCaps()
	if slices.Contains(drop, "ALL") {
		caps = nil
	}
	caps = slices.DeleteFunc(caps, func(c string) bool { return slices.Contains(drop, c) })
	if slices.Contains(add, "ALL") {
		return all, nil
	}
	for _, c := range add {
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	return caps, nil
}

// loadProfile reads PROFILE: a path, "-" for standard input, or "default".
func loadProfile(cmd *cobra.Command, arg string) (*profile.Profile, error) {
	if arg == "default" {
		return profile.Default()
	}
	var data []byte
	var err error
	if arg == "-" {
		data, err = io.ReadAll(cmd.InOrStdin())
	} else {
		data, err = os.ReadFile(arg)
	}
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	p, err := profile.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", arg, err)
	}
	return p, nil
}

// loadResolved loads PROFILE and resolves it for the flags' target.
func loadResolved(cmd *cobra.Command, arg string, tf *targetFlags) (*profile.Profile, *profile.Resolved, error) {
	p, err := loadProfile(cmd, arg)
	if err != nil {
		return nil, nil, err
	}
	t, err := tf.target()
	if err != nil {
		return nil, nil, err
	}
	res, err := profile.Resolve(p, t)
	if err != nil {
		return nil, nil, fmt.Errorf("resolve profile %s: %w", arg, err)
	}
	return p, res, nil
}

// compileProfile loads, resolves and compiles PROFILE for the flags' target,
// printing resolution warnings to standard error.
func compileProfile(cmd *cobra.Command, arg string, tf *targetFlags) (*compiler.Program, *profile.Resolved, error) {
	_, res, err := loadResolved(cmd, arg, tf)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
	}
	prog, err := compiler.Compile(res, compiler.Options{})
	if err != nil {
		return nil, nil, err
	}
	return prog, res, nil
}
