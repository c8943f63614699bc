package redrive

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// TestDryRunsNeverCountTowardParking: dry runs receive the message (SQS has no
// peek) but the redrive parks by its own count of failed attempts, so after any
// number of dry runs a first failed attempt requeues the message with its count
// instead of parking it.
func TestDryRunsNeverCountTowardParking(t *testing.T) {
	e := newEnv(t)
	e.enqueue(t, kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 1, 2, 1)...)
	fn := &lambdafn.Function{Respond: func([]string, []string) (int, string, string) {
		return 200, "Unhandled", `{"errorType":"Boom"}`
	}}
	run := func(dry bool) Report {
		rep, err := New(e.source(func(o *SQSSourceOptions) { o.MaxReceiveCount = 2 }), func(o *Options) {
			o.Lambda, o.DryRun, o.MaxAttempts = startFunction(t, fn, e.cfg), dry, 1
			o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
		}).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for range 3 {
		run(true)
	}
	if rep := run(false); rep.Parked != 0 || rep.Requeued != 1 {
		t.Fatalf("got parked %d, requeued %d after 3 dry runs and one failed attempt, want 0, 1", rep.Parked, rep.Requeued)
	}
	msgs := e.peek(t, e.dlq)
	if len(msgs) != 1 || aws.ToString(msgs[0].MessageAttributes[AttrAttempts].StringValue) != "1" {
		t.Fatalf("got %d messages, want one counting 1 failed attempt", len(msgs))
	}
	if rep := run(false); rep.Parked != 1 {
		t.Errorf("got parked %d at the second failed attempt, want 1", rep.Parked)
	}
}

// TestHeldMessageNotReceivedAgain: a message the run is done with stays hidden for
// the rest of the run, however long that is, so the run never receives it again.
func TestHeldMessageNotReceivedAgain(t *testing.T) {
	e := newEnv(t)
	held := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/unrouted", 1, 1, 1)
	slow := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/slow", 1, 1, 1)
	e.enqueue(t, append(held, slow...)...)
	fn := &lambdafn.Function{Respond: func([]string, []string) (int, string, string) {
		time.Sleep(2500 * time.Millisecond)
		return 200, "", ""
	}}
	_, err := New(e.source(func(o *SQSSourceOptions) { o.VisibilityTimeout = time.Second }), func(o *Options) {
		o.Lambda = startFunction(t, fn, e.cfg)
		o.Routes = []Route{{Pattern: "slow", Target: "lambda:consumer"}}
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &e.dlq, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("got %d messages, want the unrouted one", len(out.Messages))
	}
	if n, _ := strconv.Atoi(out.Messages[0].Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); n != 2 {
		t.Errorf("got receive count %d (this receive included), want 2: the run received it once", n)
	}
}
