package bench

import "slices"

// summarize fills medians, spreads, overheads and ratios from the samples.
func summarize(res *Result) {
	for ci := range res.Configs {
		for pi := range res.Configs[ci].Probes {
			pr := &res.Configs[ci].Probes[pi]
			pr.MedianNs = quantile(pr.Samples, 0.5)
			pr.IQRNs = quantile(pr.Samples, 0.75) - quantile(pr.Samples, 0.25)
		}
	}
	base := res.Configs[res.Baseline]
	for ci := range res.Configs {
		for pi := range res.Configs[ci].Probes {
			pr := &res.Configs[ci].Probes[pi]
			if pr.Skipped == "" && ci != res.Baseline {
				d := paired(pr.Samples, base.Probes[pi].Samples)
				pr.OverheadNs = quantile(d, 0.5)
				pr.OverheadIQRNs = quantile(d, 0.75) - quantile(d, 0.25)
				pr.Measurable = quantile(d, 0.25) > 0
			}
		}
	}
	beyondFloors(res)
	res.Ratios = ratios(res)
}

// beyondFloors sets BeyondFloorNs on every non-floor filter's probes, when
// the floors were measured.
func beyondFloors(res *Result) {
	floors := map[bool]int{}
	for ci, c := range res.Configs {
		switch c.Floor {
		case "cached":
			floors[true] = ci
		case "uncached":
			floors[false] = ci
		}
	}
	if len(floors) != 2 {
		return
	}
	for ci := range res.Configs {
		c := &res.Configs[ci]
		if ci == res.Baseline || c.Floor != "" {
			continue
		}
		for pi := range c.Probes {
			pr := &c.Probes[pi]
			if pr.Skipped != "" {
				continue
			}
			v := pr.OverheadNs - res.Configs[floors[pr.Cached]].Probes[pi].OverheadNs
			pr.BeyondFloorNs = &v
		}
	}
}

// paired returns the differences xs[i] − base[i]: a configuration's time
// minus the baseline's in the same round, so that drifts of the machine
// between rounds cancel.
func paired(xs, base []float64) []float64 {
	d := make([]float64, min(len(xs), len(base)))
	for i := range d {
		d[i] = xs[i] - base[i]
	}
	return d
}

// ratios compares the first filter configuration (the profile under test)
// with every other filter, on every probe both ran.
func ratios(res *Result) []Ratio {
	first := -1
	var out []Ratio
	for j, b := range res.Configs {
		switch {
		case j == res.Baseline || b.Floor != "":
			continue
		case first < 0:
			first = j
			continue
		}
		a := res.Configs[first]
		for pi := range res.Probes {
			pa, pb := a.Probes[pi], b.Probes[pi]
			if pa.Skipped != "" || pb.Skipped != "" {
				continue
			}
			r := Ratio{Probe: res.Probes[pi], Of: a.Name, Over: b.Name}
			if pb.OverheadNs > 0 {
				v := pa.OverheadNs / pb.OverheadNs
				r.Value = &v
			}
			if pa.BeyondFloorNs != nil && pb.BeyondFloorNs != nil && *pb.BeyondFloorNs > 0 {
				v := *pa.BeyondFloorNs / *pb.BeyondFloorNs
				r.BeyondFloor = &v
			}
			out = append(out, r)
		}
	}
	return out
}

// quantile is the q-quantile of xs by linear interpolation between order
// statistics, 0 for no samples.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(pos)
	if lo+1 >= len(s) {
		return s[lo]
	}
	frac := pos - float64(lo)
	return s[lo]*(1-frac) + s[lo+1]*frac
}
