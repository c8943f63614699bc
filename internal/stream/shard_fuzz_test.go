package stream

import (
	"context"
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// FuzzReadLoop checks the loop's promise on arbitrary shards and fault patterns: the
// records that come back are exactly the retained ones in the range, in order, once
// each, and the trimmed part of the range is one gap with the right bounds, however
// pages, expiries, throttles and empty pages fall; a range running past the shard's
// last record ends with a gap for the rest, never silently short.
func FuzzReadLoop(f *testing.F) {
	f.Add(uint8(30), uint8(7), uint8(3), uint8(20), uint8(0), uint8(0), false, uint16(0b0101), uint16(0b1010), uint8(0), uint8(0))
	f.Add(uint8(30), uint8(5), uint8(3), uint8(200), uint8(10), uint8(2), true, uint16(0), uint16(0), uint8(12), uint8(2))
	f.Add(uint8(10), uint8(1), uint8(0), uint8(9), uint8(15), uint8(0), true, uint16(0xffff), uint16(0xffff), uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, n, limit, a, b, horizon, startOff uint8, closed bool, expireMask, throttleMask uint16, emptyAt, emptyCount uint8) {
		if limit == 0 || a > b {
			t.Skip()
		}
		s := newFakeShard(int(n))
		s.trimmed, s.closed = min(int(horizon), int(n)), closed
		s.emptyAt[int(emptyAt)] = int(emptyCount % 4)
		// A page comes between any two injected faults, so that expiries never come
		// maxRefreshes+1 in a row.
		s.beforeRecords = func(call int) error {
			if call < 16 && call%4 == 1 && expireMask&(1<<call) != 0 {
				return &types.ExpiredIteratorException{Message: aws.String("expired")}
			}
			if call < 16 && call%4 == 3 && throttleMask&(1<<call) != 0 {
				return &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
			}
			return nil
		}
		s.beforeIterator = func(call int, _ *kinesis.GetShardIteratorInput) error {
			if call < 16 && throttleMask&(1<<call) != 0 && call%2 == 1 {
				return &types.LimitExceededException{Message: aws.String("slow down")}
			}
			return nil
		}
		r := Range{StreamARN: "s", ShardID: "sh", Start: seqAdd(seqAt(int(a)), int64(startOff%7)), End: seqAt(int(b))}
		if CompareSequence(r.Start, r.End) > 0 {
			t.Skip()
		}
		rec := &recordingSleep{}
		res, err := NewKinesisReader(s.client(), func(o *KinesisOptions) { o.Limit, o.Backoff.Sleep = int32(limit), rec.sleep }).Read(context.Background(), r)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		first := int(a) // first record index at or after Start
		if startOff%7 != 0 {
			first++
		}
		var want []string
		for i := max(first, s.trimmed); i <= min(int(b), int(n)-1); i++ {
			want = append(want, seqAt(i))
		}
		assertSeqs(t, seqs(res.Records), want)
		checkGaps(t, res.Gaps, r, first, int(b), s.trimmed, int(n), closed)
		// A closed shard is read to its end unless End or a record past it comes first.
		if wantClosed := closed && (int(b) >= int(n) || s.trimmed == int(n)); res.ShardClosed != wantClosed {
			t.Errorf("shard closed: got %v, want %v", res.ShardClosed, wantClosed)
		}
	})
}

// checkGaps wants one trimmed gap from Start to just before the horizon's first
// record (or End) when Start is before the horizon, and, when End lies past the
// shard's last record and the trim did not run to End, a gap for the rest: final
// (shard-ended) on a closed shard, transient (short-read) on an open one.
func checkGaps(t *testing.T, gaps []batch.Gap, r Range, first, last, horizon, n int, closed bool) {
	t.Helper()
	var want []batch.Gap
	trimToEnd := false
	if first < horizon && first < n {
		to := r.End
		if horizon < n && CompareSequence(seqAt(horizon), r.End) <= 0 {
			to = seqAdd(seqAt(horizon), -1)
		} else {
			trimToEnd = true
		}
		want = append(want, batch.Gap{From: r.Start, To: to, Reason: batch.GapTrimmed})
	}
	if last >= n && !trimToEnd {
		from := r.Start
		if max(first, horizon) <= n-1 {
			from = seqAdd(seqAt(n-1), 1)
		}
		reason := batch.GapShortRead
		if closed {
			reason = batch.GapShardEnded
		}
		want = append(want, batch.Gap{From: from, To: r.End, Reason: reason})
	}
	if len(gaps) != len(want) {
		t.Fatalf("gaps: got %+v, want %+v", gaps, want)
	}
	for i := range want {
		if g := gaps[i]; g.From != want[i].From || g.To != want[i].To || g.Reason != want[i].Reason {
			t.Fatalf("gaps: got %+v, want %+v", gaps, want)
		}
	}
}
