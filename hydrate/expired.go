package hydrate

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/stream"
)

// describeStreamAPI proves a DynamoDB stream exists.
type describeStreamAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
}

var _ describeStreamAPI = (*dynamodbstreams.Client)(nil)

// expiredShard returns the final gap for a range refused as not found whose shard is
// proven gone. Both sources drop a shard once its records have passed the stream's
// retention: Kinesis a closed shard after RetentionPeriodHours (ListShards no longer
// lists it), DynamoDB Streams any shard after its fixed 24 h (shards are created and
// deleted automatically); GetShardIterator then answers ResourceNotFoundException.
// So a shard not found in a stream that exists, named by a failure older than that
// retention, held nothing that could still be read. Anything short of that proof —
// the stream itself not found, its retention unknown, a failure young enough that the
// shard should still be there (a wrong or not yet visible shard) — leaves the refusal
// transient: ok is false.
func (h *Hydrator) expiredShard(ctx context.Context, f *batch.Failure, r stream.Range, refused *stream.UnreadableError) (gap batch.Gap, ok bool) {
	if refused.Reason != stream.UnreadableNotFound {
		return batch.Gap{}, false
	}
	// Lambda gave up after every record of the batch arrived: once the failure is
	// older than the retention, so is each of its records.
	failed := f.Timestamp
	if failed.IsZero() {
		failed = f.LastArrival
	}
	if failed.IsZero() {
		return batch.Gap{}, false
	}
	retention, err := liveRetention(ctx, h.readers.forAccountRegion(f.AccountID, f.Region), f)
	if err != nil {
		return batch.Gap{}, false // not found either, or unknown: no proof
	}
	age := h.clock.Now().Sub(failed)
	if age <= retention {
		return batch.Gap{}, false
	}
	return batch.Gap{From: r.Start, To: r.End, Reason: batch.GapTrimmed,
		Detail: fmt.Sprintf("shard %s is no longer in the stream, and the failure (%s) is older than its %v retention",
			r.ShardID, failed.UTC().Format(time.RFC3339), retention)}, true
}

// liveRetention proves f's stream exists and returns how long it keeps a record: a
// Kinesis stream's DescribeStreamSummary gives both; a DynamoDB stream's retention is
// fixed, so DescribeStream only has to answer.
func liveRetention(ctx context.Context, ar *accountReaders, f *batch.Failure) (time.Duration, error) {
	switch f.Source {
	case batch.SourceKinesis:
		return streamRetention(ctx, ar.summary, f)
	case batch.SourceDynamoDB:
		_, err := ar.describe.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &f.StreamARN, Limit: aws.Int32(1)})
		if err != nil {
			return 0, fmt.Errorf("describe stream %s: %w", f.StreamARN, err)
		}
		return DynamoDBRetention, nil
	}
	return 0, fmt.Errorf("source %s has no retention", f.Source)
}
