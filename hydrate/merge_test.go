package hydrate

import (
	"reflect"
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
		t.Run(name, func(t *testing.T) {
			got := merge(c.old, c.cur)
			if !reflect.DeepEqual(keys(got.Records), c.want) {
				t.Errorf("records: got %v, want %v", keys(got.Records), c.want)
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
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, r := range resumeRanges(f, c.prior) {
				got = append(got, r.Start+".."+r.End+" after "+r.After)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
