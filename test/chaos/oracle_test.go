package chaos

import (
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// The oracle must see every way a record can go missing or go wrong: these runs are
// built by hand, so each verdict is known.
func TestClassify(t *testing.T) {
	recs := []written{
		{seq: "10", key: "a", data: []byte("r0"), index: 0},
		{seq: "20", key: "a", data: []byte("r1"), index: 1},
		{seq: "30", key: "b", data: []byte("r2"), index: 2},
	}
	tests := map[string]struct {
		f         found
		afterSend int
		want      Tally
	}{
		"all delivered in order": {
			f:    found{delivered: map[string]int{"r0": 1, "r1": 1, "r2": 1}, order: []string{"r0", "r2", "r1"}},
			want: Tally{Records: 3, Delivered: 3},
		},
		"one lost": {
			f:    found{delivered: map[string]int{"r0": 1, "r2": 1}, order: []string{"r0", "r2"}},
			want: Tally{Records: 3, Delivered: 2, Lost: 1},
		},
		"queued, parked trimmed and in a gap": {
			f: found{delivered: map[string]int{}, queued: map[string]bool{"10": true}, archived: map[string]bool{"10": true},
				parked: parked("15", "25"), gaps: []batch.Gap{{From: "30", To: "30", Reason: batch.GapTrimmed}},
				trimmed: map[string]bool{"20": true, "30": true}},
			want: Tally{Records: 3, Queued: 1, Parked: 1, Gapped: 1},
		},
		"parked while still in the stream": {
			f:    found{delivered: map[string]int{"r0": 1, "r2": 1}, parked: parked("15", "25"), trimmed: map[string]bool{}},
			want: Tally{Records: 3, Delivered: 2, Lost: 1},
		},
		"in a transient gap": {
			f: found{delivered: map[string]int{"r0": 1, "r1": 1}, gaps: []batch.Gap{{From: "30", To: "30", Reason: batch.GapUnreadable, Detail: "deadline"}},
				trimmed: map[string]bool{"30": true}},
			want: Tally{Records: 3, Delivered: 2, Lost: 1},
		},
		"trimmed after the first attempt could read it": {
			f:    found{delivered: map[string]int{"r0": 1, "r1": 1}, gaps: []batch.Gap{{From: "30", To: "30", Reason: batch.GapTrimmed}}},
			want: Tally{Records: 3, Delivered: 2, Lost: 1},
		},
		"in a short-read gap": {
			f: found{delivered: map[string]int{"r0": 1, "r1": 1}, gaps: []batch.Gap{{From: "25", To: "35", Reason: batch.GapShortRead}},
				trimmed: map[string]bool{}},
			want: Tally{Records: 3, Delivered: 2, Lost: 1},
		},
		"archived but not queued": {
			f:    found{delivered: map[string]int{"r0": 1, "r1": 1}, archived: map[string]bool{"30": true}},
			want: Tally{Records: 3, Delivered: 2, Lost: 1},
		},
		"a parked event of another range does not count": {
			f:    found{delivered: map[string]int{"r0": 1, "r1": 1}, parked: parked("31", "40")},
			want: Tally{Records: 3, Delivered: 2, Lost: 1},
		},
		"duplicate with no fault to explain it": {
			f:    found{delivered: map[string]int{"r0": 2, "r1": 1, "r2": 1}, order: []string{"r0", "r1", "r2"}},
			want: Tally{Records: 3, Delivered: 3, Duplicates: 1, Unexplained: 1},
		},
		"duplicate after an after-send fault": {
			f:         found{delivered: map[string]int{"r0": 2, "r1": 1, "r2": 1}, order: []string{"r0", "r1", "r2"}},
			afterSend: 1,
			want:      Tally{Records: 3, Delivered: 3, Duplicates: 1},
		},
		"a key out of order": {
			f:    found{delivered: map[string]int{"r0": 1, "r1": 1, "r2": 1}, order: []string{"r1", "r0", "r2"}},
			want: Tally{Records: 3, Delivered: 3, OutOfOrder: 1},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := &Run{AfterSend: tt.afterSend, Injected: map[Class]int{}}
			classify(r, recs, tt.f)
			if r.Tally != tt.want {
				t.Errorf("got %+v, want %+v", r.Tally, tt.want)
			}
			if bad := tt.want.Lost + tt.want.Unexplained + tt.want.OutOfOrder; bad > 0 && len(r.Problems) == 0 {
				t.Error("got no problem reported, want one")
			}
		})
	}
}

// Two failures of one shard: within each failure the keys are in order, but the later
// failure's record of key a came first. Only the across-failures check sees it.
func TestClassifyAcrossFailures(t *testing.T) {
	recs := []written{
		{seq: "10", key: "a", data: []byte("r0"), index: 0, failure: 0},
		{seq: "20", key: "a", data: []byte("r1"), index: 1, failure: 1},
	}
	for across, want := range map[bool]int{false: 0, true: 1} {
		r := &Run{Injected: map[Class]int{}}
		classify(r, recs, found{delivered: map[string]int{"r0": 1, "r1": 1}, order: []string{"r1", "r0"}, acrossFailures: across})
		if r.OutOfOrder != want {
			t.Errorf("across %v: got %d out of order, want %d", across, r.OutOfOrder, want)
		}
	}
}

// The poison record must never be delivered and, when parked, parked for the target's
// refusal.
func TestClassifyPoison(t *testing.T) {
	recs := []written{{seq: "10", key: "a", data: []byte("r0")}, {seq: "20", key: "a", data: []byte("r1")}}
	tests := map[string]struct {
		f           found
		wantProblem bool
	}{
		"parked for the refusal": {f: found{delivered: map[string]int{"r0": 1}, queued: map[string]bool{"20": true}, archived: map[string]bool{"20": true},
			parkReason: map[string]string{"20": "redrive: lambda:consumer refused the record: InvalidRequestContentException"}}},
		"parked for another reason": {f: found{delivered: map[string]int{"r0": 1}, queued: map[string]bool{"20": true}, archived: map[string]bool{"20": true},
			parkReason: map[string]string{"20": "attempts exhausted"}}, wantProblem: true},
		"delivered": {f: found{delivered: map[string]int{"r0": 1, "r1": 1}, parkReason: map[string]string{}}, wantProblem: true},
		"left on the DLQ with no other fault": {f: found{delivered: map[string]int{"r0": 1}, queued: map[string]bool{"20": true}, archived: map[string]bool{"20": true},
			parkReason: map[string]string{}}, wantProblem: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := &Run{Injected: map[Class]int{}, Enabled: []Class{Poison}}
			tt.f.poison = &recs[1]
			classify(r, recs, tt.f)
			if got := len(r.Problems) > 0; got != tt.wantProblem {
				t.Errorf("got problems %q, want a problem: %v", r.Problems, tt.wantProblem)
			}
		})
	}
}

func parked(start, end string) []parkedFailure {
	return []parkedFailure{{batch.Failure{Start: start, End: end}, "on the failure queue"}}
}

// The matrix totals the runs' rehydration, for the summary line.
func TestMatrixTotalsRehydration(t *testing.T) {
	var m Matrix
	m.Add(&Run{Seed: 1, RehydrateTicks: 3, Rehydrated: 1, ParkedEvents: 2})
	m.Add(&Run{Seed: 2, RehydrateTicks: 1})
	if m.RehydrateTicks != 4 || m.Rehydrated != 1 || m.ParkedEvents != 2 {
		t.Errorf("got %d ticks, %d rehydrated, %d parked; want 4, 1, 2", m.RehydrateTicks, m.Rehydrated, m.ParkedEvents)
	}
}
