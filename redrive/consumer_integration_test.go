package redrive

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// TestConsumerIsTheDefaultTarget: without a route, Kinesis and DynamoDB failures alike
// go back to the function that failed, with the qualifier of its functionArn, in
// invocations no larger than the failed batch and holding one failure's records; a
// partial batch response leaves the named record and those after it for a retry.
func TestConsumerIsTheDefaultTarget(t *testing.T) {
	e := newEnv(t)
	const (
		orders = "arn:aws:lambda:us-east-1:123456789012:function:orders-consumer:live"
		carts  = "arn:aws:lambda:us-east-1:123456789012:function:carts-consumer"
	)
	kin := withConsumer(orders, kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/orders", 2, 4, 2))
	ddb := withConsumer(carts, dynamoDocs("arn:aws:dynamodb:us-east-1:123456789012:table/carts/stream/2025-01-01T00:00:00.000", 1, 3))
	e.enqueue(t, append(kin, ddb...)...)
	refused := false
	fn := &lambdafn.Function{Respond: func(ids, seqs []string) (int, string, string) {
		if !refused && len(seqs) > 2 && strings.HasPrefix(ids[0], "f") {
			refused = true
			return 200, "", fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, seqs[2])
		}
		return 200, "", ""
	}}
	rep, err := New(e.source(), func(o *Options) {
		o.Lambda, o.LambdaBatchSize = startFunction(t, fn, e.cfg), 100
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 3 || rep.Left != 0 || rep.NoRoute != 0 {
		t.Errorf("got %d removed, %d left, %d without route, want 3, 0, 0", rep.Removed, rep.Left, rep.NoRoute)
	}
	all := append(dataOf(kin), dataOf(ddb)...)
	slices.Sort(all)
	if got := sorted(fn.Got()); !slices.Equal(got, all) {
		t.Errorf("got %v, want %v, each once", got, all)
	}
	for i, inv := range fn.Invocations() {
		f := inv.Function
		if f != orders && f != carts {
			t.Errorf("invocation %d went to %s, want %s or %s", i, f, orders, carts)
		}
		if max := map[string]int{orders: 4, carts: 3}[f]; inv.Records > max {
			t.Errorf("invocation %d of %s held %d records, want at most the failed batch's %d", i, f, inv.Records, max)
		}
	}
	if !refused || fn.Calls() != 4 {
		t.Errorf("got %d invocations (partial response sent: %v), want 4: one per failure and the retry of the refused rest", fn.Calls(), refused)
	}
}

// TestUnroutableFailuresStay: a failure naming no consumer, and a DynamoDB failure
// routed to Kinesis, are refused with a clear reason, counted and left queued.
func TestUnroutableFailuresStay(t *testing.T) {
	e := newEnv(t)
	pipe := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/orders", 1, 2, 1)
	ddb := withConsumer("arn:aws:lambda:us-east-1:123456789012:function:carts", dynamoDocs("arn:aws:dynamodb:us-east-1:123456789012:table/carts/stream/2025-01-01T00:00:00.000", 1, 2))
	e.enqueue(t, append(pipe, ddb...)...)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	fn := &lambdafn.Function{}
	rep, err := New(e.source(), func(o *Options) {
		o.Lambda, o.Kinesis = startFunction(t, fn, cfg), e.kinesis
		o.Routes = []Route{{Pattern: "carts", Target: SpecSource}}
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.NoRoute != 2 || rep.Kept != 2 || fn.Calls() != 0 {
		t.Errorf("got %d without route, %d kept, %d invocations, want 2, 2, 0", rep.NoRoute, rep.Kept, fn.Calls())
	}
	for _, want := range []error{ErrNoConsumer, ErrDynamoDBToKinesis} {
		if !slices.Contains(rep.Errors, want.Error()) {
			t.Errorf("got errors %q, want %q among them", rep.Errors, want)
		}
	}
	if n := e.depth(t, e.dlq); n != 2 {
		t.Errorf("got %d messages on the DLQ, want both kept", n)
	}
}

// TestConsumerFiltersReapplied: the consumer's mapping filters its records, so the
// re-invoke carries only those that pass; the others count as done. A pattern with an
// operator this package does not implement refuses the failure instead.
func TestConsumerFiltersReapplied(t *testing.T) {
	const consumer = "arn:aws:lambda:us-east-1:123456789012:function:orders-consumer"
	mapping := func(pattern string) string {
		b, _ := json.Marshal(map[string]any{"EventSourceMappings": []any{map[string]any{
			"FunctionArn": consumer, "FilterCriteria": map[string]any{"Filters": []any{map[string]any{"Pattern": pattern}}},
		}}})
		return string(b)
	}
	tests := map[string]struct {
		pattern                 string
		wantSent                []string
		wantRemoved, wantNoSend bool
	}{
		"passing records only": {pattern: `{"data":{"keep":[true]}}`, wantSent: []string{`{"keep":true,"n":0}`, `{"keep":true,"n":2}`}, wantRemoved: true},
		"unknown operator":     {pattern: `{"data":{"keep":[{"wildcard":"*"}]}}`, wantNoSend: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			docs := withConsumer(consumer, kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/orders", 1, 3, 1))
			for i, r := range docs[0].Records {
				r.Kinesis.Kinesis.Data = fmt.Appendf(nil, `{"keep":%v,"n":%d}`, i%2 == 0, i)
			}
			e.enqueue(t, docs...)
			fn := &lambdafn.Function{Mappings: mapping(tt.pattern)}
			lc := startFunction(t, fn, e.cfg)
			rep, err := New(e.source(), func(o *Options) { o.Lambda, o.Mappings = lc, lc }).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := fn.Got(); !slices.Equal(got, tt.wantSent) {
				t.Errorf("got %q at the consumer, want %q", got, tt.wantSent)
			}
			if tt.wantRemoved && (rep.Removed != 1 || rep.FilteredOut != 1) {
				t.Errorf("got removed %d, filtered out %d, want 1, 1", rep.Removed, rep.FilteredOut)
			}
			if tt.wantNoSend && (rep.Kept != 1 || len(rep.Errors) == 0 || !strings.Contains(rep.Errors[0], `operator "wildcard" is not supported`)) {
				t.Errorf("got kept %d, errors %q, want the failure kept and the operator named", rep.Kept, rep.Errors)
			}
		})
	}
}
