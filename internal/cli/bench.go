package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sysfence/sysfence/bench"
	"github.com/sysfence/sysfence/bpf"
)

func init() { commands = append(commands, newBenchCmd, newBenchChildCmd) }

// benchChildCmd is the hidden subcommand a benchmark child runs.
const benchChildCmd = "__bench-child"

func newBenchCmd() *cobra.Command {
	var (
		tf         targetFlags
		vs, vsBPF  []string
		probes     []string
		runs, iter int
		format     string
		floors     bool
	)
	cmd := &cobra.Command{
		Use:   "bench PROFILE [--vs PROFILE]… [--vs-bpf FILE]…",
		Short: "Measure the latency a filter adds to system calls, against no filter",
		Long: `Measure, per probe system call, the nanoseconds per call under PROFILE's
compiled filter, under other filters (--vs PROFILE, --vs-bpf FILE: a raw filter such as one
'sysfence dump --container' wrote), and under no filter.
Each measurement runs in a fresh child process (sysfence re-executes itself)
pinned to one CPU; configurations take turns round by round so that machine
noise falls on all of them. Reported: the median over rounds, the overhead
over no filter, and the ratio of PROFILE's overhead to each other filter's.
--floor adds two allow-all reference filters, one the kernel's action cache
answers without running it and one it must run: the least any filter costs.
Default probes: ` + fmt.Sprint(bench.DefaultSpecs) + `.`,
		Example: `  sysfence bench default
  sudo sysfence dump --container web -o docker.bpf
  sysfence bench default --vs-bpf docker.bpf --runs 21 --floor
  sysfence bench my.json --vs default --syscall getppid --syscall ioctl:1,0x5401`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			if runs < 1 || iter < 1 {
				return usageError{fmt.Errorf("--runs %d, --iterations %d: both must be at least 1", runs, iter)}
			}
			t, err := tf.target()
			if err != nil {
				return err
			}
			if t.Arch.GOARCH != runtime.GOARCH {
				return usageError{fmt.Errorf("--arch %s: bench runs filters on this host (%s)", t.Arch, runtime.GOARCH)}
			}
			ps, err := bench.ParseProbes(probes, t.Arch)
			if err != nil {
				return usageError{fmt.Errorf("--syscall: %w", err)}
			}
			configs, err := benchConfigs(cmd, args[0], vs, vsBPF, &tf)
			if err != nil {
				return err
			}
			if floors {
				configs = append(configs, bench.Floors()...)
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find sysfence executable: %w", err)
			}
			opts := bench.Options{Runs: runs, Iterations: iter, Command: []string{exe, benchChildCmd}, Arch: t.Arch}
			if isTerminal(cmd.ErrOrStderr()) {
				opts.Progress = cmd.ErrOrStderr()
			}
			res, err := bench.Run(configs, ps, opts)
			if err != nil {
				return err
			}
			return writeBench(cmd.OutOrStdout(), res, format)
		},
	}
	tf.register(cmd)
	fl := cmd.Flags()
	fl.StringArrayVar(&vs, "vs", nil, "compare with this `PROFILE` (path, - or default), compiled by sysfence; repeatable")
	fl.StringArrayVar(&vsBPF, "vs-bpf", nil, "compare with this raw filter `FILE` (e.g. from sysfence dump); repeatable")
	fl.StringArrayVar(&probes, "syscall", nil, "probe `NAME[:A0,A1,…]` (arguments decimal or 0x hex); repeatable")
	fl.BoolVar(&floors, "floor", false, "also measure two allow-all filters: the least any cached and any uncached filter costs")
	fl.IntVar(&runs, "runs", 15, "interleaved rounds (one child per configuration each)")
	fl.IntVar(&iter, "iterations", 200000, "calls per timed loop")
	fl.StringVar(&format, "format", "text", "text or json")
	return cmd
}

// benchConfigs compiles PROFILE and the comparison filters, after the
// no-filter baseline.
func benchConfigs(cmd *cobra.Command, arg string, vs, vsBPF []string, tf *targetFlags) ([]bench.Config, error) {
	configs := []bench.Config{{Name: "none"}}
	add := func(name string, prog []bpf.Instruction) {
		for slices.ContainsFunc(configs, func(c bench.Config) bool { return c.Name == name }) {
			name += "'"
		}
		configs = append(configs, bench.Config{Name: name, Filter: prog})
	}
	for _, p := range append([]string{arg}, vs...) {
		prog, _, err := compileProfile(cmd, p, tf)
		if err != nil {
			return nil, err
		}
		add(benchName(p), prog.Instructions)
	}
	for _, f := range vsBPF {
		raw, err := readBPF(f)
		if err != nil {
			return nil, err
		}
		add(filepath.Base(f)+" (raw)", raw)
	}
	return configs, nil
}

// benchName labels a profile argument in the table.
func benchName(arg string) string {
	if arg == "-" {
		return "stdin"
	}
	return filepath.Base(arg)
}

func writeBench(w io.Writer, res *bench.Result, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return bench.WriteText(w, res)
}

// newBenchChildCmd is the process `bench` starts for each measurement: it
// installs a filter in itself, so it must never be the reporting process.
func newBenchChildCmd() *cobra.Command {
	return &cobra.Command{
		Use:    benchChildCmd,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bench.ServeChild(cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
}
