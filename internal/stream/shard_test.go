package stream

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func throttledOn(calls ...int) func(int) error {
	return func(n int) error {
		for _, c := range calls {
			if n == c {
				return &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded for shard")}
			}
		}
		return nil
	}
}

func failOn(call int, err error) func(int) error {
	return func(n int) error {
		if n == call {
			return err
		}
		return nil
	}
}

// TestReadLoop drives the shared loop through a KinesisReader over a fake shard.
func TestReadLoop(t *testing.T) {
	limit10 := func(o *KinesisOptions) { o.Limit = 10 }
	expired := &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	cases := map[string]struct {
		shard  func() *fakeShard
		opt    func(*KinesisOptions)
		r      Range
		want   []string
		gaps   []batch.Gap
		calls  int
		closed bool
	}{
		"one page":                {shard: func() *fakeShard { return newFakeShard(30) }, r: rangeOf(3, 27), want: wantSeqs(3, 27), calls: 2},
		"pages, last one partial": {shard: func() *fakeShard { return newFakeShard(25) }, opt: limit10, r: rangeOf(0, 24), want: wantSeqs(0, 24), calls: 4},
		"pages, exact multiple":   {shard: func() *fakeShard { return newFakeShard(20) }, opt: limit10, r: rangeOf(0, 19), want: wantSeqs(0, 19), calls: 3},
		"inside a longer shard":   {shard: func() *fakeShard { return newFakeShard(40) }, opt: limit10, r: rangeOf(5, 17), want: wantSeqs(5, 17), calls: 3},
		"longer than batch size":  {shard: func() *fakeShard { return newFakeShard(12) }, r: Range{StreamARN: "s", ShardID: "sh", Start: seqAt(0), End: seqAt(9), BatchSize: 3}, want: wantSeqs(0, 9), calls: 2},
		"start between records":   {shard: func() *fakeShard { return newFakeShard(10) }, r: Range{StreamARN: "s", ShardID: "sh", Start: seqAdd(seqAt(2), 3), End: seqAt(6)}, want: wantSeqs(3, 6), calls: 2},
		"single record":           {shard: func() *fakeShard { return newFakeShard(10) }, r: rangeOf(4, 4), want: wantSeqs(4, 4), calls: 2},
		"empty page mid-range":    {shard: func() *fakeShard { s := newFakeShard(20); s.emptyAt[10] = 2; return s }, opt: limit10, r: rangeOf(0, 19), want: wantSeqs(0, 19), calls: 5},
		"tip before end": {shard: func() *fakeShard { return newFakeShard(10) }, r: Range{StreamARN: "s", ShardID: "sh", Start: seqAt(0), End: seqAdd(seqAt(9), 100)}, want: wantSeqs(0, 9), calls: 3,
			gaps: []batch.Gap{{From: seqAdd(seqAt(9), 1), To: seqAdd(seqAt(9), 100), Reason: batch.GapShortRead, Detail: "caught up with the shard's tip before the range's end"}}},
		"closed shard before end": {shard: func() *fakeShard { s := newFakeShard(10); s.closed = true; return s }, r: Range{StreamARN: "s", ShardID: "sh", Start: seqAt(2), End: seqAdd(seqAt(9), 100)}, want: wantSeqs(2, 9), calls: 2, closed: true,
			gaps: []batch.Gap{{From: seqAdd(seqAt(9), 1), To: seqAdd(seqAt(9), 100), Reason: batch.GapShardEnded, Detail: "the closed shard ends before the range's end"}}},
		"closed shard, end reached": {shard: func() *fakeShard { s := newFakeShard(10); s.closed = true; return s }, r: rangeOf(2, 9), want: wantSeqs(2, 9), calls: 2},
		"too many empty pages": {
			shard: func() *fakeShard { s := newFakeShard(20); s.emptyAt[10] = 5; return s },
			opt:   func(o *KinesisOptions) { o.Limit, o.MaxEmptyPages = 10, 3 },
			r:     rangeOf(0, 19), want: wantSeqs(0, 9), calls: 5,
			gaps: []batch.Gap{{From: seqAdd(seqAt(9), 1), To: seqAt(19), Reason: batch.GapUnreadable, Detail: "3 empty pages in a row"}},
		},
		"expired mid-range": {
			shard: func() *fakeShard { s := newFakeShard(25); s.beforeRecords = failOn(2, expired); return s },
			opt:   limit10, r: rangeOf(0, 24), want: wantSeqs(0, 24), calls: 6,
		},
		"expired twice in a row": {
			shard: func() *fakeShard {
				s := newFakeShard(25)
				s.beforeRecords = func(n int) error { return map[int]error{2: expired, 3: expired}[n] }
				return s
			},
			opt: limit10, r: rangeOf(0, 24), want: wantSeqs(0, 24), calls: 8,
		},
		"expired before any record": {
			shard: func() *fakeShard { s := newFakeShard(25); s.beforeRecords = failOn(1, expired); return s },
			opt:   limit10, r: rangeOf(3, 12), want: wantSeqs(3, 12), calls: 4,
		},
		"throttled records": {
			shard: func() *fakeShard { s := newFakeShard(25); s.beforeRecords = throttledOn(2, 3, 4); return s },
			opt:   limit10, r: rangeOf(0, 24), want: wantSeqs(0, 24), calls: 7,
		},
		"throttled iterator": {
			shard: func() *fakeShard {
				s := newFakeShard(10)
				s.beforeIterator = func(n int, _ *kinesis.GetShardIteratorInput) error {
					if n <= 2 {
						return &types.LimitExceededException{Message: aws.String("Rate exceeded")}
					}
					return nil
				}
				return s
			},
			r: rangeOf(0, 9), want: wantSeqs(0, 9), calls: 4,
		},
		"trimmed start": {
			shard: func() *fakeShard { s := newFakeShard(20); s.trimmed = 5; return s },
			r:     rangeOf(2, 12), want: wantSeqs(5, 12), calls: 3,
			gaps: []batch.Gap{{From: seqAt(2), To: seqAdd(seqAt(5), -1), Reason: batch.GapTrimmed}},
		},
		"trimmed start, horizon at start": {
			// Refused, yet TRIM_HORIZON begins at Start: nothing was lost.
			shard: func() *fakeShard {
				s := newFakeShard(20)
				s.beforeIterator = func(n int, in *kinesis.GetShardIteratorInput) error {
					if n == 1 {
						return &types.InvalidArgumentException{Message: aws.String("StartingSequenceNumber " + aws.ToString(in.StartingSequenceNumber) + " is past retention")}
					}
					return nil
				}
				return s
			},
			r: rangeOf(0, 12), want: wantSeqs(0, 12), calls: 3,
		},
		"trimmed past end": {
			shard: func() *fakeShard { s := newFakeShard(20); s.trimmed = 15; return s },
			r:     rangeOf(2, 12), calls: 3,
			gaps: []batch.Gap{{From: seqAt(2), To: seqAt(12), Reason: batch.GapTrimmed}},
		},
		"trimmed to empty closed shard": {
			shard: func() *fakeShard { s := newFakeShard(20); s.trimmed, s.closed = 20, true; return s },
			r:     rangeOf(2, 12), calls: 3, closed: true,
			gaps: []batch.Gap{{From: seqAt(2), To: seqAt(12), Reason: batch.GapTrimmed, Detail: "nothing left after the trim horizon"}},
		},
		"refused mid-range": {
			shard: func() *fakeShard {
				s := newFakeShard(25)
				s.beforeRecords = failOn(2, &types.KMSAccessDeniedException{Message: aws.String("no")})
				return s
			},
			opt: limit10, r: rangeOf(0, 24), want: wantSeqs(0, 9), calls: 3,
			gaps: []batch.Gap{{From: seqAdd(seqAt(9), 1), To: seqAt(24), Reason: batch.GapUnreadable,
				Detail: "access-denied: KMSAccessDeniedException: no"}},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := c.shard()
			rec := &recordingSleep{}
			k := NewKinesisReader(s.client(), func(o *KinesisOptions) {
				o.Backoff.Sleep, o.Backoff.Jitter = rec.sleep, noJitter
				if c.opt != nil {
					c.opt(o)
				}
			})
			res, err := k.Read(context.Background(), c.r)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			assertSeqs(t, seqs(res.Records), c.want)
			if !reflect.DeepEqual(res.Gaps, c.gaps) {
				t.Errorf("gaps: got %+v, want %+v", res.Gaps, c.gaps)
			}
			if res.Calls != c.calls {
				t.Errorf("calls: got %v, want %v", res.Calls, c.calls)
			}
			if res.ShardClosed != c.closed {
				t.Errorf("shard closed: got %v, want %v", res.ShardClosed, c.closed)
			}
		})
	}
}

func TestReadIterators(t *testing.T) {
	expired := &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	cases := map[string]struct {
		shard func() *fakeShard
		r     Range
		want  []string // iterator type:sequence number, in order
	}{
		"expired mid-range resumes after the last record": {
			shard: func() *fakeShard { s := newFakeShard(25); s.beforeRecords = failOn(2, expired); return s },
			r:     rangeOf(0, 24),
			want:  []string{"AT_SEQUENCE_NUMBER:" + seqAt(0), "AFTER_SEQUENCE_NUMBER:" + seqAt(9)},
		},
		"expired before a record starts at Start again": {
			shard: func() *fakeShard { s := newFakeShard(25); s.beforeRecords = failOn(1, expired); return s },
			r:     rangeOf(3, 12),
			want:  []string{"AT_SEQUENCE_NUMBER:" + seqAt(3), "AT_SEQUENCE_NUMBER:" + seqAt(3)},
		},
		"expired after a trim fallback stays at the horizon": {
			shard: func() *fakeShard {
				s := newFakeShard(25)
				s.trimmed = 4
				s.beforeRecords = failOn(1, expired)
				return s
			},
			r:    rangeOf(2, 12),
			want: []string{"AT_SEQUENCE_NUMBER:" + seqAt(2), "TRIM_HORIZON:", "TRIM_HORIZON:"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := c.shard()
			if _, err := NewKinesisReader(s.client(), func(o *KinesisOptions) { o.Limit = 10 }).Read(context.Background(), c.r); err != nil {
				t.Fatalf("Read: %v", err)
			}
			var got []string
			for _, in := range s.iterators {
				got = append(got, string(in.ShardIteratorType)+":"+aws.ToString(in.StartingSequenceNumber))
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestReadBacksOffWithGrowingBounds(t *testing.T) {
	s := newFakeShard(25)
	s.beforeRecords = throttledOn(2, 3, 4, 5, 6, 7, 8, 9)
	rec := &recordingSleep{}
	k := NewKinesisReader(s.client(), func(o *KinesisOptions) {
		o.Limit, o.Backoff.Sleep, o.Backoff.Jitter = 10, rec.sleep, noJitter
	})
	res, err := k.Read(context.Background(), rangeOf(0, 24))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	assertSeqs(t, seqs(res.Records), wantSeqs(0, 24))
	ms := time.Millisecond
	want := []time.Duration{200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms, 5000 * ms, 5000 * ms}
	if !reflect.DeepEqual(rec.waits, want) {
		t.Errorf("waits: got %v, want %v", rec.waits, want)
	}
	if want := 1 + 3 + 8; res.Calls != want {
		t.Errorf("calls: got %v, want %v", res.Calls, want)
	}
}

func TestBackoffJitterStaysInBounds(t *testing.T) {
	b := withDefaults(Backoff{})
	for attempt := range 10 {
		bound := b.Bound(attempt)
		for range 50 {
			if d := b.Jitter(bound); d < 0 || d > bound {
				t.Fatalf("attempt %d: got %v, want within [0, %v]", attempt, d, bound)
			}
		}
	}
}

func TestReadDeadline(t *testing.T) {
	cases := map[string]struct {
		ctx   func() (context.Context, context.CancelFunc)
		fail  func(ctx context.Context) func(int) error
		waits int
	}{
		"wait would pass the deadline": {
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Hour)
			},
			fail: func(context.Context) func(int) error { return throttledOn(2, 3, 4, 5, 6, 7, 8, 9, 10) },
		},
		"deadline hit during a call": {
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			},
			fail: func(ctx context.Context) func(int) error { return failOn(2, ctx.Err()) },
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := c.ctx()
			defer cancel()
			s := newFakeShard(25)
			s.beforeRecords = c.fail(ctx)
			rec := &recordingSleep{}
			k := NewKinesisReader(s.client(), func(o *KinesisOptions) {
				o.Limit, o.Backoff.Sleep = 10, rec.sleep
				o.Backoff.Jitter = func(time.Duration) time.Duration { return 2 * time.Hour }
			})
			res, err := k.Read(ctx, rangeOf(0, 24))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			assertSeqs(t, seqs(res.Records), wantSeqs(0, 9))
			want := []batch.Gap{{From: seqAdd(seqAt(9), 1), To: seqAt(24), Reason: batch.GapUnreadable, Detail: "deadline"}}
			if !reflect.DeepEqual(res.Gaps, want) {
				t.Errorf("gaps: got %+v, want %+v", res.Gaps, want)
			}
			if len(rec.waits) != 0 {
				t.Errorf("waits: got %v, want none", rec.waits)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	expired := &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	cases := map[string]struct {
		iterator   error // from the first GetShardIterator
		records    func(int) error
		r          Range
		unreadable string // want an *UnreadableError with this reason
		wantIs     error  // else want an error wrapping this
		records0   int    // records returned alongside
	}{
		"stream not found": {iterator: &types.ResourceNotFoundException{Message: aws.String("Stream x not found")}, r: rangeOf(0, 9), unreadable: UnreadableNotFound},
		"access denied":    {iterator: &types.AccessDeniedException{Message: aws.String("denied")}, r: rangeOf(0, 9), unreadable: UnreadableAccessDenied},
		"sequence of another shard": {
			iterator: &types.InvalidArgumentException{Message: aws.String("Invalid StartingSequenceNumber. It encodes shardId-000000000007, while it was used in a call to shardId-000000000001")},
			r:        rangeOf(0, 9), unreadable: UnreadableInvalid,
		},
		"start after end":    {r: rangeOf(5, 4), unreadable: UnreadableInvalid},
		"not a number":       {r: Range{StreamARN: "s", ShardID: "sh", Start: "12a", End: "13"}, unreadable: UnreadableInvalid},
		"missing shard":      {r: Range{StreamARN: "s", Start: "1", End: "2"}, unreadable: UnreadableInvalid},
		"transient failure":  {records: failOn(2, &types.InternalFailureException{Message: aws.String("boom")}), r: rangeOf(0, 24), wantIs: &types.InternalFailureException{}, records0: 10},
		"expiring endlessly": {records: func(n int) error { return map[bool]error{true: expired}[n > 1] }, r: rangeOf(0, 24), wantIs: &types.ExpiredIteratorException{}, records0: 10},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := newFakeShard(25)
			s.beforeIterator = func(n int, _ *kinesis.GetShardIteratorInput) error {
				if n == 1 {
					return c.iterator
				}
				return nil
			}
			s.beforeRecords = c.records
			res, err := NewKinesisReader(s.client(), func(o *KinesisOptions) { o.Limit = 10 }).Read(context.Background(), c.r)
			if c.unreadable != "" {
				var u *UnreadableError
				if !errors.As(err, &u) || u.Reason != c.unreadable || u.Range != c.r {
					t.Fatalf("got %v, want *UnreadableError %s for %+v", err, c.unreadable, c.r)
				}
				return
			}
			if err == nil || !errors.As(err, reflect.New(reflect.TypeOf(c.wantIs)).Interface()) {
				t.Fatalf("got %v, want an error wrapping %T", err, c.wantIs)
			}
			if len(res.Records) != c.records0 {
				t.Errorf("records: got %v, want %v", len(res.Records), c.records0)
			}
		})
	}
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := newFakeShard(25)
	s.beforeRecords = func(n int) error {
		if n == 2 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	res, err := NewKinesisReader(s.client(), func(o *KinesisOptions) { o.Limit = 10 }).Read(ctx, rangeOf(0, 24))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if len(res.Records) != 10 {
		t.Errorf("records: got %v, want %v", len(res.Records), 10)
	}
}

func TestSeqAdd(t *testing.T) {
	cases := map[string]struct {
		in   string
		d    int64
		want string
	}{
		"beyond 64 bits": {"49601189658422359378836298521827638475320189012309704722", 1, "49601189658422359378836298521827638475320189012309704723"},
		"borrow":         {"1000000000000000000000", -1, "999999999999999999999"},
		"small":          {"9", 1, "10"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := seqAdd(c.in, c.d); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// A read resumed after a known record starts AFTER_SEQUENCE_NUMBER it, never at a
// made-up Start that Kinesis could refuse (and that a refusal would make look trimmed).
func TestReadResumesAfterRecord(t *testing.T) {
	s := newFakeShard(12)
	r := Range{StreamARN: "s", ShardID: "sh", Start: seqAdd(seqAt(4), 1), End: seqAt(9), After: seqAt(4)}
	res, err := NewKinesisReader(s.client()).Read(context.Background(), r)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	assertSeqs(t, seqs(res.Records), wantSeqs(5, 9))
	if len(res.Gaps) != 0 {
		t.Errorf("gaps: got %+v, want none", res.Gaps)
	}
	if it := s.iterators[0]; it.ShardIteratorType != types.ShardIteratorTypeAfterSequenceNumber || aws.ToString(it.StartingSequenceNumber) != seqAt(4) {
		t.Errorf("first iterator: got %s %s, want AFTER_SEQUENCE_NUMBER %s", it.ShardIteratorType, aws.ToString(it.StartingSequenceNumber), seqAt(4))
	}
	bad := r
	bad.After = r.End
	var ue *UnreadableError
	if _, err := NewKinesisReader(s.client()).Read(context.Background(), bad); !errors.As(err, &ue) {
		t.Errorf("resume point past start: got %v, want *UnreadableError", err)
	}
}
