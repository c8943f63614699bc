package hydrate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
)

// rec is a Kinesis record at sequence number n, or KPL sub-record sub of it (sub >= 0).
func rec(n int, sub int) batch.Record {
	r := &batch.KinesisEventRecord{EventSource: batch.EventSourceKinesis}
	r.Kinesis.KinesisRecord = events.KinesisRecord{SequenceNumber: strconv.Itoa(n)}
	if sub >= 0 {
		s := uint64(sub)
		r.Kinesis.SubSequenceNumber = &s
	}
	return batch.Record{Kinesis: r}
}

func recs(ns ...int) []batch.Record {
	out := make([]batch.Record, len(ns))
	for i, n := range ns {
		out[i] = rec(n, -1)
	}
	return out
}

func doc(records []batch.Record, expected int, gaps ...batch.Gap) *archive.Document {
	d := &archive.Document{Records: records, Hydration: archive.Hydration{Start: "100", End: "200", Expected: expected, Gaps: gaps, Calls: 2}}
	settle(d)
	return d
}

func keys(rs []batch.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.SequenceNumber()
		if s := r.Kinesis.Kinesis.SubSequenceNumber; s != nil {
			out[i] += "." + strconv.FormatUint(*s, 10)
		}
	}
	return out
}

func TestMerge(t *testing.T) {
	unread := func(from, to int, detail string) batch.Gap {
		return batch.Gap{From: strconv.Itoa(from), To: strconv.Itoa(to), Reason: batch.GapUnreadable, Detail: detail}
	}
	trimmed := func(from, to int) batch.Gap {
		return batch.Gap{From: strconv.Itoa(from), To: strconv.Itoa(to), Reason: batch.GapTrimmed}
	}
	cases := map[string]struct {
		old, cur *archive.Document
		want     []string
		gaps     []batch.Gap
		status   string
	}{
		"later attempt reads the rest": {
			old: doc(recs(100, 110), 4, unread(111, 200, "deadline")), cur: doc(recs(100, 110, 150, 200), 4),
			want: []string{"100", "110", "150", "200"}, status: archive.StatusComplete,
		},
		"each attempt reads a different part": {
			old: doc(recs(100, 110), 4, unread(111, 200, "deadline")), cur: doc(recs(150, 200), 4, unread(100, 149, "throttled")),
			gaps: []batch.Gap{unread(111, 149, "throttled")}, status: archive.StatusIncomplete,
			want: []string{"100", "110", "150", "200"},
		},
		"each attempt reads what the other missed": {
			old: doc(recs(100, 110), 4, unread(111, 200, "deadline")), cur: doc(recs(150, 200), 4, unread(100, 110, "throttled")),
			want: []string{"100", "110", "150", "200"}, status: archive.StatusComplete,
		},
		"records trimmed since the first attempt are kept, not a gap": {
			old: doc(recs(100, 110), 4, unread(111, 200, "deadline")), cur: doc(recs(150, 200), 4, trimmed(100, 110)),
			want: []string{"100", "110", "150", "200"}, status: archive.StatusComplete,
		},
		"a part neither read stays a gap, final if trimmed since": {
			old: doc(recs(100), 3, unread(101, 200, "deadline")), cur: doc(recs(180, 200), 3, trimmed(100, 179)),
			want: []string{"100", "180", "200"}, gaps: []batch.Gap{trimmed(101, 179)}, status: archive.StatusPartial,
		},
		"a gap trimmed before the first attempt survives a resumed read": {
			old: doc(recs(150, 160), 5, trimmed(100, 149), unread(161, 200, "access-denied")), cur: doc(recs(180, 200), 5),
			want: []string{"150", "160", "180", "200"}, gaps: []batch.Gap{trimmed(100, 149)}, status: archive.StatusPartial,
		},
		"a whole read after a count mismatch finds the trim": {
			old: doc(recs(150, 160, 180, 200), 5), cur: doc(recs(150, 160, 180, 200), 5, trimmed(100, 149)),
			want: []string{"150", "160", "180", "200"}, gaps: []batch.Gap{trimmed(100, 149)}, status: archive.StatusPartial,
		},
		"still transient where both failed": {
			old: doc(recs(100), 3, unread(101, 200, "deadline")), cur: doc(recs(100, 110), 3, unread(111, 200, "access-denied")),
			want: []string{"100", "110"}, gaps: []batch.Gap{unread(111, 200, "access-denied")}, status: archive.StatusIncomplete,
		},
		"KPL sub-records once each, in order": {
			old:  doc([]batch.Record{rec(100, 0), rec(100, 1)}, 2, unread(101, 200, "deadline")),
			cur:  doc([]batch.Record{rec(100, 1), rec(100, 2), rec(200, -1)}, 2, unread(100, 100, "deadline")),
			want: []string{"100.0", "100.1", "100.2", "200"}, status: archive.StatusComplete,
		},
		"the count is checked again on the union": {
			old: doc(recs(100), 3), cur: doc(recs(200), 3),
			want: []string{"100", "200"}, status: archive.StatusIncomplete,
			gaps: []batch.Gap{{From: "100", To: "200", Reason: batch.GapCountMismatch, Detail: "read 2 records, the consumer was given 3"}},
		},
	}
	for name, c := range cases {
		for _, spooled := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/spooled=%v", name, spooled), func(t *testing.T) {
				old, cur, above := c.old, c.cur, 0
				if spooled {
					old, cur, above = spoolCopy(t, c.old), spoolCopy(t, c.cur), 1
				}
				got, err := merge(old, cur, above)
				if err != nil {
					t.Fatal(err)
				}
				defer got.Close()
				records := all(t, got)
				if !reflect.DeepEqual(keys(records), c.want) {
					t.Errorf("records: got %v, want %v", keys(records), c.want)
				}
				if !reflect.DeepEqual(got.Hydration.Gaps, c.gaps) {
					t.Errorf("gaps: got %+v, want %+v", got.Hydration.Gaps, c.gaps)
				}
				if got.Hydration.Status != c.status || got.Hydration.Fetched != len(c.want) || got.Hydration.Calls != 4 {
					t.Errorf("status %s, fetched %d, calls %d; want %s, %d, 4", got.Hydration.Status, got.Hydration.Fetched, got.Hydration.Calls, c.status, len(c.want))
				}
			})
		}
	}
}

// spoolCopy is d with its records in a spool file (when it has more than one).
func spoolCopy(t *testing.T, d *archive.Document) *archive.Document {
	t.Helper()
	out := &archive.Document{Failure: d.Failure, Hydration: d.Hydration}
	out.SpoolAbove(1, t.TempDir())
	if err := out.Add(d.Records); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = out.Close() })
	return out
}

// all is d's records, held or spooled.
func all(t *testing.T, d *archive.Document) []batch.Record {
	t.Helper()
	var out []batch.Record
	for r, err := range d.All() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestMergeSpooledStreams: superseding a long spooled capture with another streams
// both from their spool files into a spooled merge (Load would have brought the inputs
// into memory, leaving them unspooled), and writes what the held merge writes.
func TestMergeSpooledStreams(t *testing.T) {
	unread := batch.Gap{From: "1500", To: "3000", Reason: batch.GapUnreadable, Detail: "deadline"}
	var a, b []batch.Record
	for n := 1000; n < 1500; n++ {
		a = append(a, rec(n, -1))
	}
	for n := 1200; n < 2500; n++ {
		b = append(b, rec(n, -1), rec(n, 0))
	}
	held := func() (*archive.Document, *archive.Document) {
		return doc(slices.Clone(a), 2000, unread), doc(slices.Clone(b), 2000)
	}
	ho, hc := held()
	want, err := merge(ho, hc, 0)
	if err != nil {
		t.Fatal(err)
	}
	so, sc := held()
	so, sc = spoolCopy(t, so), spoolCopy(t, sc)
	got, err := merge(so, sc, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if !so.Spooled() || !sc.Spooled() || !got.Spooled() || want.Spooled() {
		t.Fatalf("spooled: inputs %v %v, merge %v, held merge %v; want true true true false", so.Spooled(), sc.Spooled(), got.Spooled(), want.Spooled())
	}
	if !reflect.DeepEqual(got.Hydration, want.Hydration) {
		t.Errorf("hydration: got %+v, want %+v", got.Hydration, want.Hydration)
	}
	if g, w := recordsJSON(t, got), recordsJSON(t, want); !bytes.Equal(g, w) {
		t.Errorf("records: got %d bytes, want %d bytes, not equal", len(g), len(w))
	}
	if got.Len() != 200+1300*2 { // 1000-1199 old only; 1200-2499 as the later attempt read them, with a sub-record each
		t.Errorf("records: got %d, want %d", got.Len(), 200+1300*2)
	}
}

func recordsJSON(t *testing.T, d *archive.Document) []byte {
	t.Helper()
	b, err := json.Marshal(all(t, d))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResumeRanges(t *testing.T) {
	f := &batch.Failure{StreamARN: "s", ShardID: "sh", Start: "100", End: "200", BatchSize: 5}
	whole := []string{"100..200 after "}
	unread := func(from, to string) batch.Gap { return batch.Gap{From: from, To: to, Reason: batch.GapUnreadable} }
	cases := map[string]struct {
		prior *archive.Document
		want  []string
	}{
		"no prior":   {nil, whole},
		"complete":   {doc(recs(100, 200), 2), whole},
		"count only": {doc(recs(100, 200), 5), whole},
		"a missing tail and head": {
			doc(recs(120, 130), 5, unread("100", "119"), unread("131", "200")),
			[]string{"100..119 after ", "131..200 after 130"},
		},
		"final gaps are not read again": {
			doc(recs(150, 160), 5, batch.Gap{From: "100", To: "149", Reason: batch.GapTrimmed}, unread("161", "200")),
			[]string{"161..200 after 160"},
		},
		"no record before a gap inside": {
			doc(recs(180), 5, batch.Gap{From: "100", To: "149", Reason: batch.GapTrimmed}, unread("150", "179")),
			whole,
		},
	}
	for name, c := range cases {
		for _, spooled := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/spooled=%v", name, spooled), func(t *testing.T) {
				prior := c.prior
				if spooled && prior != nil {
					prior = spoolCopy(t, prior)
				}
				var got []string
				ranges, err := resumeRanges(f, prior)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range ranges {
					got = append(got, r.Start+".."+r.End+" after "+r.After)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("got %v, want %v", got, c.want)
				}
			})
		}
	}
}
