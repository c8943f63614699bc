package redrive

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// TestPartialDeliveryShrinksMessage: a function that keeps failing from one record on
// leaves a message holding only that record and the ones after it; once the function
// is fixed, the rest arrives and no record was sent twice.
func TestPartialDeliveryShrinksMessage(t *testing.T) {
	e := newEnv(t)
	broken := true
	fn := &lambdafn.Function{Respond: func(ids, seqs []string) (int, string, string) {
		for i, id := range ids {
			if broken && strings.HasSuffix(id, "/r006") {
				return 200, "", fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, seqs[i])
			}
		}
		return 200, "", ""
	}}
	docs := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 1, 10, 3)
	e.enqueue(t, docs...)
	redrive := func() Report {
		rep, err := New(e.source(), func(o *Options) {
			o.Lambda, o.LambdaBatchSize, o.MaxAttempts = startFunction(t, fn, e.cfg), 10, 2
			o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
		}).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := redrive(); rep.Replaced != 1 || rep.Left != 4 {
		t.Errorf("got %d replaced, %d left, want 1, 4", rep.Replaced, rep.Left)
	}
	msgs := e.peek(t, e.dlq)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want the replacement only", len(msgs))
	}
	doc, err := archive.DecodeMessage(context.Background(), e.s3, e.bucket, aws.ToString(msgs[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	all := dataOf(docs)
	if got := dataOf([]*archive.Document{doc}); !slices.Equal(got, all[6:]) {
		t.Errorf("got %v in the replacement, want %v", got, all[6:])
	}
	if got := aws.ToString(msgs[0].MessageAttributes[archive.AttrRecordCount].StringValue); got != "4" {
		t.Errorf("got recordCount %s, want 4", got)
	}
	broken = false
	if rep := redrive(); rep.Removed != 1 || rep.Delivered != 4 {
		t.Errorf("got %d removed, %d delivered, want 1, 4", rep.Removed, rep.Delivered)
	}
	if got := sorted(fn.Got()); !slices.Equal(got, all) {
		t.Errorf("got %v, want %v, each once", got, all)
	}
}

// TestPoisonIsParked: a message no retry can help is moved, as it was, to the parking
// queue with the reason; one failing for transient reasons is parked once it has been
// received MaxReceiveCount times.
func TestPoisonIsParked(t *testing.T) {
	tests := map[string]struct {
		body    func(e *env) string // raw body; empty: a failure from docs
		docs    []*archive.Document
		routes  func(t *testing.T, e *env) []Route
		runs    int
		respond func(ids, seqs []string) (int, string, string)
		reason  string
	}{
		"not streamdlq format": {body: func(*env) string { return `{"hello":"world"}` }, runs: 1, reason: "not streamdlq format"},
		"claim check outside the bucket": {body: func(*env) string {
			return `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"elsewhere","s3Key":"k"}]`
		}, runs: 1, reason: "outside the archive bucket"},
		"record the target can never take": {
			docs: longKey(kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 1, 3, 1)),
			routes: func(t *testing.T, e *env) []Route {
				return []Route{{Pattern: "*", Target: "kinesis:" + e.createStream(t, 1)}}
			},
			runs: 1, reason: "partition key of 257 characters",
		},
		"function fails every time": {
			docs:   kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 1, 3, 1),
			routes: func(*testing.T, *env) []Route { return []Route{{Pattern: "*", Target: "lambda:consumer"}} },
			respond: func([]string, []string) (int, string, string) {
				return 200, "Unhandled", `{"errorType":"OrderRejected","errorMessage":"secret payload"}`
			},
			runs: 2, reason: "OrderRejected",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var body string
			if tt.body != nil {
				body = tt.body(e)
				if _, err := e.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &e.dlq, MessageBody: &body}); err != nil {
					t.Fatal(err)
				}
			}
			e.enqueue(t, tt.docs...)
			fn := &lambdafn.Function{Respond: tt.respond}
			var routes []Route
			if tt.routes != nil {
				routes = tt.routes(t, e)
			}
			var rep Report
			for range tt.runs {
				var err error
				rep, err = New(e.source(func(o *SQSSourceOptions) { o.MaxReceiveCount = 2 }), func(o *Options) {
					o.Lambda, o.Kinesis, o.Routes, o.MaxAttempts = startFunction(t, fn, e.cfg), e.kinesis, routes, 2
				}).Run(context.Background())
				if err != nil {
					t.Fatal(err)
				}
			}
			if rep.Parked != 1 {
				t.Errorf("got %d parked in the last run, want 1 (report %+v)", rep.Parked, rep)
			}
			parked := e.drain(t, e.park)
			if len(parked) != 1 {
				t.Fatalf("got %d parked messages, want 1", len(parked))
			}
			reason := aws.ToString(parked[0].MessageAttributes[AttrLastError].StringValue)
			if !strings.Contains(reason, tt.reason) || strings.Contains(reason, "secret") {
				t.Errorf("got reason %q, want it to name %q and quote no payload", reason, tt.reason)
			}
			if body != "" && aws.ToString(parked[0].Body) != body {
				t.Errorf("got body %q, want the original %q", aws.ToString(parked[0].Body), body)
			}
			if n := e.depth(t, e.dlq); n != 0 {
				t.Errorf("got %d messages on the DLQ, want 0", n)
			}
		})
	}
}

// longKey gives the docs' records a partition key Kinesis refuses.
func longKey(docs []*archive.Document) []*archive.Document {
	for _, d := range docs {
		for _, r := range d.Records {
			r.Kinesis.Kinesis.PartitionKey = strings.Repeat("k", 257)
		}
	}
	return docs
}

// TestDryRunSendsNothing: a dry run reports what would go where and leaves the
// queue as it was.
func TestDryRunSendsNothing(t *testing.T) {
	e := newEnv(t)
	sink := e.createQueue(t, "sink")
	ddbARN := "arn:aws:dynamodb:us-east-1:123456789012:table/" + testkit.Name(t, "t") + "/stream/2025-01-01T00:00:00.000"
	e.enqueue(t, kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/orders", 3, 5, 2)...)
	e.enqueue(t, dynamoDocs(ddbARN, 2, 4)...)
	rep, err := New(e.source(), func(o *Options) {
		o.SQS, o.DryRun = e.sqs, true
		o.Routes = []Route{{Pattern: "orders", Target: "sqs:" + sink}}
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != 1 {
		t.Fatalf("got targets %+v, want the sqs one", rep.Targets)
	}
	ts := rep.Targets[0]
	if ts.Failures != 3 || ts.Records != 15 || ts.Bytes == 0 || ts.Delivered != 0 || ts.Calls != 0 {
		t.Errorf("got %+v, want 3 failures, 15 records, some bytes, nothing sent", ts)
	}
	if rep.NoRoute != 2 || rep.Kept != 5 || rep.Messages != 5 {
		t.Errorf("got noRoute %d, kept %d, messages %d, want 2, 5, 5", rep.NoRoute, rep.Kept, rep.Messages)
	}
	if got := len(e.peek(t, e.dlq)); got != 5 {
		t.Errorf("got %d messages visible on the DLQ after the run, want 5", got)
	}
	if got := e.depth(t, sink); got != 0 {
		t.Errorf("got %d messages on the target, want 0", got)
	}
}

// TestArchiveSource: failures selected from the archive by stream reach the target,
// others are not read.
func TestArchiveSource(t *testing.T) {
	e := newEnv(t)
	sink := e.createQueue(t, "sink")
	orders := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/orders", 3, 5, 2)
	others := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/payments", 2, 5, 2)
	// An incomplete capture is superseded by the hydrator and queued once complete:
	// redriving it from the archive too would deliver its records twice.
	incomplete := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/orders", 1, 5, 2)[0]
	incomplete.Hydration.Status = archive.StatusIncomplete
	incomplete.Hydration.Gaps = []batch.Gap{{From: incomplete.Hydration.Start, To: incomplete.Hydration.End, Reason: batch.GapUnreadable, Detail: "deadline"}}
	for _, d := range append(orders, append(others, incomplete)...) {
		if _, err := e.archive.Put(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	src := NewArchiveSource(e.archive, archive.Filter{Source: "kinesis", Stream: "orders"}, 2)
	rep, err := New(src, func(o *Options) {
		o.SQS = e.sqs
		o.Routes = []Route{{Pattern: "*", Target: "sqs:" + sink}}
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range e.drain(t, sink) {
		got = append(got, decodeRecord(t, []byte(aws.ToString(m.Body))))
	}
	if got, want := sorted(got), dataOf(orders); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if rep.Messages != 4 || rep.Removed != 3 {
		t.Errorf("got %d read, %d done, want 4, 3", rep.Messages, rep.Removed)
	}
}

// TestRecordThatNeverFitsIsParkedAtOnce: in a failure whose other records are
// delivered, a record the target can never take is parked in the same run, with the
// reason, rather than waiting on the queue for the next one.
func TestRecordThatNeverFitsIsParkedAtOnce(t *testing.T) {
	e := newEnv(t)
	arn := e.createStream(t, 1)
	docs := kinesisDocs(arn, 1, 3, 3)
	docs[0].Records[1].Kinesis.Kinesis.PartitionKey = strings.Repeat("k", 257)
	e.enqueue(t, docs...)
	rep, err := New(e.source(), func(o *Options) {
		o.Kinesis = e.kinesis
		o.Routes = []Route{{Pattern: "*", Target: SpecSource}}
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Delivered != 2 || rep.Replaced != 1 || rep.Parked != 1 {
		t.Errorf("got delivered %d, replaced %d, parked %d, want 2, 1, 1", rep.Delivered, rep.Replaced, rep.Parked)
	}
	parked := e.drain(t, e.park)
	if len(parked) != 1 || !strings.Contains(aws.ToString(parked[0].MessageAttributes[AttrLastError].StringValue), "partition key of 257 characters") {
		t.Fatalf("got %d parked messages, want the rejected record's, with the reason", len(parked))
	}
	if n := e.depth(t, e.dlq); n != 0 {
		t.Errorf("got %d messages on the DLQ, want none", n)
	}
}
