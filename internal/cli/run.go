package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/bpf"
	"github.com/sysfence/sysfence/kernel"
	"github.com/sysfence/sysfence/profile"
)

func init() { commands = append(commands, newRunCmd) }

// runOptions are the flags of `sysfence run`.
type runOptions struct {
	tf         targetFlags
	profile    string
	log        bool
	complain   bool
	dryRun     bool
	noNewPrivs bool
	format     string
}

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [--profile P] [flags] -- CMD [ARGS…]",
		Short: "Run a command under a compiled seccomp profile, as a container runtime would",
		Long: `Compile the profile for the target, set no_new_privs, install the filter
and exec CMD, so that CMD's exit status and signals are sysfence's own.

The filter flags are the ones runc passes: SECCOMP_FILTER_FLAG_SPEC_ALLOW
when the profile lists no flags, else the profile's (LOG, SPEC_ALLOW), plus
LOG with --log. Once every check has passed, sysfence execs a tiny static
stub that installs the filter and execs CMD: nothing of sysfence's Go
runtime ever runs under a profile written for CMD (a recorded profile
rarely allows the runtime's futex, epoll_pwait or rt_sigreturn). run fails
closed: if the kernel lacks an action the
program returns or refuses a flag, nothing is run. Every check is made
before anything is installed; --dry-run stops after them and prints what
would be installed.

--complain turns every verdict other than ALLOW into LOG: CMD runs, and the
kernel logs each call the profile would have denied (see 'violations').

CMD is looked up on PATH. Flags end at CMD; use -- before it when it
starts with a dash.`,
		Example: `  sysfence run -- /bin/true
  sysfence run --profile profile.json --complain -- make test
  sysfence run --profile profile.json --dry-run --format json -- ./server`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCommand(cmd, &o, args) },
	}
	// Everything after CMD belongs to CMD, even words that look like flags.
	cmd.Flags().SetInterspersed(false)
	o.tf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.profile, "profile", "default", "profile to enforce: a path, - for standard input, or default (Docker's)")
	fl.BoolVar(&o.log, "log", false, "log every action except ALLOW (SECCOMP_FILTER_FLAG_LOG)")
	fl.BoolVar(&o.complain, "complain", false, "turn every verdict except ALLOW into LOG: run, and log what would be denied")
	fl.BoolVar(&o.dryRun, "dry-run", false, "print what would be installed and exit without running CMD")
	fl.BoolVar(&o.noNewPrivs, "no-new-privs", true, "set no_new_privs; false requires CAP_SYS_ADMIN and lets CMD gain privileges through setuid files")
	fl.StringVar(&o.format, "format", "text", "--dry-run output format: text or json")
	return cmd
}

// runPlan is everything `run` has decided before it installs anything.
type runPlan struct {
	Profile      string   `json:"profile"`
	Command      string   `json:"command"`
	Args         []string `json:"args"`
	Arches       []string `json:"arches"`
	Flags        string   `json:"flags"`
	Instructions int      `json:"instructions"`
	Actions      []string `json:"actions"`
	Complain     bool     `json:"complain"`
	Log          bool     `json:"log"`
	NoNewPrivs   bool     `json:"no_new_privs"`

	prog  []bpf.Instruction
	flags kernel.Flags
}

func runCommand(cmd *cobra.Command, o *runOptions, args []string) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	plan, err := planRun(cmd, o, args)
	if err != nil {
		return err
	}
	if o.dryRun {
		return writePlan(cmd.OutOrStdout(), plan, o.format)
	}
	if plan.NoNewPrivs {
		if err := kernel.SetNoNewPrivs(); err != nil {
			return err
		}
	}
	return kernel.Exec(plan.prog, plan.flags, plan.Command, args, os.Environ())
}

// planRun makes every check run makes before installing: the command
// exists, the profile compiles, the kernel has each action, the flags are
// known and the privileges suffice.
func planRun(cmd *cobra.Command, o *runOptions, args []string) (*runPlan, error) {
	path, err := exec.LookPath(args[0])
	if err != nil {
		return nil, fmt.Errorf("look up command: %w", err)
	}
	prog, res, err := compileProfile(cmd, o.profile, &o.tf)
	if err != nil {
		return nil, err
	}
	p := &runPlan{Profile: o.profile, Command: path, Args: args[1:], Complain: o.complain,
		NoNewPrivs: o.noNewPrivs, prog: prog.Instructions}
	for _, a := range res.Arches {
		p.Arches = append(p.Arches, a.Name)
	}
	if len(p.prog) > bpf.MaxInstructions {
		return nil, fmt.Errorf("check program: %d instructions, the kernel's limit is %d", len(p.prog), bpf.MaxInstructions)
	}
	if o.complain {
		if p.prog, err = complainProgram(p.prog); err != nil {
			return nil, err
		}
	}
	if p.Actions, err = runActions(p.prog); err != nil {
		return nil, err
	}
	if p.flags, err = runFlags(res.Flags, o.log); err != nil {
		return nil, err
	}
	p.Flags, p.Log = p.flags.String(), p.flags&kernel.FlagLog != 0
	p.Instructions = len(p.prog)
	if !o.noNewPrivs {
		if err := requireCapSysAdmin(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// complainProgram returns prog with every verdict other than ALLOW (and LOG)
// turned into LOG.
func complainProgram(prog []bpf.Instruction) ([]bpf.Instruction, error) {
	out := slices.Clone(prog)
	for i, in := range out {
		switch in.Op {
		case bpf.ClassRET | bpf.RetA:
			return nil, fmt.Errorf("rewrite for --complain: instruction %d returns a computed verdict (ret a)", i)
		case bpf.ClassRET | bpf.RetK:
			if a := in.K & bpf.RetActionFull; a != bpf.RetAllow && a != bpf.RetLog {
				out[i].K = bpf.RetLog
			}
		}
	}
	return out, nil
}

// runActions asks the kernel about each distinct action prog returns
// and returns their names; it refuses a program whose verdicts it cannot
// check or whose actions the kernel lacks, or one that notifies (run has
// no supervisor to answer, and the kernel would fail such calls with
// ENOSYS instead).
func runActions(prog []bpf.Instruction) ([]string, error) {
	var rets []uint32
	for i, in := range prog {
		switch in.Op {
		case bpf.ClassRET | bpf.RetA:
			return nil, fmt.Errorf("check actions: instruction %d returns a computed verdict (ret a)", i)
		case bpf.ClassRET | bpf.RetK:
			if !slices.Contains(rets, in.K) {
				rets = append(rets, in.K)
			}
		}
	}
	slices.Sort(rets)
	names := make([]string, 0, len(rets))
	for _, r := range rets {
		name := bpf.ActionString(r)
		if r&bpf.RetActionFull == bpf.RetUserNotif {
			return nil, fmt.Errorf("check actions: the profile returns %s, but run has no notification supervisor (try --complain)", name)
		}
		ok, err := kernel.HaveAction(r)
		if err != nil {
			return nil, fmt.Errorf("check action %s: %w", name, err)
		}
		if !ok {
			return nil, fmt.Errorf("check actions: kernel %s lacks action %s (SECCOMP_GET_ACTION_AVAIL)", runKernelName(), name)
		}
		names = append(names, name)
	}
	return names, nil
}

// runFlags maps the resolved profile's flags to seccomp(2) flags, adding
// LOG for --log. TSYNC is left out: the filter is installed by a
// single-threaded stub (see kernel.Exec), and a profile that names it gets
// the same result. A flag run cannot honour is refused.
func runFlags(names []string, log bool) (kernel.Flags, error) {
	var flags kernel.Flags
	if log {
		flags |= kernel.FlagLog
	}
	for _, n := range names {
		switch n {
		case profile.FlagSpecAllow:
			flags |= kernel.FlagSpecAllow
		case profile.FlagLog:
			flags |= kernel.FlagLog
		case profile.FlagTSync:
		default:
			return 0, fmt.Errorf("check flags: the profile asks for %s, which run does not support", n)
		}
	}
	return flags, nil
}

// requireCapSysAdmin fails unless the effective capabilities hold
// CAP_SYS_ADMIN, which installing without no_new_privs needs.
func requireCapSysAdmin() error {
	caps, err := kernel.EffectiveCaps()
	if err != nil {
		return err
	}
	if caps&(1<<kernel.CapSysAdmin) == 0 {
		return errors.New("check privileges: --no-new-privs=false needs CAP_SYS_ADMIN, which this process lacks")
	}
	return nil
}

// runKernelName names the running kernel for error messages.
func runKernelName() string {
	r, err := kernel.Release()
	if err != nil {
		return "(unknown release)"
	}
	return r
}

// writePlan prints what run would install.
func writePlan(w io.Writer, p *runPlan, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	_, err := fmt.Fprintf(w, `profile:       %s
command:       %s
arches:        %s
flags:         %s
instructions:  %d
actions:       %s
complain:      %t
no_new_privs:  %t
`, p.Profile, strings.Join(append([]string{p.Command}, p.Args...), " "), strings.Join(p.Arches, ", "),
		p.Flags, p.Instructions, strings.Join(p.Actions, ", "), p.Complain, p.NoNewPrivs)
	return err
}
