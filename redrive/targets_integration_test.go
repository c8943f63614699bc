package redrive

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/testkit"

	"github.com/streamdlq/streamdlq/internal/clock"
	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// TestEveryRecordArrivesOnce: with nothing failing, every record of every failure
// reaches each kind of target exactly once, and the DLQ ends empty.
func TestEveryRecordArrivesOnce(t *testing.T) {
	tests := map[string]struct {
		dynamo bool
		// setup routes the failures and returns what arrived, by recordID.
		setup func(t *testing.T, e *env, o *Options, source string) func() []string
	}{
		"kinesis, back to the source stream": {setup: func(t *testing.T, e *env, o *Options, source string) func() []string {
			o.Kinesis = e.kinesis
			o.Routes = []Route{{Pattern: "*", Target: SpecSource}}
			return func() []string {
				var out []string
				for _, w := range e.readStream(t, source) {
					out = append(out, w.data)
				}
				return out
			}
		}},
		"lambda, kinesis records":  {setup: lambdaSetup},
		"lambda, dynamodb records": {dynamo: true, setup: lambdaSetup},
		"eventbridge":              {setup: eventBridgeSetup},
		"sqs":                      {setup: sqsSetup},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var source string
			var docs []*archive.Document
			if tt.dynamo {
				source = "arn:aws:dynamodb:us-east-1:123456789012:table/" + testkit.Name(t, "t") + "/stream/2025-01-01T00:00:00.000"
				docs = dynamoDocs(source, 4, 15)
			} else {
				source = e.createStream(t, 2)
				docs = kinesisDocs(source, 4, 15, 7)
			}
			e.enqueue(t, docs...)
			var opts Options
			arrived := tt.setup(t, e, &opts, source)
			rep, err := New(e.source(), func(o *Options) { *o = opts; o.Clock = clock.Real }).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := arrived()
			sort.Strings(got)
			if want := dataOf(docs); !slices.Equal(got, want) {
				t.Errorf("got %d records %v, want %d %v", len(got), got, len(want), want)
			}
			if rep.Delivered != 60 || rep.Removed != 4 || rep.Left != 0 {
				t.Errorf("got delivered %d, removed %d, left %d, want 60, 4, 0", rep.Delivered, rep.Removed, rep.Left)
			}
			if n := e.depth(t, e.dlq); n != 0 {
				t.Errorf("got %d messages on the DLQ, want 0", n)
			}
		})
	}
}

func lambdaSetup(t *testing.T, e *env, o *Options, source string) func() []string {
	fn := &lambdafn.Function{}
	o.Lambda = startFunction(t, fn, e.cfg)
	o.LambdaBatchSize = 4
	o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
	return fn.Got
}

func eventBridgeSetup(t *testing.T, e *env, o *Options, _ string) func() []string {
	ctx := context.Background()
	eb := eventbridge.NewFromConfig(e.cfg)
	bus := testkit.Name(t, "bus")
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &bus}); err != nil {
		t.Fatalf("create bus: %v", err)
	}
	sink := e.createQueue(t, "sink")
	arn := queueARN(t, e, sink)
	pattern := fmt.Sprintf(`{"source":[%q]}`, EventSource)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("all"), EventBusName: &bus, EventPattern: &pattern}); err != nil {
		t.Fatalf("put rule: %v", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("all"), EventBusName: &bus, Targets: []ebtypes.Target{{Id: aws.String("sink"), Arn: &arn}}}); err != nil {
		t.Fatalf("put targets: %v", err)
	}
	o.Events = eb
	o.Routes = []Route{{Pattern: "*", Target: "events:" + bus}}
	return func() []string {
		var out []string
		for _, m := range e.drain(t, sink) {
			var ev struct {
				DetailType string          `json:"detail-type"`
				Source     string          `json:"source"`
				Resources  []string        `json:"resources"`
				Detail     json.RawMessage `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatalf("event: %v", err)
			}
			if ev.Source != EventSource || ev.DetailType != DetailKinesisRedriven || len(ev.Resources) != 1 {
				t.Errorf("got source %q, detail-type %q, resources %v", ev.Source, ev.DetailType, ev.Resources)
			}
			out = append(out, decodeRecord(t, ev.Detail))
		}
		return out
	}
}

func sqsSetup(t *testing.T, e *env, o *Options, _ string) func() []string {
	sink := e.createQueue(t, "sink")
	o.SQS = e.sqs
	o.Routes = []Route{{Pattern: "*", Target: "sqs:" + sink}}
	return func() []string {
		var out []string
		for _, m := range e.drain(t, sink) {
			out = append(out, decodeRecord(t, []byte(aws.ToString(m.Body))))
		}
		return out
	}
}

func decodeRecord(t *testing.T, b []byte) string {
	t.Helper()
	var r batch.Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("record: %v", err)
	}
	return recordID(r)
}

func queueARN(t *testing.T, e *env, url string) string {
	t.Helper()
	arn, err := testkit.QueueARN(context.Background(), e.sqs, url)
	if err != nil {
		t.Fatal(err)
	}
	return arn
}
