package hydrate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// env is one test's slice of the local AWS: a stream, the archive bucket, the DLQ, and
// a bus whose events land in a queue the test reads.
type env struct {
	cfg       aws.Config
	faults    *faults
	streamARN string
	bucket    string
	dlqURL    string
	eventsURL string
	bus       string
	s3        *s3.Client
	sqs       *sqs.Client
}

func newEnv(t *testing.T, queueAttrs map[string]string) *env {
	t.Helper()
	cfg := testkit.Config(t, testkit.Kinesis, testkit.Moto)
	e := &env{cfg: cfg, faults: &faults{}}
	e.cfg.APIOptions = append(e.cfg.APIOptions, e.faults.add)
	ctx := context.Background()
	e.s3, e.sqs = awsenv.S3(cfg), sqs.NewFromConfig(cfg)
	e.streamARN = createStream(t, kinesis.NewFromConfig(cfg), testkit.Name(t, "s"), 2)
	e.bucket = testkit.Name(t, "b")
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &e.bucket}); err != nil {
		t.Fatal(err)
	}
	e.dlqURL = createQueue(t, e.sqs, testkit.Name(t, "dlq"), queueAttrs)
	e.eventsURL = createQueue(t, e.sqs, testkit.Name(t, "ev"), nil)
	e.bus = testkit.Name(t, "bus")
	routeBusToQueue(t, eventbridge.NewFromConfig(cfg), e.sqs, e.bus, e.eventsURL)
	return e
}

func (e *env) config() hydrate.Config {
	allowed, _ := hydrate.ParseAllowlist(e.streamARN)
	return hydrate.Config{Allowed: allowed, ArchiveBucket: e.bucket, ArchivePrefix: "failures", DLQURL: e.dlqURL, EventBus: e.bus}
}

func (e *env) handler(t *testing.T) *hydrate.Handler {
	return hydrate.NewFromConfig(e.cfg, e.config(), false)
}

func (e *env) archive() *archive.Archive {
	return archive.New(e.s3, func(o *archive.Options) { o.Bucket, o.Prefix = e.bucket, "failures" })
}

func createStream(t *testing.T, k *kinesis.Client, name string, shards int32) string {
	t.Helper()
	ctx := context.Background()
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: &shards}); err != nil {
		t.Fatal(err)
	}
	w := kinesis.NewStreamExistsWaiter(k, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	out, err := k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.StreamDescriptionSummary.StreamARN)
}

func createQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func routeBusToQueue(t *testing.T, eb *eventbridge.Client, q *sqs.Client, bus, queueURL string) {
	t.Helper()
	ctx := context.Background()
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &bus}); err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queueURL, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	rule := "all-streamdlq"
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &rule, EventBusName: &bus, EventPattern: aws.String(`{"source":["streamdlq"]}`)}); err != nil {
		t.Fatal(err)
	}
	target := eventbridgeTarget(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &rule, EventBusName: &bus, Targets: target}); err != nil {
		t.Fatal(err)
	}
}

// written is what a test put on one shard, in stream order.
type written struct {
	seqs []string
	data map[string][]byte // by sequence number
}

// putRecords writes n records across the stream and returns them per shard.
func putRecords(t *testing.T, k *kinesis.Client, streamARN string, n, size int) map[string]*written {
	t.Helper()
	shards := map[string]*written{}
	for start := 0; start < n; start += 500 {
		var entries []ktypes.PutRecordsRequestEntry
		for i := start; i < min(start+500, n); i++ {
			data := fmt.Appendf(nil, `{"i":%d,"pad":"%0*d"}`, i, max(size-20, 1), i)
			entries = append(entries, ktypes.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprint("pk-", i%13))})
		}
		out, err := k.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamARN: &streamARN, Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
			t.Fatalf("put records: %v (failed %d)", err, aws.ToInt32(out.FailedRecordCount))
		}
		for i, r := range out.Records {
			w := shards[aws.ToString(r.ShardId)]
			if w == nil {
				w = &written{data: map[string][]byte{}}
				shards[aws.ToString(r.ShardId)] = w
			}
			w.seqs = append(w.seqs, aws.ToString(r.SequenceNumber))
			w.data[aws.ToString(r.SequenceNumber)] = entries[i].Data
		}
	}
	return shards
}

// busiest returns the shard that got the most records.
func busiest(shards map[string]*written) (string, *written) {
	ids := make([]string, 0, len(shards))
	for id := range shards {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	best := ids[0]
	for _, id := range ids {
		if len(shards[id].seqs) > len(shards[best].seqs) {
			best = id
		}
	}
	return best, shards[best]
}

// faults fails chosen SDK operations, as a real outage would, so retries can be
// shown to lose nothing.
type faults struct {
	mu    sync.Mutex
	fail  map[string]int   // operation → how many more calls to fail
	errs  map[string]error // operation → the error they fail with; a generic one if unset
	calls map[string]int
}

func (f *faults) failNext(op string, n int) { f.failNextWith(op, n, nil) }

func (f *faults) failNextWith(op string, n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail, f.errs = map[string]int{}, map[string]error{}
	}
	f.fail[op], f.errs[op] = n, err
}

func (f *faults) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *faults) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("testFaults",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := middleware.GetOperationName(ctx)
			f.mu.Lock()
			if f.calls == nil {
				f.calls = map[string]int{}
			}
			f.calls[op]++
			fail, err := f.fail[op] > 0, f.errs[op]
			if fail {
				f.fail[op]--
			}
			f.mu.Unlock()
			if fail && err != nil {
				return middleware.InitializeOutput{}, middleware.Metadata{}, err
			}
			if fail {
				return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("injected fault in %s", op)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// receiveAll drains up to max messages from a queue, waiting briefly for stragglers.
func receiveAll(t *testing.T, c *sqs.Client, url string, max int) []sqstypes.Message {
	t.Helper()
	var msgs []sqstypes.Message
	deadline := time.Now().Add(3 * time.Second)
	for len(msgs) < max && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, out.Messages...)
	}
	return msgs
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}

func eventbridgeTarget(queueARN string) []ebtypes.Target {
	return []ebtypes.Target{{Id: aws.String("queue"), Arn: &queueARN}}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(n int) string { return fmt.Sprint(n) }

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
