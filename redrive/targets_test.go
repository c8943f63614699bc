package redrive

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

type fakeEvents struct {
	putEvents func(context.Context, *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error)
}

func (f *fakeEvents) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return f.putEvents(ctx, in)
}

type fakeSQS struct {
	sendMessageBatch func(context.Context, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
}

func (f *fakeSQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	return f.sendMessageBatch(ctx, in)
}

// deliverAll sends n records to t and returns the deliverer.
func deliverAll(t *testing.T, target Target, n, maxAttempts int) (*deliverer, []*item) {
	t.Helper()
	d := newDeliverer(target, Throttle{}, newSimClock(), deliveryOptions{maxAttempts: maxAttempts})
	var items []*item
	for i := range n {
		e, err := target.Prepare(kinesisRecord("arn:aws:kinesis:us-east-1:1:stream/s", fmt.Sprint(i%3), i, fmt.Appendf(nil, "r%d", i)), Origin{StreamARN: "arn:aws:kinesis:us-east-1:1:stream/s", ShardID: "shardId-0"})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, &item{rec: e.Record, entry: e})
	}
	if err := d.deliver(context.Background(), items, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return d, items
}

// TestPerEntryFailuresAreRetried: EventBridge and SQS report failures per entry; the
// failed entries go again, the others are not sent twice, and a permanent code
// rejects the entry.
func TestPerEntryFailuresAreRetried(t *testing.T) {
	tests := map[string]struct {
		target        func(sent map[string]int, fail func(body string) (code string, senderFault bool)) Target
		wantThrottled int
		wantRejected  int
	}{
		"eventbridge": {target: func(sent map[string]int, fail func(string) (string, bool)) Target {
			return NewEventBridgeTarget(&fakeEvents{putEvents: func(_ context.Context, in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
				if len(in.Entries) > eventBridgeMaxEntries {
					t.Errorf("got %d entries in a call, want <= 10", len(in.Entries))
				}
				out := &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(in.Entries))}
				for i, e := range in.Entries {
					if code, _ := fail(aws.ToString(e.Detail)); code != "" {
						out.Entries[i] = ebtypes.PutEventsResultEntry{ErrorCode: aws.String(code)}
						out.FailedEntryCount++
						continue
					}
					sent[aws.ToString(e.Detail)]++
					out.Entries[i] = ebtypes.PutEventsResultEntry{EventId: aws.String("id")}
				}
				return out, nil
			}}, "bus")
		}},
		"sqs": {target: func(sent map[string]int, fail func(string) (string, bool)) Target {
			return NewSQSTarget(&fakeSQS{sendMessageBatch: func(_ context.Context, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				if len(in.Entries) > sqsMaxEntries {
					t.Errorf("got %d entries in a call, want <= 10", len(in.Entries))
				}
				out := &sqs.SendMessageBatchOutput{}
				for _, e := range in.Entries {
					if code, sender := fail(aws.ToString(e.MessageBody)); code != "" {
						out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String(code), SenderFault: sender})
						continue
					}
					sent[aws.ToString(e.MessageBody)]++
					out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
				}
				return out, nil
			}}, "https://sqs/q", 0)
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			sent := map[string]int{}
			failed := map[string]int{}
			fail := func(body string) (string, bool) {
				failed[body]++
				switch n := failed[body]; {
				case containsData(body, "r7"):
					return "MalformedDetail", true
				case containsData(body, "r1") && n == 1:
					return "ThrottlingException", false
				case containsData(body, "r2") && n <= 2:
					return "InternalFailure", false
				}
				return "", false
			}
			d, _ := deliverAll(t, tt.target(sent, fail), 25, 5)
			if len(sent) != 24 {
				t.Errorf("got %d records sent, want 24", len(sent))
			}
			for body, n := range sent {
				if n != 1 {
					t.Errorf("got %s sent %d times, want once", body, n)
				}
			}
			if d.stats.Throttled != 1 || d.stats.Retried != 2 || d.stats.Rejected != 1 {
				t.Errorf("got throttled %d, retried %d, rejected %d, want 1, 2, 1", d.stats.Throttled, d.stats.Retried, d.stats.Rejected)
			}
		})
	}
}

// containsData reports whether a record's JSON carries data (base64 in "data").
func containsData(body, data string) bool {
	return strings.Contains(body, `"data":"`+base64.StdEncoding.EncodeToString([]byte(data))+`"`)
}

// TestLambdaThrottlesAndFunctionErrors: TooManyRequestsException is a throttle and
// the batch goes again; a function error is retried up to the attempt limit, after
// which the shard's records are left in order.
func TestLambdaThrottlesAndFunctionErrors(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	tests := map[string]struct {
		respond                 func(calls int) (int, string, string)
		wantDelivered, wantLeft int
		wantThrottled           int
	}{
		"throttled twice": {respond: func(calls int) (int, string, string) {
			if calls <= 2 {
				return http.StatusTooManyRequests, "", ""
			}
			return 200, "", ""
		}, wantDelivered: 6, wantThrottled: 8},
		"always failing": {respond: func(int) (int, string, string) {
			return 200, "Unhandled", `{"errorType":"Boom"}`
		}, wantLeft: 6},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			calls := 0
			fn := &lambdafn.Function{Respond: func([]string, []string) (int, string, string) { calls++; return tt.respond(calls) }}
			d, items := deliverAll(t, NewLambdaTarget(startFunction(t, fn, cfg), "consumer", 4), 6, 3)
			if d.stats.Delivered != tt.wantDelivered || d.stats.Left != tt.wantLeft || d.stats.Throttled != tt.wantThrottled {
				t.Errorf("got delivered %d, left %d, throttled %d, want %d, %d, %d", d.stats.Delivered, d.stats.Left, d.stats.Throttled, tt.wantDelivered, tt.wantLeft, tt.wantThrottled)
			}
			if got := len(fn.Got()); got != tt.wantDelivered {
				t.Errorf("got %d records at the function, want %d", got, tt.wantDelivered)
			}
			if tt.wantLeft > 0 {
				var fe *FunctionError
				if !errors.As(items[0].err, &fe) || fe.Type != "Boom" {
					t.Errorf("got %v, want a *FunctionError of type Boom", items[0].err)
				}
			}
		})
	}
}

// TestThrottleClassification: throttles are recognised from the SDK's retry package
// and the services' own codes, per call and per entry, in one place.
func TestThrottleClassification(t *testing.T) {
	api := func(code string, fault smithy.ErrorFault) error {
		return &smithy.GenericAPIError{Code: code, Message: "m", Fault: fault}
	}
	status := func(code int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("x")}
	}
	calls := map[string]struct {
		err  error
		want Status
	}{
		"sqs kms throttled (json)":   {api("KmsThrottled", smithy.FaultClient), Throttled},
		"sqs kms throttled (query)":  {api("KMS.ThrottlingException", smithy.FaultClient), Throttled},
		"lambda too many requests":   {api("TooManyRequestsException", smithy.FaultClient), Throttled},
		"lambda 429 without a code":  {status(http.StatusTooManyRequests), Throttled},
		"eventbridge throttling":     {api("ThrottlingException", smithy.FaultClient), Throttled},
		"kinesis throughput":         {api("ProvisionedThroughputExceededException", smithy.FaultClient), Throttled},
		"kinesis kms throttling":     {api("KMSThrottlingException", smithy.FaultClient), Throttled},
		"access denied":              {api("AccessDeniedException", smithy.FaultClient), Rejected},
		"server error":               {api("InternalFailure", smithy.FaultServer), Failed},
		"connection reset (no code)": {errors.New("reset"), Failed},
	}
	for name, tt := range calls {
		t.Run(name, func(t *testing.T) {
			if got := classify(fmt.Errorf("call: %w", tt.err)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	entries := map[string]Status{"KmsThrottled": Throttled, "ThrottlingException": Throttled, "KMSThrottlingException": Throttled, "InternalFailure": Failed, "": Delivered}
	for code, want := range entries {
		if got := entryOutcome(code, "m", false).Status; got != want {
			t.Errorf("entry code %q: got %v, want %v", code, got, want)
		}
	}
}

// TestSQSTargetEscapesNoncharacters: a record holding U+FFFE or U+FFFF, which SQS
// refuses in a body, is sent with them as JSON escapes and decodes to the same record.
func TestSQSTargetEscapesNoncharacters(t *testing.T) {
	target := NewSQSTarget(&fakeSQS{}, "https://sqs.us-east-1.amazonaws.com/1/q", 0)
	value := "a\uFFFFb\uFFFEc"
	rec := batch.Record{DynamoDB: &events.DynamoDBEventRecord{EventSource: batch.EventSourceDynamoDB, EventID: "1",
		Change: events.DynamoDBStreamRecord{SequenceNumber: "1", NewImage: map[string]events.DynamoDBAttributeValue{"v": events.NewStringAttribute(value)}}}}
	e, err := target.Prepare(rec, Origin{StreamARN: "arn", ShardID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(string(e.Body), "\uFFFE\uFFFF") || !utf8.Valid(e.Body) {
		t.Fatalf("got a body with characters SQS refuses: %q", e.Body)
	}
	var back batch.Record
	if err := json.Unmarshal(e.Body, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.DynamoDB.Change.NewImage["v"].String(); got != value {
		t.Errorf("got %q back, want %q", got, value)
	}
	if e.Size != len(e.Body) {
		t.Errorf("got size %d, want the escaped body's %d", e.Size, len(e.Body))
	}
}
