package redrive

import (
	"context"
	"fmt"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/kinesislimit"
)

func newSimClock() *testkit.SimClock {
	return testkit.NewSimClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
}

// fakeKinesis fakes the Kinesis client at the SDK edge.
type fakeKinesis struct {
	putRecords            func(context.Context, *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error)
	listShards            func(context.Context, *kinesis.ListShardsInput) (*kinesis.ListShardsOutput, error)
	describeStreamSummary func(context.Context, *kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error)
}

func (f *fakeKinesis) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	return f.putRecords(ctx, in)
}

func (f *fakeKinesis) ListShards(ctx context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	return f.listShards(ctx, in)
}

func (f *fakeKinesis) DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return f.describeStreamSummary(ctx, in)
}

// simStream is a provisioned stream of evenly split shards whose PutRecords enforces
// the shard limits with kinesislimit on the simulated clock, each call taking rtt.
func simStream(clock *testkit.SimClock, shards int, rtt time.Duration) (*fakeKinesis, *kinesislimit.Limiter) {
	ranges := kinesislimit.EvenShards(shards)
	lim := kinesislimit.NewLimiter(ranges, clock)
	f := &fakeKinesis{
		describeStreamSummary: func(context.Context, *kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error) {
			return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{
				StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned},
			}}, nil
		},
		listShards: func(context.Context, *kinesis.ListShardsInput) (*kinesis.ListShardsOutput, error) {
			out := &kinesis.ListShardsOutput{}
			for _, r := range ranges {
				out.Shards = append(out.Shards, types.Shard{
					ShardId:             aws.String(r.ID),
					HashKeyRange:        &types.HashKeyRange{StartingHashKey: aws.String(r.Start.String()), EndingHashKey: aws.String(r.End.String())},
					SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("1")},
				})
			}
			return out, nil
		},
	}
	f.putRecords = func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
		for i, r := range in.Records {
			shard, ok := lim.Admit(aws.ToString(r.PartitionKey), aws.ToString(r.ExplicitHashKey), len(r.Data)+len(aws.ToString(r.PartitionKey)))
			if ok {
				out.Records[i] = types.PutRecordsResultEntry{ShardId: aws.String(shard), SequenceNumber: aws.String("1")}
				continue
			}
			out.Records[i] = types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException")}
			out.FailedRecordCount = aws.Int32(aws.ToInt32(out.FailedRecordCount) + 1)
		}
		clock.Advance(rtt)
		return out, nil
	}
	return f, lim
}

// kinesisRecord is a record as hydration reads it back from shard shardId-000000000000.
func kinesisRecord(streamARN, key string, seq int, data []byte) batch.Record {
	s := fmt.Sprintf("%056d", seq)
	return batch.Record{Kinesis: &batch.KinesisEventRecord{
		AwsRegion: "us-east-1", EventID: "shardId-000000000000:" + s, EventName: "aws:kinesis:record",
		EventSource: batch.EventSourceKinesis, EventSourceArn: streamARN, EventVersion: "1.0",
		Kinesis: batch.KinesisRecord{KinesisRecord: events.KinesisRecord{
			Data: data, PartitionKey: key, SequenceNumber: s, KinesisSchemaVersion: "1.0",
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.Unix(1735689600, 0)},
		}},
	}}
}
