package bench

import "testing"

func TestQuantile(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		q    float64
		want float64
	}{
		{"empty", nil, 0.5, 0},
		{"one", []float64{7}, 0.5, 7},
		{"odd median", []float64{3, 1, 2}, 0.5, 2},
		{"even median", []float64{4, 1, 3, 2}, 0.5, 2.5},
		{"lower quartile", []float64{1, 2, 3, 4, 5}, 0.25, 2},
		{"max", []float64{1, 9, 5}, 1, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quantile(tc.xs, tc.q); got != tc.want {
				t.Errorf("quantile(%v, %v) = %v, want %v", tc.xs, tc.q, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	probe := func(samples ...float64) ProbeResult { return ProbeResult{Samples: samples} }
	res := &Result{
		Probes:   []string{"a()", "b()"},
		Baseline: 0,
		Configs: []ConfigResult{
			{Name: "none", Probes: []ProbeResult{probe(100, 102, 101), probe(50, 50, 50)}},
			{Name: "ours", Probes: []ProbeResult{probe(110, 112, 111), probe(50, 50, 50)}},
			{Name: "theirs", Probes: []ProbeResult{probe(140, 143, 141), probe(49, 49, 49)}},
		},
	}
	summarize(res)
	if got := res.Configs[1].Probes[0].OverheadNs; got != 10 {
		t.Errorf("ours on a(): overhead %v, want 10 (median of paired differences)", got)
	}
	if got := res.Configs[0].Probes[0].MedianNs; got != 101 {
		t.Errorf("baseline median %v, want 101", got)
	}
	if len(res.Ratios) != 2 {
		t.Fatalf("ratios %+v, want two (ours over theirs on a() and b())", res.Ratios)
	}
	if r := res.Ratios[0]; r.Of != "ours" || r.Over != "theirs" || r.Value == nil || *r.Value != 0.25 {
		t.Errorf("ratio on a(): %+v, want ours/theirs = 0.25", r)
	}
	if r := res.Ratios[1]; r.Value != nil {
		t.Errorf("ratio on b() = %v, want none (theirs' overhead is negative)", *r.Value)
	}
}

func TestBeyondFloor(t *testing.T) {
	probe := func(cached bool, samples ...float64) ProbeResult {
		return ProbeResult{Cached: cached, Samples: samples}
	}
	res := &Result{
		Probes: []string{"a()"},
		Configs: []ConfigResult{
			{Name: "none", Probes: []ProbeResult{probe(false, 100, 100, 100)}},
			{Name: "ours", Probes: []ProbeResult{probe(false, 130, 130, 130)}},
			{Name: "theirs", Probes: []ProbeResult{probe(false, 160, 160, 160)}},
			{Name: "c", Floor: "cached", Probes: []ProbeResult{probe(true, 101, 101, 101)}},
			{Name: "u", Floor: "uncached", Probes: []ProbeResult{probe(false, 120, 120, 120)}},
		},
	}
	summarize(res)
	ours, theirs := res.Configs[1].Probes[0], res.Configs[2].Probes[0]
	if ours.BeyondFloorNs == nil || *ours.BeyondFloorNs != 10 || *theirs.BeyondFloorNs != 40 {
		t.Fatalf("beyond floor: ours %v, theirs %v; want 10 and 40", ours.BeyondFloorNs, theirs.BeyondFloorNs)
	}
	if res.Configs[4].Probes[0].BeyondFloorNs != nil {
		t.Error("a floor has an overhead beyond itself")
	}
	if len(res.Ratios) != 1 || res.Ratios[0].BeyondFloor == nil || *res.Ratios[0].BeyondFloor != 0.25 {
		t.Errorf("ratios %+v, want one: ours over theirs, 0.25 beyond the floor", res.Ratios)
	}
}
