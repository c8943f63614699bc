package bench

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Direction says which side of its floor a figure must stay on.
type Direction int

const (
	AtMost  Direction = iota // the value must not exceed the floor (costs, memory, time)
	AtLeast                  // the value must reach the floor (throughput, efficiency)
	NoFloor                  // reported for reference only
)

// Figure is one measured quantity of BENCHMARKS.md.
type Figure struct {
	Name      string // what is measured, as the table shows it
	Package   string // the package's import path suffix, e.g. "internal/stream"
	Benchmark string // the benchmark's full name without the -GOMAXPROCS suffix
	Unit      string // the reported metric
	Dir       Direction
	Floor     float64
	FloorUnit string // a metric of the same benchmark holding the floor (e.g. the least possible calls)
}

// Result holds every metric of every benchmark in a run, keyed by package suffix and
// benchmark name; repeated runs (-count) keep every value.
type Result map[string]map[string][]float64

var procSuffix = regexp.MustCompile(`-\d+$`)

// Parse reads `go test -bench` output.
func Parse(r io.Reader) (Result, error) {
	res := Result{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		key := pkg + " " + procSuffix.ReplaceAllString(f[0], "")
		if res[key] == nil {
			res[key] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				res[key][f[i+1]] = append(res[key][f[i+1]], v)
			}
		}
	}
	return res, sc.Err()
}

// Value returns the median of a metric of the benchmark named by package suffix and
// name; ok is false when it was not measured.
func (r Result) Value(pkg, bench, unit string) (float64, bool) {
	for key, metrics := range r {
		p, name, _ := strings.Cut(key, " ")
		if name != bench || !(p == pkg || strings.HasSuffix(p, "/"+pkg)) {
			continue
		}
		if vs := metrics[unit]; len(vs) > 0 {
			return median(vs), true
		}
	}
	return 0, false
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Row is a figure evaluated against a run.
type Row struct {
	Figure
	Value    float64
	Measured bool
	Ratio    float64 // Value / Floor
	Met      bool
}

// Evaluate measures every figure against r.
func Evaluate(r Result, figures []Figure) []Row {
	rows := make([]Row, 0, len(figures))
	for _, f := range figures {
		row := Row{Figure: f}
		row.Value, row.Measured = r.Value(f.Package, f.Benchmark, f.Unit)
		if f.FloorUnit != "" {
			row.Floor, _ = r.Value(f.Package, f.Benchmark, f.FloorUnit)
		}
		if row.Measured && row.Floor > 0 {
			row.Ratio = row.Value / row.Floor
		}
		switch f.Dir {
		case AtMost:
			row.Met = row.Measured && row.Value <= row.Floor
		case AtLeast:
			row.Met = row.Measured && row.Value >= row.Floor
		default:
			row.Met = row.Measured
		}
		rows = append(rows, row)
	}
	return rows
}

// Table renders rows as a Markdown table.
func Table(rows []Row) string {
	var b strings.Builder
	b.WriteString("| Figure | Measured | Floor | Ratio to floor | Met |\n|---|---:|---:|---:|:---:|\n")
	for _, r := range rows {
		if !r.Measured {
			fmt.Fprintf(&b, "| %s | not measured | %s | — | ✗ |\n", r.Name, floorText(r))
			continue
		}
		ratio, met := "—", "—"
		if r.Dir != NoFloor {
			ratio, met = fmt.Sprintf("%.2f", r.Ratio), map[bool]string{true: "✓", false: "✗"}[r.Met]
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s |\n", r.Name, num(r.Value), r.Unit, floorText(r), ratio, met)
	}
	return b.String()
}

func floorText(r Row) string {
	switch r.Dir {
	case AtMost:
		return "≤ " + num(r.Floor)
	case AtLeast:
		return "≥ " + num(r.Floor)
	}
	return "—"
}

// num prints a value with the precision its size deserves.
func num(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e6:
		return strconv.FormatInt(int64(v), 10)
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	// Below 1 (fractions, allocations, dollars per failure): three significant digits.
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Marker is the line of BENCHMARKS.md under which each run's section is inserted, so
// the newest table comes first and earlier ones stay below for comparison.
const Marker = "<!-- benchreport: newest run first, below this line -->"

// Insert returns doc with section added right below Marker; a doc without the marker
// gets it appended first, under a "## Latest" heading.
func Insert(doc, section string) string {
	if !strings.Contains(doc, Marker) {
		doc = strings.TrimRight(doc, "\n") + "\n\n## Latest\n\n" + Marker + "\n"
	}
	before, after, _ := strings.Cut(doc, Marker+"\n")
	return before + Marker + "\n\n" + strings.TrimRight(section, "\n") + "\n" + after
}
