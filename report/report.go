// Package report renders what sysfence knows about a profile — its syscall
// map by kind and verdict, the audit findings, the diff against a baseline
// and the filter's cost — as one self-contained HTML page.
package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/sysfence/sysfence/analysis"
	"github.com/sysfence/sysfence/compiler"
	"github.com/sysfence/sysfence/profile"
	"github.com/sysfence/sysfence/syscalls"
)

// Input is everything a report shows.
type Input struct {
	Profile  string // what was given: a path, "default"
	Target   string
	Arch     *syscalls.Arch // the ABI the map shows: the target's own
	Resolved *profile.Resolved
	Audit    *analysis.AuditReport
	Baseline string            // name of the baseline, "" for none
	Diff     []analysis.Change // against the baseline
	Cost     *compiler.Stats   // nil when the profile was not compiled
}

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"join":      strings.Join,
	"kindTitle": kindTitle,
	"lower": func(s fmt.Stringer) string {
		return strings.ToLower(s.String())
	},
}).Parse(pageTemplate))

// cell is one system call of the map.
type cell struct {
	Name    string
	Nr      uint32
	Class   string // allowed, conditional, blocked
	Risk    string // finding id and title when a dangerous-call group has it
	Changed string // the baseline's verdict when it differs, e.g. "ERRNO(1) → ALLOW"
}

type group struct {
	Kind  string
	Cells []cell
	Count map[string]int
}

type view struct {
	Input
	Groups   []group
	Total    int
	Counts   map[string]int
	Severity map[string]int
	Native   *analysis.ArchSummary
	Changes  []analysis.Change // allow/deny changes only
	Denials  int               // changes between two denials
}

// Render writes the report page.
func Render(w io.Writer, in Input) error {
	v := view{Input: in, Counts: map[string]int{}, Severity: map[string]int{}}
	risk := map[string]string{}
	for _, g := range analysis.Dangerous() {
		for _, n := range g.Syscalls {
			risk[n] = g.ID + " " + g.Title
		}
	}
	changed := map[string]string{}
	for _, c := range in.Diff {
		if c.Arch != in.Arch.Name {
			continue
		}
		if isAllow(c.A) != isAllow(c.B) {
			v.Changes = append(v.Changes, c)
			changed[c.Syscall] = c.A + " → " + c.B
		} else {
			v.Denials++
		}
	}
	byKind := map[string][]cell{}
	names := in.Arch.Names()
	slices.Sort(names)
	for _, name := range names {
		nr, _ := in.Arch.Number(name)
		c := cell{Name: name, Nr: nr, Class: analysis.Classify(in.Resolved, in.Arch, nr).String(), Risk: risk[name], Changed: changed[name]}
		byKind[kindOf(name)] = append(byKind[kindOf(name)], c)
		v.Counts[c.Class]++
		v.Total++
	}
	for _, k := range Kinds {
		g := group{Kind: k, Cells: byKind[k], Count: map[string]int{}}
		for _, c := range g.Cells {
			g.Count[c.Class]++
		}
		if len(g.Cells) > 0 {
			v.Groups = append(v.Groups, g)
		}
	}
	if in.Audit != nil {
		for _, f := range in.Audit.Findings {
			v.Severity[f.Severity.String()]++
		}
		for i := range in.Audit.Summary {
			if in.Audit.Summary[i].Arch == in.Arch.Name {
				v.Native = &in.Audit.Summary[i]
			}
		}
	}
	return page.Execute(w, v)
}

func isAllow(verdict string) bool { return verdict == "ALLOW" || verdict == "LOG" }
