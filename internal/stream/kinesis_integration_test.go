package stream

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// put is a record the test wrote, as PutRecords placed it.
type put struct {
	shard, seq, pk string
	data           []byte
}

// kinesisClient returns a client for kinesis-local; stack adds test middleware.
func kinesisClient(t testing.TB, stack ...func(*middleware.Stack) error) *kinesis.Client {
	t.Helper()
	cfg := testkit.Config(t, testkit.Kinesis)
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.APIOptions = append(o.APIOptions, stack...) })
}

// putRecords writes n small records in batches of 500, partition keys from pk,
// retrying entries the stream refused, and returns them as placed.
func putRecords(t testing.TB, c *kinesis.Client, arn string, n int, pk func(i int) string) []put {
	t.Helper()
	var out []put
	for from := 0; from < n; from += 500 {
		var batch []types.PutRecordsRequestEntry
		for i := from; i < min(from+500, n); i++ {
			batch = append(batch, types.PutRecordsRequestEntry{PartitionKey: aws.String(pk(i)), Data: []byte("rec-" + strconv.Itoa(i))})
		}
		out = append(out, putBatch(t, c, arn, batch)...)
	}
	return out
}

func putBatch(t testing.TB, c *kinesis.Client, arn string, batch []types.PutRecordsRequestEntry) []put {
	var out []put
	for attempt := 0; len(batch) > 0; attempt++ {
		if attempt == 20 {
			t.Fatalf("put records: %d entries still refused", len(batch))
		}
		res, err := c.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamARN: aws.String(arn), Records: batch})
		if err != nil {
			t.Fatalf("put records: %v", err)
		}
		var again []types.PutRecordsRequestEntry
		for i, r := range res.Records {
			if r.ErrorCode != nil {
				again = append(again, batch[i])
				continue
			}
			out = append(out, put{shard: aws.ToString(r.ShardId), seq: aws.ToString(r.SequenceNumber), pk: aws.ToString(batch[i].PartitionKey), data: batch[i].Data})
		}
		if batch = again; len(batch) > 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return out
}

// inShard returns the shard's records in stream order.
func inShard(puts []put, shard string) []put {
	var out []put
	for _, p := range puts {
		if p.shard == shard {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b put) int { return CompareSequence(a.seq, b.seq) })
	return out
}

func putSeqs(puts []put) []string {
	out := make([]string, len(puts))
	for i, p := range puts {
		out[i] = p.seq
	}
	return out
}

// assertRecords checks records against what was written, field by field.
func assertRecords(t *testing.T, got []batch.Record, want []put, r Range) {
	t.Helper()
	assertSeqs(t, seqs(got), putSeqs(want))
	for i, g := range got {
		k := g.Kinesis
		if k.Kinesis.PartitionKey != want[i].pk || string(k.Kinesis.Data) != string(want[i].data) ||
			k.EventID != r.ShardID+":"+want[i].seq || k.EventSourceArn != r.StreamARN || k.AwsRegion != r.Region {
			t.Fatalf("record %d: got %s/%s/%s, want %s/%s/%s:%s", i, k.EventID, k.Kinesis.PartitionKey, k.Kinesis.Data, want[i].pk, want[i].data, r.ShardID, want[i].seq)
		}
	}
}

func kRange(arn, shard string, from, to put, batch int) Range {
	return Range{StreamARN: arn, ShardID: shard, Start: from.seq, End: to.seq, BatchSize: batch, Region: "us-east-1"}
}

func TestKinesisReadBusyStream(t *testing.T) {
	c := kinesisClient(t)
	arn := testkit.Stream(t, c, 3)
	puts := putRecords(t, c, arn, 1500, func(i int) string { return "pk-" + strconv.Itoa(i%97) })
	shard := puts[0].shard
	want := inShard(puts, shard)
	if len(want) < 100 || len(want) == len(puts) {
		t.Fatalf("setup: %d of %d records in %s, want a busy multi-shard stream", len(want), len(puts), shard)
	}
	want = want[10 : len(want)-10]
	r := kRange(arn, shard, want[0], want[len(want)-1], len(want))
	res, err := NewKinesisReader(c).Read(context.Background(), r)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	assertRecords(t, res.Records, want, r)
	if res.Calls != 2 || len(res.Gaps) != 0 || res.ShardClosed {
		t.Errorf("got calls %v gaps %v closed %v, want 2, none, false", res.Calls, res.Gaps, res.ShardClosed)
	}
}

func TestKinesisReadManyPages(t *testing.T) {
	c := kinesisClient(t)
	arn := testkit.Stream(t, c, 1)
	puts := inShard(putRecords(t, c, arn, 10500, func(i int) string { return "pk-" + strconv.Itoa(i) }), "shardId-000000000000")
	cases := map[string]struct {
		from, to, batch, calls int
	}{
		"all, two pages":            {from: 0, to: len(puts) - 1, batch: len(puts), calls: 3},
		"longer than the batchSize": {from: 100, to: 10400, batch: 500, calls: 3},
		"one full page":             {from: 200, to: 10199, batch: 10000, calls: 2},
	}
	for name, cs := range cases {
		t.Run(name, func(t *testing.T) {
			r := kRange(arn, "shardId-000000000000", puts[cs.from], puts[cs.to], cs.batch)
			res, err := NewKinesisReader(c).Read(context.Background(), r)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			assertRecords(t, res.Records, puts[cs.from:cs.to+1], r)
			if res.Calls != cs.calls || len(res.Gaps) != 0 {
				t.Errorf("got calls %v gaps %v, want %v, none", res.Calls, res.Gaps, cs.calls)
			}
		})
	}
}

func TestKinesisReadEmptyPageMidRange(t *testing.T) {
	empty := func(in *kinesis.GetRecordsInput) (any, error) {
		return &kinesis.GetRecordsOutput{NextShardIterator: in.ShardIterator, MillisBehindLatest: aws.Int64(5000), Records: []types.Record{}}, nil
	}
	c := kinesisClient(t, testkit.Nth(empty, 2, 3))
	arn := testkit.Stream(t, c, 1)
	puts := inShard(putRecords(t, c, arn, 300, func(i int) string { return "k" }), "shardId-000000000000")
	r := kRange(arn, "shardId-000000000000", puts[0], puts[299], 300)
	res, err := NewKinesisReader(c, func(o *KinesisOptions) { o.Limit = 100 }).Read(context.Background(), r)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	assertRecords(t, res.Records, puts, r)
	if want := 1 + 3 + 2; res.Calls != want || len(res.Gaps) != 0 {
		t.Errorf("got calls %v gaps %v, want %v, none", res.Calls, res.Gaps, want)
	}
}

func TestKinesisReadClosedParent(t *testing.T) {
	c := kinesisClient(t)
	arn := testkit.Stream(t, c, 1)
	parent := "shardId-000000000000"
	before := inShard(putRecords(t, c, arn, 200, func(i int) string { return "pk-" + strconv.Itoa(i) }), parent)
	mid := new(big.Int).Lsh(big.NewInt(1), 127).String()
	if _, err := c.SplitShard(context.Background(), &kinesis.SplitShardInput{StreamARN: aws.String(arn), ShardToSplit: aws.String(parent), NewStartingHashKey: aws.String(mid)}); err != nil {
		t.Fatalf("split shard: %v", err)
	}
	if _, err := testkit.WaitStream(context.Background(), c, streamName(arn)); err != nil {
		t.Fatal(err)
	}
	after := putRecords(t, c, arn, 50, func(i int) string { return "after-" + strconv.Itoa(i) })
	if len(inShard(after, parent)) != 0 {
		t.Fatalf("setup: records written after the split landed in the parent")
	}
	r := Range{StreamARN: arn, ShardID: parent, Start: before[5].seq, End: seqAdd(before[len(before)-1].seq, 1_000_000), BatchSize: 300, Region: "us-east-1"}
	res, err := NewKinesisReader(c).Read(context.Background(), r)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	assertRecords(t, res.Records, before[5:], r)
	// Nothing can follow the closed parent's last record: the rest is a final gap.
	wantGaps := []batch.Gap{{From: seqAdd(before[len(before)-1].seq, 1), To: r.End, Reason: batch.GapShardEnded}}
	if !res.ShardClosed || len(res.Gaps) != 1 || res.Gaps[0].From != wantGaps[0].From || res.Gaps[0].To != wantGaps[0].To || res.Gaps[0].Reason != wantGaps[0].Reason {
		t.Errorf("got closed %v gaps %+v, want true, %+v", res.ShardClosed, res.Gaps, wantGaps)
	}
}

func streamName(arn string) string {
	_, name, _ := strings.Cut(arn, "stream/")
	return name
}

// iteratorLog records the GetShardIterator requests as TYPE:sequence.
func iteratorLog(log *[]string) func(*middleware.Stack) error {
	return testkit.Answer("iteratorLog", func(p any) (any, bool, error) {
		if in, ok := p.(*kinesis.GetShardIteratorInput); ok {
			*log = append(*log, fmt.Sprintf("%s:%s", in.ShardIteratorType, aws.ToString(in.StartingSequenceNumber)))
		}
		return nil, false, nil
	})
}

func TestKinesisReadExpiredIterator(t *testing.T) {
	var its []string
	expired := func(*kinesis.GetRecordsInput) (any, error) {
		return nil, &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	}
	c := kinesisClient(t, iteratorLog(&its), testkit.Nth(expired, 2))
	arn := testkit.Stream(t, c, 1)
	puts := inShard(putRecords(t, c, arn, 300, func(i int) string { return "pk-" + strconv.Itoa(i) }), "shardId-000000000000")
	r := kRange(arn, "shardId-000000000000", puts[20], puts[280], 261)
	res, err := NewKinesisReader(c, func(o *KinesisOptions) { o.Limit = 100 }).Read(context.Background(), r)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	assertRecords(t, res.Records, puts[20:281], r)
	want := []string{"AT_SEQUENCE_NUMBER:" + puts[20].seq, "AFTER_SEQUENCE_NUMBER:" + puts[119].seq}
	if !slices.Equal(its, want) {
		t.Errorf("iterators: got %v, want %v", its, want)
	}
	if res.Calls != 1+1+1+1+2 {
		t.Errorf("calls: got %v, want %v", res.Calls, 6)
	}
}

func TestKinesisReadThrottled(t *testing.T) {
	throttled := func(*kinesis.GetRecordsInput) (any, error) {
		return nil, &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded for shard")}
	}
	c := kinesisClient(t, testkit.Nth(throttled, 2, 3, 4))
	arn := testkit.Stream(t, c, 1)
	puts := inShard(putRecords(t, c, arn, 250, func(i int) string { return "pk-" + strconv.Itoa(i) }), "shardId-000000000000")
	r := kRange(arn, "shardId-000000000000", puts[0], puts[249], 250)
	rec := &recordingSleep{}
	res, err := NewKinesisReader(c, func(o *KinesisOptions) {
		o.Limit, o.Backoff.Sleep, o.Backoff.Jitter = 100, rec.sleep, noJitter
	}).Read(context.Background(), r)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	assertRecords(t, res.Records, puts, r)
	if want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}; !slices.Equal(rec.waits, want) {
		t.Errorf("waits: got %v, want %v", rec.waits, want)
	}
	if want := 1 + 3 + 3; res.Calls != want {
		t.Errorf("calls: got %v, want %v", res.Calls, want)
	}
}

func TestKinesisReadTrimmed(t *testing.T) {
	setup := kinesisClient(t)
	arn := testkit.Stream(t, setup, 1)
	puts := inShard(putRecords(t, setup, arn, 100, func(i int) string { return "pk-" + strconv.Itoa(i) }), "shardId-000000000000")
	cases := map[string]struct {
		horizon  int // index of the first record still retained
		from, to int
		want     []put
		gap      batch.Gap
	}{
		"start trimmed": {horizon: 30, from: 10, to: 60, want: puts[30:61],
			gap: batch.Gap{From: puts[10].seq, To: seqAdd(puts[30].seq, -1), Reason: batch.GapTrimmed}},
		"all trimmed": {horizon: 80, from: 10, to: 60,
			gap: batch.Gap{From: puts[10].seq, To: puts[60].seq, Reason: batch.GapTrimmed}},
	}
	for name, cs := range cases {
		t.Run(name, func(t *testing.T) {
			c := kinesisClient(t, (&testkit.Retention{First: puts[cs.horizon].seq}).Add)
			r := kRange(arn, "shardId-000000000000", puts[cs.from], puts[cs.to], cs.to-cs.from+1)
			res, err := NewKinesisReader(c).Read(context.Background(), r)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			assertRecords(t, res.Records, cs.want, r)
			if len(res.Gaps) != 1 || res.Gaps[0] != cs.gap {
				t.Errorf("gaps: got %+v, want [%+v]", res.Gaps, cs.gap)
			}
		})
	}
}

func TestKinesisReadStreamMissing(t *testing.T) {
	c := kinesisClient(t)
	r := Range{StreamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/" + testkit.Name(t, "gone"), ShardID: "shardId-000000000000", Start: "1", End: "2"}
	_, err := NewKinesisReader(c).Read(context.Background(), r)
	var u *UnreadableError
	if !errors.As(err, &u) || u.Reason != UnreadableNotFound {
		t.Fatalf("got %v, want *UnreadableError %s", err, UnreadableNotFound)
	}
}
