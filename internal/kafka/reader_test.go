package kafka

import (
	"context"
	"fmt"
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"
)

func TestGapMergesAndClips(t *testing.T) {
	s := &scan{r: Range{Topic: "t", First: 10, Last: 20}}
	s.gap(5, 11, batch.GapTrimmed, "")     // clipped to 10..11
	s.gap(12, 13, batch.GapCompacted, "")  // another reason: a gap of its own
	s.gap(14, 14, batch.GapCompacted, "")  // touches: merged
	s.gap(16, 16, batch.GapCompacted, "")  // a record in between: not merged
	s.gap(21, 30, batch.GapUnreadable, "") // past Last: dropped
	s.gap(19, 25, batch.GapUnreadable, "x")
	want := []batch.Gap{
		{From: "10", To: "11", Reason: batch.GapTrimmed},
		{From: "12", To: "14", Reason: batch.GapCompacted},
		{From: "16", To: "16", Reason: batch.GapCompacted},
		{From: "19", To: "20", Reason: batch.GapUnreadable, Detail: "x"},
	}
	if fmt.Sprint(s.res.Gaps) != fmt.Sprint(want) {
		t.Fatalf("got %+v, want %+v", s.res.Gaps, want)
	}
}

func TestReadRefusesBadRange(t *testing.T) {
	for name, r := range map[string]Range{
		"negative":         {Topic: "t", First: -1, Last: 3},
		"first after last": {Topic: "t", First: 4, Last: 3},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewReader(nil).Read(context.Background(), r); err == nil {
				t.Fatal("got no error")
			}
		})
	}
}
