package chaos_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// sideEffects is a stream with records, an archive bucket and a DLQ, reached through
// clients that count every call, so a test can show that an input caused none.
type sideEffects struct {
	cfg       aws.Config // counted
	calls     *calls
	streamARN string
	shard     string
	seqs      []string
	bucket    string
	dlqURL    string
	s3        *s3.Client
	sqs       *sqs.Client
}

func newSideEffects(t *testing.T) *sideEffects {
	t.Helper()
	clean := testkit.Config(t, testkit.Kinesis, testkit.Moto)
	e := &sideEffects{cfg: clean.Copy(), calls: &calls{n: map[string]int{}}, s3: awsenv.S3(clean), sqs: sqs.NewFromConfig(clean)}
	e.cfg.APIOptions = append(e.cfg.APIOptions, e.calls.add)
	ctx := context.Background()
	k := kinesis.NewFromConfig(clean)
	name := testkit.Name(t, "s")
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = k.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: &name}) })
	w := kinesis.NewStreamExistsWaiter(k, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	out, err := k.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: &name, Records: []ktypes.PutRecordsRequestEntry{
		{Data: []byte(`{"secret":"hostile-1"}`), PartitionKey: aws.String("k")}, {Data: []byte(`{"secret":"hostile-2"}`), PartitionKey: aws.String("k")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Records {
		e.shard = aws.ToString(r.ShardId)
		e.seqs = append(e.seqs, aws.ToString(r.SequenceNumber))
	}
	sum, err := k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		t.Fatal(err)
	}
	e.streamARN = aws.ToString(sum.StreamDescriptionSummary.StreamARN)
	e.bucket = testkit.Name(t, "b")
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &e.bucket}); err != nil {
		t.Fatal(err)
	}
	q, err := e.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testkit.Name(t, "dlq"))})
	if err != nil {
		t.Fatal(err)
	}
	e.dlqURL = aws.ToString(q.QueueUrl)
	return e
}

// handler is the hydrate handler allowed to read only the test's stream.
func (e *sideEffects) handler() *hydrate.Handler {
	c := hydrate.Config{ArchiveBucket: e.bucket, ArchivePrefix: "failures", DLQURL: e.dlqURL}
	c.Allowed, _ = hydrate.ParseAllowlist(e.streamARN)
	return hydrate.NewFromConfig(e.cfg, c, false)
}

// record is a valid on-failure record for the stream's two records, as a JSON map a
// case can spoil.
func (e *sideEffects) record(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	raw := onfailure.Record(onfailure.Batch{Source: "kinesis", StreamARN: e.streamARN, ShardID: e.shard, Start: e.seqs[0], End: e.seqs[1], BatchSize: 2})
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkNone fails unless nothing was read from a stream, written to S3, sent to SQS
// or put on a bus, and the bucket and the DLQ are empty.
func (e *sideEffects) checkNone(t *testing.T) {
	t.Helper()
	for _, op := range []string{"GetShardIterator", "GetRecords", "PutObject", "SendMessage", "PutEvents", "PutRecords"} {
		if n := e.calls.count(op); n != 0 {
			t.Errorf("got %d %s calls, want 0", n, op)
		}
	}
	ctx := context.Background()
	objs, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &e.bucket})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(objs.Contents); n != 0 {
		t.Errorf("got %d objects in the archive, want 0", n)
	}
	attrs, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &e.dlqURL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	if n := attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)]; n != "0" {
		t.Errorf("got %s messages on the DLQ, want 0", n)
	}
}

// calls counts SDK operations by name.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

func (c *calls) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = map[string]int{}
}

func (c *calls) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.n[middleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// awsenvS3 is an S3 client that counts its calls.
func awsenvS3(e *sideEffects) *s3.Client { return awsenv.S3(e.cfg) }
