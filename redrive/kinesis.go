package redrive

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Kinesis service limits (PutRecords API reference, "Quotas and limits").
const (
	kinesisMaxEntries     = 500
	kinesisMaxCallBytes   = 5 << 20
	kinesisMaxRecordBytes = 1 << 20 // data + partition key, unless the stream allows more
	// A stream's MaxRecordSizeInKiB goes up to 10 MiB, and a PutRecords request may
	// then be that large: a request always holds at least one largest record.
	kinesisLargestRecordBytes = 10 << 20
	kinesisMaxKeyChars        = 256
	// Per-shard write capacity, the same in provisioned and on-demand mode.
	shardRecordsPerSecond = 1000
	shardBytesPerSecond   = 1 << 20
	// An on-demand stream takes at least 4 MiB/s and 4,000 records/s, whatever the
	// number of shards it currently shows.
	onDemandRecordsPerSecond = 4000
	onDemandBytesPerSecond   = 4 << 20
)

type kinesisAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

var _ kinesisAPI = (*kinesis.Client)(nil)

// KinesisTarget writes records back to a Kinesis stream with PutRecords, keeping their
// partition keys (and a KPL user record's explicit hash key). Each open shard is a rate
// lane, found by hashing the key as Kinesis does, so one hot shard does not slow the
// others down.
type KinesisTarget struct {
	api       kinesisAPI
	streamARN string
	shards    []hashRange // open shards, by starting hash key
	capacity  Rate        // per shard
	maxRecord int
}

type hashRange struct {
	id         string
	start, end *big.Int
}

// NewKinesisTarget looks up the stream's open shards and capacity.
func NewKinesisTarget(ctx context.Context, api kinesisAPI, streamARN string) (*KinesisTarget, error) {
	t := &KinesisTarget{api: api, streamARN: streamARN, maxRecord: kinesisMaxRecordBytes}
	sum, err := api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: &streamARN})
	if err != nil {
		return nil, fmt.Errorf("describe stream %s: %w", streamARN, err)
	}
	if kib := aws.ToInt32(sum.StreamDescriptionSummary.MaxRecordSizeInKiB); kib > 0 {
		t.maxRecord = int(kib) << 10
	}
	if t.shards, err = openShards(ctx, api, streamARN); err != nil {
		return nil, err
	}
	t.capacity = shardCapacity(sum.StreamDescriptionSummary, len(t.shards))
	return t, nil
}

// maxCall is the most bytes one PutRecords request holds: 5 MiB, or the stream's
// maximum record size when that is larger.
func (t *KinesisTarget) maxCall() int {
	return min(max(kinesisMaxCallBytes, t.maxRecord), kinesisLargestRecordBytes)
}

// shardCapacity is the write capacity per open shard: the per-shard quota, or for an
// on-demand stream its floor spread over the shards if that is more.
func shardCapacity(sum *types.StreamDescriptionSummary, shards int) Rate {
	c := Rate{shardRecordsPerSecond, shardBytesPerSecond}
	if m := sum.StreamModeDetails; m != nil && m.StreamMode == types.StreamModeOnDemand && shards > 0 {
		c.Records = max(c.Records, onDemandRecordsPerSecond/float64(shards))
		c.Bytes = max(c.Bytes, onDemandBytesPerSecond/float64(shards))
	}
	return c
}

// openShards lists the shards that take writes: those without an ending sequence
// number. Their hash key ranges cover the key space without overlap.
func openShards(ctx context.Context, api kinesisAPI, streamARN string) ([]hashRange, error) {
	var out []hashRange
	in := &kinesis.ListShardsInput{StreamARN: &streamARN}
	for {
		page, err := api.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards of %s: %w", streamARN, err)
		}
		for _, s := range page.Shards {
			if s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
				continue
			}
			r, err := parseHashRange(s)
			if err != nil {
				return nil, fmt.Errorf("list shards of %s: %w", streamARN, err)
			}
			out = append(out, r)
		}
		if page.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("list shards of %s: no open shard", streamARN)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Cmp(out[j].start) < 0 })
	return out, nil
}

func parseHashRange(s types.Shard) (hashRange, error) {
	r := hashRange{id: aws.ToString(s.ShardId), start: new(big.Int), end: new(big.Int)}
	if s.HashKeyRange == nil {
		return r, fmt.Errorf("shard %s has no hash key range", r.id)
	}
	_, ok1 := r.start.SetString(aws.ToString(s.HashKeyRange.StartingHashKey), 10)
	_, ok2 := r.end.SetString(aws.ToString(s.HashKeyRange.EndingHashKey), 10)
	if !ok1 || !ok2 {
		return r, fmt.Errorf("shard %s has a bad hash key range", r.id)
	}
	return r, nil
}

// lane is the index of the open shard a record goes to: its explicit hash key, or the
// MD5 of its partition key read as a 128-bit number.
func (t *KinesisTarget) lane(key, explicitHashKey string) int {
	h := new(big.Int)
	if _, ok := h.SetString(explicitHashKey, 10); !ok {
		sum := md5.Sum([]byte(key))
		h.SetBytes(sum[:])
	}
	i := sort.Search(len(t.shards), func(i int) bool { return t.shards[i].end.Cmp(h) >= 0 })
	return min(i, len(t.shards)-1)
}

// Name implements Target.
func (t *KinesisTarget) Name() string { return "kinesis:" + t.streamARN }

// Limits implements Target.
func (t *KinesisTarget) Limits() Limits {
	return Limits{
		MaxEntries: kinesisMaxEntries, MaxBytes: t.maxCall(), Ordering: OnePerKey,
		Lanes: len(t.shards), Capacity: t.capacity, Shared: true,
	}
}

// Prepare implements Target. Only Kinesis records can be written: a DynamoDB record has
// no partition key.
func (t *KinesisTarget) Prepare(rec batch.Record, _ Origin) (*Entry, error) {
	if rec.Kinesis == nil {
		return nil, &RejectedError{Target: t.Name(), Reason: "not a Kinesis record"}
	}
	k := rec.Kinesis.Kinesis
	n := utf8.RuneCountInString(k.PartitionKey)
	if n < 1 || n > kinesisMaxKeyChars {
		return nil, &RejectedError{Target: t.Name(), Reason: fmt.Sprintf("partition key of %d characters", n)}
	}
	if k.ExplicitHashKey != "" && !validHashKey(k.ExplicitHashKey) {
		return nil, &RejectedError{Target: t.Name(), Reason: "explicit hash key is not a decimal in 0..2^128-1"}
	}
	size := len(k.Data) + len(k.PartitionKey)
	if limit := min(t.maxRecord, t.maxCall()); size > limit {
		return nil, &RejectedError{Target: t.Name(), Reason: fmt.Sprintf("record of %d bytes exceeds the stream's maximum record size of %d", size, limit)}
	}
	return &Entry{Record: rec, Key: k.PartitionKey, Lane: t.lane(k.PartitionKey, k.ExplicitHashKey), Size: size}, nil
}

// Send implements Target.
func (t *KinesisTarget) Send(ctx context.Context, entries []*Entry) ([]Outcome, error) {
	in := &kinesis.PutRecordsInput{StreamARN: &t.streamARN, Records: make([]types.PutRecordsRequestEntry, len(entries))}
	for i, e := range entries {
		k := e.Record.Kinesis.Kinesis
		in.Records[i] = types.PutRecordsRequestEntry{Data: k.Data, PartitionKey: aws.String(k.PartitionKey)}
		if k.ExplicitHashKey != "" {
			in.Records[i].ExplicitHashKey = aws.String(k.ExplicitHashKey)
		}
	}
	out, err := t.api.PutRecords(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("put %d records to %s: %w", len(entries), t.streamARN, err)
	}
	if len(out.Records) != len(entries) {
		return nil, fmt.Errorf("put records to %s: %d results for %d records", t.streamARN, len(out.Records), len(entries))
	}
	outcomes := make([]Outcome, len(entries))
	for i, r := range out.Records {
		outcomes[i] = kinesisOutcome(r)
	}
	return outcomes, nil
}

func kinesisOutcome(r types.PutRecordsResultEntry) Outcome {
	code := aws.ToString(r.ErrorCode)
	switch {
	case code == "":
		return Outcome{Status: Delivered}
	case isThrottleCode(code):
		return Outcome{Status: Throttled, Err: errors.New(code)}
	}
	return Outcome{Status: Failed, Err: fmt.Errorf("%s: %s", code, aws.ToString(r.ErrorMessage))}
}

// maxHashKey is 2^128-1, the top of Kinesis's hash key space.
var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// validHashKey reports whether s is an explicit hash key PutRecords accepts: a
// decimal number of the 128-bit hash key space, digits only.
func validHashKey(s string) bool {
	if s == "" || len(s) > 39 || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return false
	}
	n, ok := new(big.Int).SetString(s, 10)
	return ok && n.Cmp(maxHashKey) <= 0
}
