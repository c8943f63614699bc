// Command benchreport reads `go test -bench` output (scripts/bench.sh saves it under
// .cache/bench/) and adds a dated table of the design's figures — value, floor,
// ratio, met — at the top of BENCHMARKS.md's "Latest" part, keeping earlier tables.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/streamdlq/streamdlq/test/bench"
)

func main() {
	raw := flag.String("raw", "", "go test -bench output to read (required)")
	out := flag.String("out", "BENCHMARKS.md", "file to add the table to")
	commit := flag.String("commit", "unknown", "commit the run measured (git rev-parse --short HEAD)")
	partial := flag.Bool("partial", false, "a run of some benchmarks only: leave out the figures it did not measure")
	flag.Parse()
	if err := run(*raw, *out, *commit, *partial); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(rawPath, outPath, commit string, partial bool) error {
	if rawPath == "" {
		return errors.New("-raw is required")
	}
	f, err := os.Open(rawPath)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := bench.Parse(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", rawPath, err)
	}
	rows := bench.Evaluate(res, bench.Figures())
	scope := ""
	if partial {
		rows = slices.DeleteFunc(rows, func(r bench.Row) bool { return !r.Measured })
		scope = " Partial run: only the figures below were measured."
	}
	section := fmt.Sprintf("### %s — commit %s\n\nMachine: %s. Raw output: `%s`.%s\n\n%s",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), commit, bench.Machine(), rawPath, scope, bench.Table(rows))
	doc, err := os.ReadFile(outPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	fmt.Print(section)
	return os.WriteFile(outPath, []byte(bench.Insert(string(doc), section)), 0o644)
}
