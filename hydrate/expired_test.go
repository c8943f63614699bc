package hydrate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// goneShard is a Kinesis stream whose shard is not found (as Kinesis answers for a
// closed shard dropped after the retention): describe answers DescribeStreamSummary.
type goneShard struct {
	describe func(in *kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error)
}

func (goneShard) GetShardIterator(_ context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	return nil, &ktypes.ResourceNotFoundException{Message: aws.String("Shard " + aws.ToString(in.ShardId) + " in stream orders under account 123456789012 does not exist")}
}

func (goneShard) GetRecords(context.Context, *kinesis.GetRecordsInput, ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	panic("no iterator was given")
}

func (g goneShard) DescribeStreamSummary(_ context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return g.describe(in)
}

// A shard that is not found is a final trimmed gap over the whole range only when the
// stream exists and the failure is older than the stream's retention; otherwise the
// refusal stays transient, for a later attempt to read.
func TestShardPastRetention(t *testing.T) {
	const stream = "arn:aws:kinesis:us-east-2:123456789012:stream/orders"
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	exists := func(hours int32) func(*kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error) {
		return func(in *kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error) {
			return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &ktypes.StreamDescriptionSummary{
				StreamARN: in.StreamARN, RetentionPeriodHours: aws.Int32(hours)}}, nil
		}
	}
	tests := map[string]struct {
		failed   time.Duration // how long ago Lambda gave up
		describe func(*kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error)
		want     string // gap reason
		status   string
	}{
		"older than the retention": {failed: 25 * time.Hour, describe: exists(24), want: batch.GapTrimmed, status: archive.StatusUnreadable},
		"within the retention":     {failed: 23 * time.Hour, describe: exists(24), want: batch.GapUnreadable, status: archive.StatusIncomplete},
		"within a longer retention": {failed: 25 * time.Hour, describe: exists(168), want: batch.GapUnreadable,
			status: archive.StatusIncomplete},
		"stream not found either": {failed: 25 * time.Hour, describe: func(*kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error) {
			return nil, &ktypes.ResourceNotFoundException{Message: aws.String("Stream orders under account 123456789012 not found.")}
		}, want: batch.GapUnreadable, status: archive.StatusIncomplete},
		"retention unknown": {failed: 25 * time.Hour, describe: func(*kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error) {
			return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &ktypes.StreamDescriptionSummary{}}, nil
		}, want: batch.GapUnreadable, status: archive.StatusIncomplete},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := New(aws.Config{Region: "us-east-2"}, Config{Allowed: mustAllow(t, stream)})
			h.readers.withClients(goneShard{describe: tt.describe}, nil)
			h.clock = testkit.NewSimClock(now)
			f := &batch.Failure{Source: batch.SourceKinesis, StreamARN: stream, AccountID: "123456789012", Region: "us-east-2",
				ShardID: "shardId-000000000007", Start: "100", End: "200", BatchSize: 3, Timestamp: now.Add(-tt.failed)}
			doc, err := h.Hydrate(context.Background(), f, Allowlist{})
			if err != nil {
				t.Fatalf("Hydrate: %v", err)
			}
			checkGoneShardGap(t, doc, tt.want, tt.status, "shardId-000000000007")
		})
	}
}

// goneDynamoDBShard is a DynamoDB stream whose shard is not found (as DynamoDB Streams
// answers for a shard deleted after its records' 24 h): describe answers DescribeStream.
type goneDynamoDBShard struct {
	describe func(in *dynamodbstreams.DescribeStreamInput) (*dynamodbstreams.DescribeStreamOutput, error)
}

func (goneDynamoDBShard) GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	return nil, &dtypes.ResourceNotFoundException{Message: aws.String("Requested resource not found: Shard does not exist")}
}

func (goneDynamoDBShard) GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	panic("no iterator was given")
}

func (g goneDynamoDBShard) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	return g.describe(in)
}

// The same rule holds for DynamoDB Streams, whose retention is a fixed 24 h: a shard
// not found is a final trimmed gap only when DescribeStream finds the stream and the
// failure is older than 24 h.
func TestDynamoDBShardPastRetention(t *testing.T) {
	const stream = "arn:aws:dynamodb:us-east-2:123456789012:table/orders/stream/2026-05-01T00:00:00.000"
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	exists := func(in *dynamodbstreams.DescribeStreamInput) (*dynamodbstreams.DescribeStreamOutput, error) {
		if aws.ToString(in.StreamArn) != stream {
			return nil, &dtypes.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
		}
		return &dynamodbstreams.DescribeStreamOutput{StreamDescription: &dtypes.StreamDescription{StreamArn: in.StreamArn,
			StreamStatus: dtypes.StreamStatusEnabled}}, nil
	}
	tests := map[string]struct {
		failed   time.Duration // how long ago Lambda gave up
		describe func(*dynamodbstreams.DescribeStreamInput) (*dynamodbstreams.DescribeStreamOutput, error)
		want     string // gap reason
		status   string
	}{
		"older than 24 h": {failed: 25 * time.Hour, describe: exists, want: batch.GapTrimmed, status: archive.StatusUnreadable},
		"within 24 h":     {failed: 23 * time.Hour, describe: exists, want: batch.GapUnreadable, status: archive.StatusIncomplete},
		"stream not found either": {failed: 25 * time.Hour, describe: func(*dynamodbstreams.DescribeStreamInput) (*dynamodbstreams.DescribeStreamOutput, error) {
			return nil, &dtypes.ResourceNotFoundException{Message: aws.String("Requested resource not found: Stream does not exist")}
		}, want: batch.GapUnreadable, status: archive.StatusIncomplete},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := New(aws.Config{Region: "us-east-2"}, Config{Allowed: mustAllow(t, stream)})
			h.readers.withClients(nil, goneDynamoDBShard{describe: tt.describe})
			h.clock = testkit.NewSimClock(now)
			f := &batch.Failure{Source: batch.SourceDynamoDB, StreamARN: stream, AccountID: "123456789012", Region: "us-east-2",
				ShardID: "shardId-00000001700000000000-0000000a", Start: "100", End: "200", BatchSize: 3, Timestamp: now.Add(-tt.failed)}
			doc, err := h.Hydrate(context.Background(), f, Allowlist{})
			if err != nil {
				t.Fatalf("Hydrate: %v", err)
			}
			checkGoneShardGap(t, doc, tt.want, tt.status, "24h0m0s")
		})
	}
}

// checkGoneShardGap checks that doc holds one gap of reason want over the whole range
// 100..200 with the given status, and that a trimmed gap's detail mentions trimmedDetail.
func checkGoneShardGap(t *testing.T, doc *archive.Document, want, status, trimmedDetail string) {
	t.Helper()
	gaps := doc.Hydration.Gaps
	if len(gaps) != 1 || gaps[0].Reason != want || gaps[0].From != "100" || gaps[0].To != "200" {
		t.Fatalf("got gaps %+v, want one %s gap 100..200", gaps, want)
	}
	if doc.Hydration.Status != status {
		t.Errorf("got status %s, want %s", doc.Hydration.Status, status)
	}
	if want == batch.GapTrimmed && !strings.Contains(gaps[0].Detail, trimmedDetail) {
		t.Errorf("got detail %q, want it to mention %q", gaps[0].Detail, trimmedDetail)
	}
}
