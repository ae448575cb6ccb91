package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText prints res as a table, one block of rows per probe, followed by
// the ratios of the filters' overheads.
func WriteText(w io.Writer, res *Result) error {
	pin := "not pinned to a CPU"
	if res.CPU >= 0 {
		pin = fmt.Sprintf("pinned to CPU %d", res.CPU)
	}
	fmt.Fprintf(w, "%d interleaved rounds × %d calls per probe, %s, children %s\n",
		res.Runs, res.Iterations, res.Arch, pin)
	fmt.Fprintln(w, "ns/call: median over rounds of the fastest block of calls; overhead: median over rounds of (filter − no filter);")
	fmt.Fprintln(w, "±: interquartile range over rounds; ~: within noise (fewer than 3 rounds in 4 slower than no filter);")
	fmt.Fprintln(w, "cached: the kernel's action cache allows the call without running the filter")
	if hasFloors(res) {
		fmt.Fprintln(w, "beyond floor: overhead minus that of the allow-all floor filter of the same kind (cached or not)")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	floors := hasFloors(res)
	header := "probe\tfilter\tinsns\tpath\tcached\tverdict\tns/call\t±\toverhead\t±\t"
	if floors {
		header += "beyond floor\t"
	}
	fmt.Fprintln(tw, header)
	for pi, probe := range res.Probes {
		for ci, c := range res.Configs {
			label := ""
			if ci == 0 {
				label = probe
			}
			line := fmt.Sprintf("%s\t%s\t%s", label, c.Name, row(c, c.Probes[pi], ci == res.Baseline))
			if floors {
				line += beyondCell(c.Probes[pi])
			}
			fmt.Fprintln(tw, line)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(res.Ratios) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "overhead ratios:")
	}
	for _, r := range res.Ratios {
		fmt.Fprintf(w, "  %s: %s adds %s, %s adds %s: %s\n", r.Probe,
			r.Of, overhead(res, r.Of, r.Probe, false), r.Over, overhead(res, r.Over, r.Probe, false), ratioString(r.Value))
		if b := overhead(res, r.Of, r.Probe, true); b != "" {
			fmt.Fprintf(w, "      beyond the floor: %s adds %s, %s adds %s: %s\n", r.Of, b, r.Over,
				overhead(res, r.Over, r.Probe, true), ratioString(r.BeyondFloor))
		}
	}
	return nil
}

// row renders the numeric columns of one configuration and probe.
func row(c ConfigResult, pr ProbeResult, baseline bool) string {
	if baseline {
		return fmt.Sprintf("-\t-\t-\t%s\t%.1f\t%.1f\t-\t\t", pr.Verdict, pr.MedianNs, pr.IQRNs)
	}
	if pr.Skipped != "" {
		return fmt.Sprintf("%d\t%d\t%s\t%s\tskipped\t\t\t\t", c.Instructions, pr.PathLength, yesNo(pr.Cached), pr.Verdict)
	}
	noise := ""
	if !pr.Measurable {
		noise = " ~"
	}
	return fmt.Sprintf("%d\t%d\t%s\t%s\t%.1f\t%.1f\t%+.1f%s\t%.1f\t", c.Instructions, pr.PathLength, yesNo(pr.Cached),
		pr.Verdict, pr.MedianNs, pr.IQRNs, pr.OverheadNs, noise, pr.OverheadIQRNs)
}

// overhead spells the overhead of the named configuration on a probe, or
// with beyond its overhead beyond the floor ("" when unknown).
func overhead(res *Result, config, probe string, beyond bool) string {
	for _, c := range res.Configs {
		if c.Name != config {
			continue
		}
		for _, pr := range c.Probes {
			switch {
			case pr.Probe != probe:
			case !beyond:
				return fmt.Sprintf("%.1f ns", pr.OverheadNs)
			case pr.BeyondFloorNs != nil:
				return fmt.Sprintf("%.1f ns", *pr.BeyondFloorNs)
			default:
				return ""
			}
		}
	}
	return ""
}

// beyondCell renders the beyond-floor column of one row.
func beyondCell(pr ProbeResult) string {
	if pr.BeyondFloorNs == nil {
		return "-\t"
	}
	return fmt.Sprintf("%+.1f\t", *pr.BeyondFloorNs)
}

func hasFloors(res *Result) bool {
	for _, c := range res.Configs {
		for _, pr := range c.Probes {
			if pr.BeyondFloorNs != nil {
				return true
			}
		}
	}
	return false
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func ratioString(v *float64) string {
	if v == nil {
		return "no ratio (the second overhead is not positive)"
	}
	return fmt.Sprintf("%.2f×", *v)
}
