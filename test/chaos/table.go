package chaos

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Row is the matrix line of one fault class: the runs it was enabled in, how often
// it struck, and what became of those runs' records.
type Row struct {
	Runs, Injected int
	Tally
}

// Matrix totals runs by fault class. A run with several classes counts in each.
type Matrix struct {
	Runs         int
	FirstSeed    int64
	ParkedEvents int
	Rehydrated   int // parked events the rehydration schedule hydrated
	ByClass      map[Class]*Row
	None         Row // runs with no fault enabled
	Total        Row

	RehydrateTicks int // the rehydration schedule's invocations over all runs
}

// Add counts a checked run.
func (m *Matrix) Add(r *Run) {
	if m.ByClass == nil {
		m.ByClass, m.FirstSeed = map[Class]*Row{}, r.Seed
	}
	m.Runs++
	m.ParkedEvents += r.ParkedEvents
	m.Rehydrated += r.Rehydrated
	m.RehydrateTicks += r.RehydrateTicks
	m.Total.Runs++
	m.Total.add(r.Tally)
	if len(r.Enabled) == 0 {
		m.None.Runs++
		m.None.add(r.Tally)
	}
	for _, c := range r.Enabled {
		row := m.ByClass[c]
		if row == nil {
			row = &Row{}
			m.ByClass[c] = row
		}
		row.Runs++
		row.Injected += r.Injected[c]
		row.add(r.Tally)
	}
	for _, c := range Classes {
		m.Total.Injected += r.Injected[c]
	}
}

// Table renders the matrix as Markdown.
func (m *Matrix) Table() string {
	var b strings.Builder
	b.WriteString("| Fault class | Runs | Injected | Records | Delivered | Queued | Parked | Gap | Lost | Duplicates (unexplained) | Out of order |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	line := func(name string, r Row) {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d (%d) | %d |\n", name, r.Runs, r.Injected,
			r.Records, r.Delivered, r.Queued, r.Parked, r.Gapped, r.Lost, r.Duplicates, r.Unexplained, r.OutOfOrder)
	}
	for _, c := range Classes {
		if r := m.ByClass[c]; r != nil {
			line(string(c), *r)
		}
	}
	line("none", m.None)
	line("**all runs**", m.Total)
	return b.String()
}

// Markers delimit the part of RELIABILITY.md that `make chaos` rewrites.
const (
	beginMarker = "<!-- chaos: begin fault matrix (written by make chaos) -->"
	endMarker   = "<!-- chaos: end fault matrix -->"
)

// WriteReport puts the matrix, with how it was produced, between the markers of the
// file at path; a file without them gets them appended.
func WriteReport(path string, m *Matrix, how string) error {
	doc, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	section := fmt.Sprintf("%s\n\n%s\n\n%s\n%s", beginMarker, how, m.Table(), endMarker)
	text := string(doc)
	before, rest, ok := strings.Cut(text, beginMarker)
	if !ok {
		return os.WriteFile(path, []byte(strings.TrimRight(text, "\n")+"\n\n"+section+"\n"), 0o644)
	}
	_, after, _ := strings.Cut(rest, endMarker)
	return os.WriteFile(path, []byte(before+section+after), 0o644)
}
