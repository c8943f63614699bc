package hydrate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/envelope"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// The stream of testdata/kinesis-onfailure.json.
const fixtureStream = "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"

// shardOf serves seqs (one record each) from any iterator, and counts the iterators
// asked for.
// wholeBatch returns n sequence numbers from start to end inclusive: a shard holding
// exactly the failed batch, so that its capture is complete.
func wholeBatch(start, end string, n int) []string {
	s, _ := new(big.Int).SetString(start, 10)
	seqs := make([]string, 0, n)
	for i := range n - 1 {
		seqs = append(seqs, new(big.Int).Add(s, big.NewInt(int64(i))).String())
	}
	return append(seqs, end)
}

func fakeShard(iterators *atomic.Int32, seqs ...string) *testkit.FakeKinesis {
	return &testkit.FakeKinesis{
		GetShardIteratorFunc: func(context.Context, *kinesis.GetShardIteratorInput) (*kinesis.GetShardIteratorOutput, error) {
			iterators.Add(1)
			return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String("it")}, nil
		},
		GetRecordsFunc: func(context.Context, *kinesis.GetRecordsInput) (*kinesis.GetRecordsOutput, error) {
			var recs []ktypes.Record
			for _, s := range seqs {
				recs = append(recs, ktypes.Record{SequenceNumber: aws.String(s), PartitionKey: aws.String("k"), Data: []byte(`{"secret":"payload"}`)})
			}
			return &kinesis.GetRecordsOutput{Records: recs, MillisBehindLatest: aws.Int64(0)}, nil
		},
	}
}

// dryRunHandler hydrates without capturing, reading the fixture's stream through k.
func dryRunHandler(t *testing.T, k hydrate.KinesisAPI) *hydrate.Handler {
	t.Helper()
	allowed, err := hydrate.ParseAllowlist(fixtureStream)
	if err != nil {
		t.Fatal(err)
	}
	return hydrate.NewFromConfig(aws.Config{Region: "us-east-2"}, hydrate.Config{Allowed: allowed}, true,
		func(o *hydrate.HandlerOptions) { o.Clients.Kinesis = k })
}

// logged returns a context whose logger writes to the returned buffer.
func logged() (context.Context, *bytes.Buffer) {
	var buf bytes.Buffer
	return zerolog.New(&buf).WithContext(context.Background()), &buf
}

// errorLines returns the log lines at level error.
func errorLines(buf *bytes.Buffer) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Contains(l, `"level":"error"`) {
			out = append(out, l)
		}
	}
	return out
}

func TestHandleRefusesBadInputOnce(t *testing.T) {
	var iterators atomic.Int32
	h := dryRunHandler(t, fakeShard(&iterators))
	ctx, logs := logged()
	_, err := h.Handle(ctx, json.RawMessage(`{"Records":[{"secret-payload":`))
	var pe *envelope.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *envelope.ParseError", err)
	}
	lines := errorLines(logs)
	if len(lines) != 1 || !strings.Contains(lines[0], `"errorType":"envelope.ParseError"`) {
		t.Errorf("got error log lines %q, want one naming envelope.ParseError", lines)
	}
	if strings.Contains(logs.String(), "secret-payload") {
		t.Error("the log holds the input, want it never logged")
	}
	if n := iterators.Load(); n != 0 {
		t.Errorf("got %d reads, want none", n)
	}
}

func TestHandleSQSReportsBatchItemFailures(t *testing.T) {
	good, err := os.ReadFile("testdata/kinesis-onfailure.json")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		KinesisBatchInfo struct{ StartSequenceNumber, EndSequenceNumber string }
	}
	if err := json.Unmarshal(good, &info); err != nil {
		t.Fatal(err)
	}
	refused := onfailure.Record(onfailure.Batch{Source: "kinesis", StreamARN: "arn:aws:kinesis:us-east-2:123456789012:stream/other",
		ShardID: "shardId-000000000000", Start: "100", End: "101", BatchSize: 2})
	payload := onfailure.SQSEvent("arn:aws:sqs:us-east-2:123456789012:on-failure", good, json.RawMessage(`not json`), refused)
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	var iterators atomic.Int32
	h := dryRunHandler(t, fakeShard(&iterators, wholeBatch(info.KinesisBatchInfo.StartSequenceNumber, info.KinesisBatchInfo.EndSequenceNumber, 500)...))
	ctx, logs := logged()
	resp, err := h.Handle(ctx, payload)
	if err != nil {
		t.Fatalf("got %v, want nil: SQS items fail one by one", err)
	}
	got, ok := resp.(events.SQSEventResponse)
	if !ok {
		t.Fatalf("got a %T, want events.SQSEventResponse", resp)
	}
	var failed []string
	for _, f := range got.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if want := []string{ev.Records[1].MessageId, ev.Records[2].MessageId}; !slices.Equal(failed, want) {
		t.Errorf("batchItemFailures: got %v, want %v", failed, want)
	}
	if lines := errorLines(logs); len(lines) != 2 {
		t.Errorf("got %d error log lines, want one per failed item:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if n := iterators.Load(); n != 1 {
		t.Errorf("got %d shard iterators, want 1: only the allowed stream is read", n)
	}
}

// fakeSQS is the DLQ's SDK edge, keeping the bodies sent.
type fakeSQS struct {
	mu   sync.Mutex
	sent []string
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, aws.ToString(in.MessageBody))
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprint("m-", len(f.sent)))}, nil
}

func (f *fakeSQS) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"MaximumMessageSize": "262144"}}, nil
}

// fakeEvents is the bus's SDK edge, keeping the detail types put.
type fakeEvents struct{ detailTypes []string }

func (f *fakeEvents) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	for _, e := range in.Entries {
		f.detailTypes = append(f.detailTypes, aws.ToString(e.DetailType))
	}
	return &eventbridge.PutEventsOutput{}, nil
}

// A captured failure is archived, queued and announced once; the same SNS message
// delivered again finds its archive object and queued tag and sends nothing more.
func TestHandleCapturesOnceThroughClients(t *testing.T) {
	record, err := os.ReadFile("testdata/kinesis-onfailure.json")
	if err != nil {
		t.Fatal(err)
	}
	allowed, _ := hydrate.ParseAllowlist(fixtureStream)
	var iterators atomic.Int32
	objects, dlq, bus := &testkit.MemS3{}, &fakeSQS{}, &fakeEvents{}
	h := hydrate.NewFromConfig(aws.Config{Region: "us-east-2"},
		hydrate.Config{Allowed: allowed, ArchiveBucket: "archive", ArchivePrefix: "failures", DLQURL: "https://sqs/dlq", EventBus: "bus"}, false,
		func(o *hydrate.HandlerOptions) {
			o.Clients = hydrate.Clients{Kinesis: fakeShard(&iterators, wholeBatch("49601189658422359378836298521827638475320189012309704722", "49601189658422359378836298522902373528957594348623495186", 500)...),
				S3: objects, SQS: dlq, EventBridge: bus}
		})
	event := onfailure.SNSEvent("arn:aws:sns:us-east-2:123456789012:on-failure", record)
	for range 2 {
		if _, err := h.Handle(context.Background(), event); err != nil {
			t.Fatalf("Handle: %v", err)
		}
	}
	listed, err := objects.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("archive")})
	if err != nil || len(listed.Contents) != 1 {
		t.Fatalf("archive: got %d objects (%v), want 1", len(listed.Contents), err)
	}
	if len(dlq.sent) != 1 || !strings.Contains(dlq.sent[0], fixtureStream) {
		t.Errorf("DLQ: got %d messages, want 1 naming the stream", len(dlq.sent))
	}
	if want := []string{hydrate.DetailHydrated, hydrate.DetailHydrated}; !slices.Equal(bus.detailTypes, want) {
		t.Errorf("events: got %v, want %v (all 500 records read: hydrated, announced on each delivery)", bus.detailTypes, want)
	}
}

// countingS3 counts GetObject calls on an in-memory S3.
type countingS3 struct {
	*testkit.MemS3
	gets atomic.Int32
}

func (c *countingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.gets.Add(1)
	return c.MemS3.GetObject(ctx, in, optFns...)
}

// An S3 on-failure object is fetched only when its item comes up: one handed back
// unstarted for want of time is never read, so an invocation never holds the
// records of objects it will not hydrate.
func TestHandleFetchesObjectsOnlyWhenStarted(t *testing.T) {
	b, err := os.ReadFile("../internal/envelope/testdata/s3-onfailure-notification.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string][]map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	second := map[string]any{}
	for k, v := range ev["Records"][0] {
		second[k] = v
	}
	second["s3"] = map[string]any{"bucket": map[string]any{"name": "my-onfailure-bucket"}, "object": map[string]any{"key": "aws/lambda/other", "size": 1529}}
	ev["Records"] = append(ev["Records"], second)
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	objects := &countingS3{MemS3: &testkit.MemS3{}}
	h := hydrate.NewFromConfig(aws.Config{Region: "us-east-2"}, hydrate.Config{}, true, func(o *hydrate.HandlerOptions) {
		o.Clients.S3, o.ItemTime = objects, time.Hour
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = h.Handle(ctx, payload)
	var deferred *hydrate.DeferredError
	if !errors.As(err, &deferred) {
		t.Fatalf("got %v, want the second object handed back unstarted", err)
	}
	if n := objects.gets.Load(); n != 1 {
		t.Errorf("got %d GetObject calls, want 1: the first object only", n)
	}
}
