package stream

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// fakeShard is an in-memory shard behind a testkit.FakeKinesis: sparse sequence numbers, a
// movable trim horizon, open or closed, and hooks that may replace any answer.
type fakeShard struct {
	records []types.Record
	trimmed int  // records before this index are past retention
	closed  bool // a closed shard's last page has no NextShardIterator
	// emptyAt[i] makes the next emptyAt[i] pages starting at record i empty, still
	// behind the tip, with the same next position.
	emptyAt map[int]int

	iterators []*kinesis.GetShardIteratorInput // every GetShardIterator input, in order
	pages     int
	// beforeIterator and beforeRecords may return an error instead of the answer;
	// n counts calls of that kind, from 1.
	beforeIterator func(n int, in *kinesis.GetShardIteratorInput) error
	beforeRecords  func(n int) error
}

// seqAt is record i's sequence number: long (beyond 64 bits) and sparse.
func seqAt(i int) string {
	return seqAdd("49601189658422359378836298521827638475320189012309704722", int64(i)*7)
}

func newFakeShard(n int) *fakeShard {
	s := &fakeShard{emptyAt: map[int]int{}}
	for i := range n {
		s.records = append(s.records, types.Record{
			SequenceNumber:              aws.String(seqAt(i)),
			PartitionKey:                aws.String("pk-" + strconv.Itoa(i%3)),
			Data:                        []byte("payload-" + strconv.Itoa(i)),
			ApproximateArrivalTimestamp: aws.Time(time.Unix(1573691884, 0)),
			EncryptionType:              types.EncryptionTypeNone,
		})
	}
	return s
}

func (s *fakeShard) client() *testkit.FakeKinesis {
	return &testkit.FakeKinesis{GetShardIteratorFunc: s.getShardIterator, GetRecordsFunc: s.getRecords}
}

func (s *fakeShard) getShardIterator(_ context.Context, in *kinesis.GetShardIteratorInput) (*kinesis.GetShardIteratorOutput, error) {
	s.iterators = append(s.iterators, in)
	if s.beforeIterator != nil {
		if err := s.beforeIterator(len(s.iterators), in); err != nil {
			return nil, err
		}
	}
	i := s.trimmed
	if in.ShardIteratorType != types.ShardIteratorTypeTrimHorizon {
		want := aws.ToString(in.StartingSequenceNumber)
		i = s.search(want, in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber)
		if i < s.trimmed {
			return nil, &types.InvalidArgumentException{Message: aws.String(fmt.Sprintf(
				"StartingSequenceNumber %s used in GetShardIterator on shard %s in stream x under account 1 is invalid because it is past the retention period.",
				want, aws.ToString(in.ShardId)))}
		}
	}
	return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String("it-" + strconv.Itoa(i))}, nil
}

// search is the index of the first record at (or after, when after) seq.
func (s *fakeShard) search(seq string, after bool) int {
	for i, r := range s.records {
		c := CompareSequence(aws.ToString(r.SequenceNumber), seq)
		if c > 0 || (c == 0 && !after) {
			return i
		}
	}
	return len(s.records)
}

func (s *fakeShard) getRecords(_ context.Context, in *kinesis.GetRecordsInput) (*kinesis.GetRecordsOutput, error) {
	s.pages++
	if s.beforeRecords != nil {
		if err := s.beforeRecords(s.pages); err != nil {
			return nil, err
		}
	}
	i, err := strconv.Atoi(strings.TrimPrefix(aws.ToString(in.ShardIterator), "it-"))
	if err != nil {
		return nil, fmt.Errorf("fake: bad iterator %q", aws.ToString(in.ShardIterator))
	}
	if s.emptyAt[i] > 0 {
		s.emptyAt[i]--
		return &kinesis.GetRecordsOutput{NextShardIterator: in.ShardIterator, MillisBehindLatest: aws.Int64(1000)}, nil
	}
	j := min(i+int(aws.ToInt32(in.Limit)), len(s.records))
	out := &kinesis.GetRecordsOutput{Records: s.records[i:j], MillisBehindLatest: aws.Int64(int64(len(s.records)-j) * 10)}
	if !s.closed || j < len(s.records) {
		out.NextShardIterator = aws.String("it-" + strconv.Itoa(j))
	}
	return out, nil
}

// rangeOf is the Range of records i..j of the fake shard.
func rangeOf(i, j int) Range {
	return Range{StreamARN: "arn:aws:kinesis:us-east-2:123456789012:stream/mystream", ShardID: "shardId-000000000001",
		Start: seqAt(i), End: seqAt(j), BatchSize: j - i + 1, Region: "us-east-2"}
}

// seqs lists the records' sequence numbers.
func seqs(recs []batch.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.SequenceNumber()
	}
	return out
}

// wantSeqs lists the fake shard's sequence numbers i..j.
func wantSeqs(i, j int) []string {
	var out []string
	for k := i; k <= j; k++ {
		out = append(out, seqAt(k))
	}
	return out
}

// recordingSleep stands in for Backoff.Sleep, keeping every wait asked for.
type recordingSleep struct{ waits []time.Duration }

func (r *recordingSleep) sleep(ctx context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return ctx.Err()
}

func noJitter(bound time.Duration) time.Duration { return bound }

func assertSeqs(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d (got %v, want %v)", len(got), len(want), short(got), short(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func short(s []string) []string {
	if len(s) > 6 {
		return append(append(append([]string{}, s[:3]...), "..."), s[len(s)-3:]...)
	}
	return s
}
