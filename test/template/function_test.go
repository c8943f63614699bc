package template

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit/runtimeapi"
)

// hydrateReply covers both answers of the hydrator: outcomes for SNS, S3 and direct
// inputs, batchItemFailures for SQS.
type hydrateReply struct {
	Outcomes []struct {
		ID, Status, Error string
		Records           int
	} `json:"outcomes"`
	BatchItemFailures []json.RawMessage `json:"batchItemFailures"`
}

// The deployed bootstraps, built for this host, run under the Runtime API with
// exactly the environment template.yaml gives them: every sample event is hydrated
// into the archive and the DLQ, and one redrive run delivers every record again.
func TestFunctionsTakeTheSamples(t *testing.T) {
	l := newLocal(t)
	l.uploadOnFailureObject(t)
	hydrate := runtimeapi.Start(t, buildBootstrap(t, "./cmd/hydrate"), append(runtimeapi.HostAWSEnv(), l.env(t, "HydrateFunction")...),
		func(o *runtimeapi.Options) {
			o.FunctionName, o.Timeout, o.MemoryMB = "HydrateFunction", 2*time.Minute, 512
		})
	tests := []struct {
		sample  string
		records int // hydrated; -1 for SQS inputs, which answer with batchItemFailures
	}{
		{"sns-kinesis.json", 3}, {"sns-dynamodb.json", 2}, {"sqs.json", -1}, {"direct-kinesis.json", 3},
		{"pipes-dlq.json", -1}, {"s3-object-notification.json", 1},
	}
	for _, tc := range tests {
		t.Run(tc.sample, func(t *testing.T) {
			reply := invokeJSON[hydrateReply](t, hydrate, l.rewrite(readRepoFile(t, filepath.Join("events", tc.sample))))
			checkHydrated(t, reply, tc.records)
		})
	}
	// Distinct failures: Kinesis (SNS, SQS, direct), DynamoDB (SNS, SQS), Pipes, S3.
	if got := queueDepth(t, l, l.dlqURL); got != 4 {
		t.Errorf("DLQ: got %d messages, want 4 (one per distinct failure)", got)
	}
	t.Run("rehydrate", func(t *testing.T) { l.rehydrate(t, hydrate) })
	t.Run("redrive", func(t *testing.T) { l.redriveAll(t) })
}

// The rehydration schedule's event makes the hydrator drain its own failure queue: a
// failed SNS delivery of sns-kinesis.json is hydrated again (a duplicate of the one
// hydrated above, so the DLQ keeps one message for it) and deleted.
func (l *local) rehydrate(t *testing.T, hydrate *runtimeapi.Function) {
	body := l.rewrite(readRepoFile(t, "events/hydrate-failure.json"))
	if _, err := sqs.NewFromConfig(l.cfg).SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &l.failuresURL, MessageBody: &body}); err != nil {
		t.Fatal(err)
	}
	report := invokeJSON[struct{ Hydrated, Kept, Parked int }](t, hydrate, readRepoFile(t, "events/rehydrate-schedule.json"))
	if report.Hydrated != 1 || report.Kept != 0 || report.Parked != 0 {
		t.Errorf("rehydration report: got %+v, want 1 hydrated", report)
	}
	if got := queueDepth(t, l, l.failuresURL); got != 0 {
		t.Errorf("failure queue: got %d messages, want 0", got)
	}
	if got := queueDepth(t, l, l.dlqURL); got != 4 {
		t.Errorf("DLQ after rehydration: got %d messages, want still 4", got)
	}
}

func checkHydrated(t *testing.T, reply hydrateReply, records int) {
	t.Helper()
	if records < 0 {
		if len(reply.BatchItemFailures) != 0 {
			t.Errorf("batchItemFailures: got %s, want none", reply.BatchItemFailures)
		}
		return
	}
	if len(reply.Outcomes) != 1 {
		t.Fatalf("outcomes: got %d, want 1", len(reply.Outcomes))
	}
	o := reply.Outcomes[0]
	if o.Error != "" || o.Records != records || o.Status != "complete" {
		t.Errorf("outcome: got %s %d records %q, want complete %d records and no error", o.Status, o.Records, o.Error, records)
	}
}

func (l *local) redriveAll(t *testing.T) {
	redrive := runtimeapi.Start(t, buildBootstrap(t, "./cmd/redrive"), append(runtimeapi.HostAWSEnv(), l.env(t, "RedriveFunction")...),
		func(o *runtimeapi.Options) { o.FunctionName, o.Timeout = "RedriveFunction", 2*time.Minute })
	report := invokeJSON[struct {
		Delivered, Left int
		Errors          []string
	}](t, redrive, readRepoFile(t, "events/redrive-schedule.json"))
	// 3 + 2 Kinesis records and 1 from the S3 object back to the stream, 2 DynamoDB
	// records to the target queue: both routed, as no consumer function runs here (and
	// the Pipes failure names none).
	if report.Delivered != 8 || report.Left != 0 || len(report.Errors) != 0 {
		t.Errorf("redrive report: got delivered %d left %d errors %v, want 8, 0, none", report.Delivered, report.Left, report.Errors)
	}
	if got := queueDepth(t, l, l.dlqURL); got != 0 {
		t.Errorf("DLQ after redrive: got %d messages, want 0", got)
	}
}

// invokeJSON invokes f with payload and decodes a successful answer.
func invokeJSON[T any](t *testing.T, f *runtimeapi.Function, payload string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out T
	res, err := f.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if res.Err != nil {
		t.Fatalf("invoke: function error %v", res.Err)
	}
	if err := json.Unmarshal(res.Response, &out); err != nil {
		t.Fatalf("decode %s: %v", res.Response, err)
	}
	return out
}

// uploadOnFailureObject puts events/s3-object.json, rewritten, where the rewritten
// notification says it is, and makes the notification's size match.
func (l *local) uploadOnFailureObject(t *testing.T) {
	sample := readRepoFile(t, "events/s3-object.json")
	body := l.rewrite(sample)
	var n struct {
		Records []struct {
			S3 struct {
				Object struct{ Key string } `json:"object"`
			} `json:"s3"`
		}
	}
	if err := json.Unmarshal([]byte(readRepoFile(t, "events/s3-object-notification.json")), &n); err != nil || len(n.Records) != 1 {
		t.Fatalf("notification sample: %v", err)
	}
	_, err := awsenv.S3(l.cfg).PutObject(context.Background(), &s3.PutObjectInput{Bucket: &l.failureBucket,
		Key: aws.String(n.Records[0].S3.Object.Key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("put on-failure object: %v", err)
	}
	l.sizes = [2]int{len(sample), len(body)}
}

func queueDepth(t *testing.T, l *local, url string) int {
	t.Helper()
	out, err := sqs.NewFromConfig(l.cfg).GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	visible, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	hidden, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible + hidden
}
