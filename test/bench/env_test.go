package bench_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// createStream creates a Kinesis stream and waits until it is active; it is deleted
// when the benchmark ends, since kinesis-local caps the shards alive at once.
func createStream(b testing.TB, k *kinesis.Client, shards int32) string {
	b.Helper()
	ctx := context.Background()
	name := testkit.Name(b, "s")
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: &shards}); err != nil {
		b.Fatalf("create stream: %v", err)
	}
	b.Cleanup(func() {
		_, _ = k.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: &name, EnforceConsumerDeletion: aws.Bool(true)})
	})
	for range 300 {
		out, err := k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
		if err != nil {
			b.Fatalf("describe stream: %v", err)
		}
		if s := out.StreamDescriptionSummary; s.StreamStatus == ktypes.StreamStatusActive {
			return aws.ToString(s.StreamARN)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("stream %s did not become active", name)
	return ""
}

// shardRecords is what one shard took, in stream order.
type shardRecords struct {
	shard string
	seqs  []string
	bytes int64
}

// putRecords writes n records of size bytes to a one-shard stream and returns them.
func putRecords(b testing.TB, k *kinesis.Client, arn string, n, size int) shardRecords {
	b.Helper()
	var w shardRecords
	for from := 0; from < n; from += 500 {
		var entries []ktypes.PutRecordsRequestEntry
		for i := from; i < min(from+500, n); i++ {
			data := fmt.Appendf(nil, `{"i":%d,"pad":"%0*d"}`, i, max(size-20, 1), i)
			entries = append(entries, ktypes.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprint("pk-", i%97))})
			w.bytes += int64(len(data))
		}
		out, err := k.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamARN: &arn, Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
			b.Fatalf("put records: %v (failed %d)", err, aws.ToInt32(out.FailedRecordCount))
		}
		for _, r := range out.Records {
			w.shard = aws.ToString(r.ShardId)
			w.seqs = append(w.seqs, aws.ToString(r.SequenceNumber))
		}
	}
	return w
}

// destinations are an archive bucket and a DLQ, as hydrate needs them.
type destinations struct {
	bucket, dlqURL, bus string
}

func createDestinations(b testing.TB, cfg aws.Config) destinations {
	b.Helper()
	ctx := context.Background()
	d := destinations{bucket: testkit.Name(b, "b")}
	if _, err := awsenv.S3(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &d.bucket}); err != nil {
		b.Fatalf("create bucket: %v", err)
	}
	out, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testkit.Name(b, "dlq"))})
	if err != nil {
		b.Fatalf("create queue: %v", err)
	}
	d.dlqURL = aws.ToString(out.QueueUrl)
	d.bus = testkit.Name(b, "bus")
	if _, err := eventbridge.NewFromConfig(cfg).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &d.bus}); err != nil {
		b.Fatalf("create event bus: %v", err)
	}
	return d
}

// callCounter counts the SDK operations made through the clients it is added to.
type callCounter struct{ calls map[string]int }

func (c *callCounter) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.calls[middleware.GetOperationName(ctx)]++
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}
