package redrive

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
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
	fn := &fakeFunction{respond: func([]string, []string) (int, string, string) {
		once.Do(func() { go poll() })
		time.Sleep(1500 * time.Millisecond)
		return 200, "", ""
	}}
	docs := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 1, 4, 2)
	e.enqueue(t, docs...)
	rep, err := New(e.source(func(o *SQSSourceOptions) { o.VisibilityTimeout = time.Second }), func(o *Options) {
		o.Lambda, o.LambdaBatchSize = fn.client(t, e.cfg), 2
		o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
	}).Run(context.Background())
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("got the message received %d times by another consumer during the run, want 0", n)
	}
	if rep.Removed != 1 || len(fn.got()) != 4 {
		t.Errorf("got %d removed, %d delivered, want 1, 4", rep.Removed, len(fn.got()))
	}
}

// TestTimeBudget: when the budget or ctx's deadline less the safety margin comes, the
// run stops taking work, hands back the undelivered rest and returns normally.
func TestTimeBudget(t *testing.T) {
	tests := map[string]struct {
		budget, timeout, margin time.Duration
	}{
		"budget":                 {budget: 1200 * time.Millisecond},
		"deadline less a margin": {timeout: 3 * time.Second, margin: 1800 * time.Millisecond},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			fn := &fakeFunction{respond: func([]string, []string) (int, string, string) {
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
				o.Lambda, o.LambdaBatchSize = fn.client(t, e.cfg), 2
				o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
				o.Budget, o.SafetyMargin = tt.budget, tt.margin
			}).Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Stopped != StoppedTimeBudget || rep.Replaced != 1 {
				t.Errorf("got stopped %q, replaced %d, want %q, 1", rep.Stopped, rep.Replaced, StoppedTimeBudget)
			}
			if rep.Delivered == 0 || rep.Delivered+rep.Left != 12 || len(fn.got()) != rep.Delivered {
				t.Errorf("got delivered %d (function: %d), left %d, want some delivered and the rest left", rep.Delivered, len(fn.got()), rep.Left)
			}
		})
	}
}
