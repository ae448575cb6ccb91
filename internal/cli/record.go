package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/generate"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/recorder"
)

func init() { commands = append(commands, newRecordCmd, newGenerateCmd) }

// recordOptions are the flags of `sysfence record`.
type recordOptions struct {
	out       string
	format    string
	args      bool
	backend   string
	container string
	docker    bool
	duration  time.Duration
}

func newRecordCmd() *cobra.Command {
	var o recordOptions
	cmd := &cobra.Command{
		Use:   "record [-o FILE] [--format docker|oci|observation] [--args] (-- CMD [ARGS…] | --container NAME | --docker -- DOCKER-RUN-ARGS…)",
		Short: "Record the system calls a command or container makes and write the profile that allows just them",
		Long: `Record every system call a workload makes, per ABI (x86_64, i386 and x32
apart), and write the tightest Docker profile that still runs it: default
SCMP_ACT_ERRNO (EPERM), one ALLOW entry for the calls seen, and with --args
argument rules built from the values seen (socket only for the address
families seen, clone without namespace flags, …).

  record -- CMD            runs CMD and records it and every descendant
                           (threads, forks, execs) from its first instruction
                           until the last of them exits
  record --container NAME  records a running container from now until
                           Ctrl-C, --duration, or its exit
  record --docker -- ARGS  runs 'docker run ARGS' and records the container
                           from the moment runc installs its seccomp filter
                           (what runc still calls after that included,
                           nothing before) until it exits; with -d, until the
                           container exits

The eBPF back end (a raw tracepoint program on sys_enter that counts in the
kernel) is used when it can be (root, kernel BTF, cgroup v2); otherwise
commands are recorded with ptrace, slower, and the output says so.
Containers need eBPF. Data the recording lost is reported on standard error
and in the profile's comment; zero is the normal case.

On a terminal a status line shows progress; in a pipe record is quiet. The
exit status is the recorded command's (128+N when a signal N killed it).`,
		Example: `  sysfence record -o app.json -- ./app --selftest
  sysfence record --args -o app.json -- sh -c 'make && make test'
  sysfence record --container web --duration 60s -o web.json
  sysfence record --docker -o redis.json -- --rm --name redis redis-image redis-server`,
		RunE: func(cmd *cobra.Command, args []string) error { return runRecord(cmd, &o, args) },
	}
	cmd.Flags().SetInterspersed(false)
	fl := cmd.Flags()
	fl.StringVarP(&o.out, "output", "o", "", "write the result to FILE (default: standard output)")
	fl.StringVar(&o.format, "format", "docker", "output: docker (profile), oci (LinuxSeccomp) or observation (the raw recording, for 'generate')")
	fl.BoolVar(&o.args, "args", false, "capture argument values and write argument-conditional rules")
	fl.StringVar(&o.backend, "backend", "auto", "auto, ebpf or ptrace (commands only)")
	fl.StringVar(&o.container, "container", "", "record this running Docker container")
	fl.BoolVar(&o.docker, "docker", false, "run 'docker run ARGS…' and record the container from its start")
	fl.DurationVar(&o.duration, "duration", 0, "stop recording after this long (e.g. 30s; 0: until the workload ends or Ctrl-C)")
	return cmd
}

func runRecord(cmd *cobra.Command, o *recordOptions, args []string) error {
	if err := o.check(args); err != nil {
		return usageError{err}
	}
	// Fail before recording when the result could not be written.
	out, err := prepareOutput(cmd, o.out)
	if err != nil {
		return err
	}
	defer out.abort()

	opts := recorder.Options{Args: o.args}
	stderr := cmd.ErrOrStderr()
	if isTerminal(stderr) {
		opts.Progress = func(p recorder.Progress) { fmt.Fprintf(stderr, "\r\033[Krecording: %s", p) }
	}
	obs, exit, err := o.record(cmd, args, opts)
	if opts.Progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if err := writeRecording(out, obs, o.format, o.args); err != nil {
		return err
	}
	if err := out.commit(); err != nil {
		return err
	}
	summarize(stderr, obs, o.out)
	if exit.Signal != 0 {
		return exitError{code: 128 + exit.Signal}
	}
	if exit.Code != 0 {
		return exitError{code: exit.Code}
	}
	return nil
}

func (o *recordOptions) check(args []string) error {
	modes := 0
	for _, on := range []bool{o.container != "", o.docker, !o.docker && o.container == "" && len(args) > 0} {
		if on {
			modes++
		}
	}
	switch {
	case o.container != "" && o.docker:
		return errors.New("give either --container NAME or --docker, not both")
	case o.container != "" && len(args) > 0:
		return fmt.Errorf("--container records a running container: unexpected command %q", args[0])
	case o.docker && len(args) == 0:
		return errors.New("--docker needs the docker run arguments after --, e.g. -- --rm IMAGE CMD")
	case modes == 0:
		return errors.New("nothing to record: give -- CMD [ARGS…], --container NAME or --docker -- DOCKER-RUN-ARGS…")
	case o.duration < 0:
		return fmt.Errorf("--duration: must not be negative, got %s", o.duration)
	case o.backend != "auto" && o.backend != "ebpf" && o.backend != "ptrace":
		return fmt.Errorf("--backend: unknown back end %q (want auto, ebpf or ptrace)", o.backend)
	case o.backend == "ptrace" && (o.container != "" || o.docker):
		return errors.New("--backend ptrace records commands only; containers are recorded with eBPF")
	}
	switch o.format {
	case "docker", "oci", "observation":
		return nil
	}
	return fmt.Errorf("--format: unknown format %q (want docker, oci or observation)", o.format)
}

// record runs the recording the flags ask for.
func (o *recordOptions) record(cmd *cobra.Command, args []string, opts recorder.Options) (*recorder.Observation, recorder.Exit, error) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	switch {
	case o.container != "":
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM) // Ctrl-C ends the recording, not sysfence
		defer stop()
		obs, err := recorder.RecordContainer(ctx, o.container, opts)
		return obs, recorder.Exit{}, err
	case o.docker:
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		stdio := recorder.Stdio{In: cmd.InOrStdin(), Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr()}
		if o.out == "" || o.out == "-" {
			stdio.Out = cmd.ErrOrStderr() // standard output carries the profile
		}
		return recorder.RecordDocker(ctx, args, stdio, opts)
	}
	// The command gets the terminal's Ctrl-C itself; sysfence keeps
	// recording until it and its descendants have exited.
	signal.Ignore(os.Interrupt)
	defer signal.Reset(os.Interrupt)
	c := exec.CommandContext(context.Background(), args[0], args[1:]...)
	c.Stdin, c.Stdout, c.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.out == "" || o.out == "-" {
		c.Stdout = cmd.ErrOrStderr() // standard output carries the profile
	}
	if _, err := exec.LookPath(args[0]); err != nil {
		return nil, recorder.Exit{}, fmt.Errorf("command %q: %w", args[0], unwrapExec(err))
	}
	switch o.backend {
	case "ebpf":
		return recorder.RecordEBPF(ctx, c, opts)
	case "ptrace":
		obs, exit, err := recorder.RecordPtrace(ctx, c, opts)
		if obs != nil {
			obs.Why = "--backend ptrace"
		}
		return obs, exit, err
	}
	return recorder.RecordCommand(ctx, c, opts)
}

// unwrapExec drops exec's and the file system's wrapping down to the cause
// ("no such file or directory", "permission denied").
func unwrapExec(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err
}

// writeRecording writes the observation, or the profile generated from it.
func writeRecording(w io.Writer, obs *recorder.Observation, format string, args bool) error {
	var data []byte
	var err error
	if format == "observation" {
		data, err = recorder.Encode(obs)
	} else {
		data, err = generatedProfile(obs, format, args)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

func generatedProfile(obs *recorder.Observation, format string, args bool) ([]byte, error) {
	p, err := generate.Profile(obs, generate.Options{Args: args})
	if err != nil {
		return nil, err
	}
	f := profile.FormatDocker
	if format == "oci" {
		f = profile.FormatOCI
	}
	return profile.Encode(p, f)
}

// summarize tells on standard error what was recorded and lost.
func summarize(w io.Writer, obs *recorder.Observation, out string) {
	why := ""
	if obs.Why != "" {
		why = " (" + obs.Why + ")"
	}
	fmt.Fprintf(w, "sysfence: recorded %s with %s%s: %d system calls, %d distinct, in %.1fs\n",
		obs.Target, obs.Backend, why, obs.Total(), obs.Distinct(), obs.Seconds)
	if obs.Lost.Total() > 0 {
		fmt.Fprintf(w, "sysfence: WARNING: the recording lost data: %s; the profile may miss calls\n", obs.Lost)
	}
	if out != "" && out != "-" {
		fmt.Fprintf(w, "sysfence: wrote %s\n", out)
	}
}

// newGenerateCmd is `sysfence generate`: a profile from a saved observation.
func newGenerateCmd() *cobra.Command {
	var out, format string
	var args bool
	cmd := &cobra.Command{
		Use:   "generate OBSERVATION [-o FILE] [--format docker|oci] [--args]",
		Short: "Write the profile for an observation saved by 'record --format observation'",
		Example: `  sysfence record --args --format observation -o app.obs.json -- ./app
  sysfence generate --args app.obs.json -o app.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if format != "docker" && format != "oci" {
				return usageError{fmt.Errorf("--format: unknown format %q (want docker or oci)", format)}
			}
			data, err := os.ReadFile(a[0])
			if err != nil {
				return fmt.Errorf("read observation: %w", err)
			}
			obs, err := recorder.Decode(data)
			if err != nil {
				return fmt.Errorf("%s: %w", a[0], err)
			}
			prof, err := generatedProfile(obs, format, args)
			if err != nil {
				return err
			}
			w, closeOut, err := openOutput(cmd, out)
			if err != nil {
				return err
			}
			if _, err := w.Write(prof); err != nil {
				closeOut()
				return err
			}
			return closeOut()
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the profile to FILE (default: standard output)")
	cmd.Flags().StringVar(&format, "format", "docker", "docker or oci")
	cmd.Flags().BoolVar(&args, "args", false, "write argument-conditional rules from the captured values")
	return cmd
}

// pendingOutput is an output file checked before a long run and written
// only at its end: a temporary file next to it, renamed over it on commit,
// so a failed recording leaves an existing file as it was.
type pendingOutput struct {
	io.Writer
	tmp  *os.File
	path string
}

func prepareOutput(cmd *cobra.Command, path string) (*pendingOutput, error) {
	if path == "" || path == "-" {
		return &pendingOutput{Writer: cmd.OutOrStdout()}, nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("-o %s: is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("-o %s: cannot write there: %w", path, err)
	}
	return &pendingOutput{Writer: tmp, tmp: tmp, path: path}, nil
}

func (p *pendingOutput) commit() error {
	if p.tmp == nil {
		return nil
	}
	if err := p.tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := p.tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(p.tmp.Name(), p.path); err != nil {
		return fmt.Errorf("-o %s: %w", p.path, err)
	}
	p.tmp = nil
	return nil
}

func (p *pendingOutput) abort() {
	if p.tmp != nil {
		p.tmp.Close()
		os.Remove(p.tmp.Name())
	}
}
