package bench

import (
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
pkg: github.com/streamdlq/streamdlq/internal/stream
BenchmarkKinesisRead/N=100-2   	       3	1061695326 ns/op	         2.000 apicalls/batch	         2.000 min-apicalls/batch	        94.19 records/s
BenchmarkKinesisRead/N=25000-2 	       3	3666491724 ns/op	         5.000 apicalls/batch	         4.000 min-apicalls/batch	      6819 records/s
pkg: github.com/streamdlq/streamdlq/archive
BenchmarkEncode/message/kinesis-2   100  1000 ns/op  150.5 MB/s  3.0 allocs/record
BenchmarkEncode/message/kinesis-2   100  1000 ns/op  120.5 MB/s  3.0 allocs/record
BenchmarkEncode/message/kinesis-2   100  1000 ns/op   90.5 MB/s  7.0 allocs/record
--- FAIL: BenchmarkBroken
ok  	github.com/streamdlq/streamdlq/archive	12.3s
`

func TestEvaluate(t *testing.T) {
	res, err := Parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	figures := []Figure{
		{Name: "calls 100", Package: "internal/stream", Benchmark: "BenchmarkKinesisRead/N=100", Unit: "apicalls/batch", Dir: AtMost, FloorUnit: "min-apicalls/batch"},
		{Name: "calls 25000", Package: "internal/stream", Benchmark: "BenchmarkKinesisRead/N=25000", Unit: "apicalls/batch", Dir: AtMost, FloorUnit: "min-apicalls/batch"},
		{Name: "MB/s", Package: "archive", Benchmark: "BenchmarkEncode/message/kinesis", Unit: "MB/s", Dir: AtLeast, Floor: 100},
		{Name: "allocs", Package: "archive", Benchmark: "BenchmarkEncode/message/kinesis", Unit: "allocs/record", Dir: AtMost, Floor: 5},
		{Name: "missing", Package: "redrive", Benchmark: "BenchmarkControllerSimulated/shards=1", Unit: "capacity-fraction", Dir: AtLeast, Floor: 0.9},
		{Name: "wrong package", Package: "test/bench", Benchmark: "BenchmarkKinesisRead/N=100", Unit: "apicalls/batch", Dir: NoFloor},
	}
	tests := map[string]struct {
		value, ratio float64
		measured     bool
		met          bool
	}{
		"calls 100":     {value: 2, ratio: 1, measured: true, met: true},
		"calls 25000":   {value: 5, ratio: 1.25, measured: true, met: false},
		"MB/s":          {value: 120.5, ratio: 1.205, measured: true, met: true}, // median of three runs
		"allocs":        {value: 3, ratio: 0.6, measured: true, met: true},
		"missing":       {},
		"wrong package": {},
	}
	for _, row := range Evaluate(res, figures) {
		want := tests[row.Name]
		t.Run(row.Name, func(t *testing.T) {
			got := [4]any{row.Value, row.Ratio, row.Measured, row.Met}
			if got != [4]any{want.value, want.ratio, want.measured, want.met} {
				t.Errorf("got value, ratio, measured, met %v, want %v", got, [4]any{want.value, want.ratio, want.measured, want.met})
			}
		})
	}
}

func TestTableShowsMissingFigures(t *testing.T) {
	rows := Evaluate(Result{}, []Figure{{Name: "cold start", Package: "test/bench", Benchmark: "BenchmarkColdStart/hydrate", Unit: "init-ms-median", Dir: AtMost, Floor: 30}})
	got := Table(rows)
	if !strings.Contains(got, "| cold start | not measured | ≤ 30 | — | ✗ |") {
		t.Errorf("got %q, want a not-measured row", got)
	}
}

func TestInsertKeepsEarlierRuns(t *testing.T) {
	tests := map[string]struct {
		doc, want string
	}{
		"first run": {
			doc:  "# Benchmarks\n\nintro\n",
			want: "# Benchmarks\n\nintro\n\n## Latest\n\n" + Marker + "\n\n### new\n",
		},
		"later run": {
			doc:  "# B\n\n## Latest\n\n" + Marker + "\n\n### old\n",
			want: "# B\n\n## Latest\n\n" + Marker + "\n\n### new\n\n### old\n",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Insert(tt.doc, "### new\n"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFiguresAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Figures() {
		key := f.Package + " " + f.Benchmark + " " + f.Unit
		if seen[key] {
			t.Errorf("figure %q measured twice (%s)", f.Name, key)
		}
		seen[key] = true
		if f.Dir != NoFloor && f.Floor == 0 && f.FloorUnit == "" {
			t.Errorf("figure %q has a direction but no floor", f.Name)
		}
	}
}
