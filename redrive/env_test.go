package redrive

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/kinesislimit"
)

// env is the local AWS for one integration test: an archive bucket, a DLQ and a
// parking queue on moto, and kinesis-local.
type env struct {
	cfg     aws.Config
	kinesis *kinesis.Client
	sqs     *sqs.Client
	s3      *s3.Client
	bucket  string
	dlq     string
	park    string
	archive *archive.Archive
	queue   *archive.Queue
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := testkit.Config(t, testkit.Kinesis, testkit.Moto)
	e := &env{
		cfg:     cfg,
		kinesis: kinesis.NewFromConfig(cfg),
		sqs:     sqs.NewFromConfig(cfg),
		s3:      s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		bucket:  testkit.Name(t, "arc"),
	}
	ctx := context.Background()
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &e.bucket}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	e.dlq, e.park = e.createQueue(t, "dlq"), e.createQueue(t, "park")
	e.archive = archive.New(e.s3, func(o *archive.Options) { o.Bucket, o.Prefix = e.bucket, "failures" })
	e.queue = archive.NewQueue(e.sqs, func(o *archive.QueueOptions) { o.URL, o.Archive = e.dlq, e.archive })
	return e
}

func (e *env) createQueue(t *testing.T, prefix string) string {
	t.Helper()
	out, err := e.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(testkit.Name(t, prefix))})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return aws.ToString(out.QueueUrl)
}

// source is a DLQ source with a short visibility timeout, so a crashed run's messages
// come back quickly.
func (e *env) source(optFns ...func(*SQSSourceOptions)) *SQSSource {
	return NewSQSSource(e.sqs, e.s3, e.queue, append([]func(*SQSSourceOptions){func(o *SQSSourceOptions) {
		o.URL, o.ParkURL, o.Bucket, o.Prefix = e.dlq, e.park, e.bucket, "failures"
		o.VisibilityTimeout, o.WaitTime = 2*time.Second, 0
	}}, optFns...)...)
}

// enqueue archives and queues docs as the hydrator does.
func (e *env) enqueue(t *testing.T, docs ...*archive.Document) {
	t.Helper()
	for _, d := range docs {
		loc, err := e.archive.Put(context.Background(), d)
		if err != nil {
			t.Fatalf("archive: %v", err)
		}
		if _, err := e.queue.Send(context.Background(), d, loc); err != nil {
			t.Fatalf("queue: %v", err)
		}
	}
}

// drain receives and deletes every message of a queue, returning them.
func (e *env) drain(t *testing.T, url string) []types.Message {
	t.Helper()
	var out []types.Message
	for {
		r, err := e.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(r.Messages) == 0 {
			return out
		}
		for _, m := range r.Messages {
			out = append(out, m)
			_, _ = e.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle})
		}
	}
}

// peek returns up to 10 visible messages of a queue and leaves them visible.
func (e *env) peek(t *testing.T, url string) []types.Message {
	t.Helper()
	ctx := context.Background()
	r, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	for _, m := range r.Messages {
		if _, err := e.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatalf("change visibility: %v", err)
		}
	}
	return r.Messages
}

// depth counts a queue's messages, visible or not.
func (e *env) depth(t *testing.T, url string) int {
	t.Helper()
	out, err := e.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: &url, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
	})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	n := 0
	for _, v := range out.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}
	return n
}

// createStream makes a kinesis-local stream, deleted when the test ends.
func (e *env) createStream(t testing.TB, shards int32) string {
	t.Helper()
	ctx := context.Background()
	name := testkit.Name(t, "rd")
	if _, err := e.kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: &shards}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	t.Cleanup(func() {
		_, _ = e.kinesis.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: &name, EnforceConsumerDeletion: aws.Bool(true)})
	})
	w := kinesis.NewStreamExistsWaiter(e.kinesis, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	out, err := w.WaitForOutput(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, 30*time.Second)
	if err != nil {
		t.Fatalf("wait for stream: %v", err)
	}
	return aws.ToString(out.StreamDescription.StreamARN)
}

// limited is a Kinesis client whose PutRecords goes through kinesislimit, with the
// stream's shard ranges from ListShards; with discard, admitted records are
// acknowledged without reaching kinesis-local.
func (e *env) limited(t testing.TB, arn string, refuse func(string, []byte) string, discard bool) (*kinesis.Client, *kinesislimit.Limiter) {
	t.Helper()
	out, err := e.kinesis.ListShards(context.Background(), &kinesis.ListShardsInput{StreamARN: &arn})
	if err != nil {
		t.Fatal(err)
	}
	var shards []kinesislimit.Shard
	for _, s := range out.Shards {
		sh, err := kinesislimit.ParseShard(aws.ToString(s.ShardId), aws.ToString(s.HashKeyRange.StartingHashKey), aws.ToString(s.HashKeyRange.EndingHashKey))
		if err != nil {
			t.Fatal(err)
		}
		shards = append(shards, sh)
	}
	lim := kinesislimit.NewLimiter(shards, nil)
	tr := &kinesislimit.Transport{Limiter: lim, Refuse: refuse}
	if discard {
		tr.Next = &kinesislimit.Discard{}
	}
	return kinesis.NewFromConfig(e.cfg, func(o *kinesis.Options) { o.HTTPClient = &http.Client{Transport: tr} }), lim
}

// written is a record read back from a stream.
type written struct{ key, data string }

// readStream reads every shard of a stream from the start, in shard order.
func (e *env) readStream(t testing.TB, arn string) []written {
	t.Helper()
	ctx := context.Background()
	shards, err := e.kinesis.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: &arn})
	if err != nil {
		t.Fatal(err)
	}
	var out []written
	for _, s := range shards.Shards {
		it, err := e.kinesis.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: &arn, ShardId: s.ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			page, err := e.kinesis.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: &arn, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				out = append(out, written{aws.ToString(r.PartitionKey), string(r.Data)})
			}
			if len(page.Records) == 0 && aws.ToInt64(page.MillisBehindLatest) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return out
}

// failureSeq numbers failures across parallel subtests.
var failureSeq atomic.Int64

// kinesisDocs builds n failures of size records each, each from its own shard,
// with partition keys cycling over keys and data "f<i>/r<j>", as hydration leaves
// them.
func kinesisDocs(streamARN string, n, size, keys int) []*archive.Document {
	var docs []*archive.Document
	for f := range n {
		seq := int(failureSeq.Add(1))
		first := seq * 1000
		doc := newDoc("kinesis", streamARN, first, size)
		for r := range size {
			rec := kinesisRecord(streamARN, fmt.Sprintf("key-%d", (f*size+r)%keys), first+r, fmt.Appendf(nil, "f%d/r%03d", seq, r))
			doc.Records = append(doc.Records, rec)
		}
		docs = append(docs, doc)
	}
	return docs
}

// dynamoDocs builds n DynamoDB failures of size records each.
func dynamoDocs(streamARN string, n, size int) []*archive.Document {
	var docs []*archive.Document
	for range n {
		seq := int(failureSeq.Add(1))
		first := seq * 1000
		doc := newDoc("dynamodb", streamARN, first, size)
		for r := range size {
			s := fmt.Sprintf("%021d", first+r)
			doc.Records = append(doc.Records, batch.Record{DynamoDB: &events.DynamoDBEventRecord{
				AWSRegion: "us-east-1", EventID: fmt.Sprintf("ev-%d-%d", seq, r), EventName: "INSERT",
				EventSource: batch.EventSourceDynamoDB, EventSourceArn: streamARN, EventVersion: "1.1",
				Change: events.DynamoDBStreamRecord{
					Keys:           map[string]events.DynamoDBAttributeValue{"id": events.NewStringAttribute(s)},
					SequenceNumber: s, SizeBytes: 40, StreamViewType: "NEW_AND_OLD_IMAGES",
				},
			}})
		}
		docs = append(docs, doc)
	}
	return docs
}

func newDoc(source, streamARN string, first, size int) *archive.Document {
	start, end := fmt.Sprintf("%056d", first), fmt.Sprintf("%056d", first+size-1)
	shard := fmt.Sprintf("shardId-%012d", first/1000%50)
	failure, _ := json.Marshal(map[string]any{
		"requestContext": map[string]any{"requestId": fmt.Sprintf("req-%d", first), "condition": "RetryAttemptsExhausted"},
		"KinesisBatchInfo": map[string]any{
			"shardId": shard, "startSequenceNumber": start, "endSequenceNumber": end,
			"batchSize": size, "streamArn": streamARN,
		},
	})
	return &archive.Document{Failure: failure, Hydration: archive.Hydration{
		Status: archive.StatusComplete, Source: source, StreamARN: streamARN, ShardID: shard,
		Start: start, End: end, Condition: "RetryAttemptsExhausted", FirstArrival: time.Now().UTC(),
		Expected: size, Fetched: size, HydratedAt: time.Now().UTC(), From: "stream",
	}}
}

// dataOf lists the records' identities ("f<i>/r<j>" for Kinesis, the key for DynamoDB).
func dataOf(docs []*archive.Document) []string {
	var out []string
	for _, d := range docs {
		for _, r := range d.Records {
			out = append(out, recordID(r))
		}
	}
	sort.Strings(out)
	return out
}

func recordID(r batch.Record) string {
	if r.Kinesis != nil {
		return string(r.Kinesis.Kinesis.Data)
	}
	return r.DynamoDB.Change.SequenceNumber
}
