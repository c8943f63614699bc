package redrive

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// TestHeartbeatKeepsMessagesHidden: a message worked on for longer than its
// visibility timeout stays hidden from other consumers, and is delivered once.
func TestHeartbeatKeepsMessagesHidden(t *testing.T) {
	e := newEnv(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stolen atomic.Int32
	var once sync.Once
	poll := func() { // another consumer, from the moment the run holds the message
		for ctx.Err() == nil {
			out, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &e.dlq})
			if err == nil && len(out.Messages) > 0 {
				stolen.Add(1)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	fn := &lambdafn.Function{Respond: func([]string, []string) (int, string, string) {
		once.Do(func() { go poll() })
		time.Sleep(1500 * time.Millisecond)
		return 200, "", ""
	}}
	docs := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 1, 4, 2)
	e.enqueue(t, docs...)
	rep, err := New(e.source(func(o *SQSSourceOptions) { o.VisibilityTimeout = time.Second }), func(o *Options) {
		o.Lambda, o.LambdaBatchSize = startFunction(t, fn, e.cfg), 2
		o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
	}).Run(context.Background())
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("got the message received %d times by another consumer during the run, want 0", n)
	}
	if rep.Removed != 1 || len(fn.Got()) != 4 {
		t.Errorf("got %d removed, %d delivered, want 1, 4", rep.Removed, len(fn.Got()))
	}
}

// TestTimeBudget: when the budget or ctx's deadline less the safety margin comes, the
// run stops taking work, hands back the undelivered rest and returns normally.
func TestTimeBudget(t *testing.T) {
	tests := map[string]struct {
		budget, timeout, margin time.Duration
	}{
		"budget":                 {budget: 1200 * time.Millisecond, margin: time.Second},
		"deadline less a margin": {timeout: 3 * time.Second, margin: 1800 * time.Millisecond},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			fn := &lambdafn.Function{Respond: func([]string, []string) (int, string, string) {
				time.Sleep(400 * time.Millisecond)
				return 200, "", ""
			}}
			docs := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 1, 12, 2)
			e.enqueue(t, docs...)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			rep, err := New(e.source(), func(o *Options) {
				o.Lambda, o.LambdaBatchSize = startFunction(t, fn, e.cfg), 2
				o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
				o.Budget, o.SafetyMargin = tt.budget, tt.margin
			}).Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Stopped != StoppedTimeBudget || rep.Replaced != 1 {
				t.Errorf("got stopped %q, replaced %d, want %q, 1", rep.Stopped, rep.Replaced, StoppedTimeBudget)
			}
			if rep.Delivered == 0 || rep.Delivered+rep.Left != 12 || len(fn.Got()) != rep.Delivered {
				t.Errorf("got delivered %d (function: %d), left %d, want some delivered and the rest left", rep.Delivered, len(fn.Got()), rep.Left)
			}
		})
	}
}

// TestDeadlineInTheMiddleOfACall: a call still running when the run's budget (plus
// half the margin) is spent is cut; only its own failure stays queued, untouched,
// while the failure delivered before it was deleted as soon as it was done, without
// waiting for the round to end.
func TestDeadlineInTheMiddleOfACall(t *testing.T) {
	e := newEnv(t)
	docs := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 2, 3, 1)
	e.enqueue(t, docs...)
	calls := 0
	var deletedMidCall atomic.Bool
	fn := &lambdafn.Function{Respond: func([]string, []string) (int, string, string) {
		if calls++; calls == 1 {
			return 200, "", ""
		}
		for range 20 {
			if e.depth(t, e.dlq) == 1 {
				deletedMidCall.Store(true)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(2500 * time.Millisecond)
		return 200, "", ""
	}}
	rep, err := New(e.source(), func(o *Options) {
		o.Lambda = startFunction(t, fn, e.cfg)
		o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
		o.Budget, o.SafetyMargin = 500*time.Millisecond, 2*time.Second
	}).Run(context.Background())
	if err != nil {
		t.Fatalf("got %v, want a normal end: a cut call is not a cancelled run", err)
	}
	if rep.Removed != 1 || rep.Kept != 1 || rep.Delivered != 3 || rep.Left != 3 || rep.Stopped != StoppedTimeBudget {
		t.Errorf("got removed %d, kept %d, delivered %d, left %d, stopped %q, want 1, 1, 3, 3, %q", rep.Removed, rep.Kept, rep.Delivered, rep.Left, rep.Stopped, StoppedTimeBudget)
	}
	if !deletedMidCall.Load() {
		t.Error("the delivered failure was still on the DLQ during the next call, want it deleted as soon as done")
	}
	if n := e.depth(t, e.dlq); n != 1 {
		t.Errorf("got %d messages on the DLQ, want the cut failure's only", n)
	}
}
