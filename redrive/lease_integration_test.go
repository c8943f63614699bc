package redrive

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// TestLeaseKeepsOneRedrivePerSource: while one redrive holds a queue's lease, a
// second one stops at once, naming the holder, and reads nothing; once released, or
// once its holder's lease has expired, the source can be taken.
func TestLeaseKeepsOneRedrivePerSource(t *testing.T) {
	e := newEnv(t)
	e.enqueue(t, kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 1, 2, 1)...)
	ctx := context.Background()
	source := "sqs:" + e.dlq
	lease := func(holder string) *Lease { return NewLease(e.s3, e.bucket, "failures", source, holder, time.Minute) }
	fn := &lambdafn.Function{}
	lc := startFunction(t, fn, e.cfg)
	run := func(l *Lease) (Report, error) {
		return New(e.source(), func(o *Options) {
			o.Lambda, o.Lease = lc, l
			o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
		}).Run(ctx)
	}
	cli := lease("the operator's CLI")
	if err := cli.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := run(lease("the scheduled function"))
	var held *LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "the operator's CLI" || rep.Stopped != StoppedLeased || rep.Messages != 0 {
		t.Fatalf("got %v (stopped %q, %d messages), want a *LeaseHeldError naming the CLI and nothing read", err, rep.Stopped, rep.Messages)
	}
	if err := cli.release(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err := run(lease("the scheduled function")); err != nil || rep.Removed != 1 {
		t.Fatalf("after release: got %d removed (%v), want 1", rep.Removed, err)
	}
	crashed := lease("a crashed CLI")
	if err := crashed.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	crashed.now = func() time.Time { return time.Now().Add(-time.Hour) }
	if err := crashed.put(ctx, crashed.etag); err != nil { // its lease ran out long ago
		t.Fatal(err)
	}
	if _, err := run(lease("the scheduled function")); err != nil {
		t.Errorf("got %v, want an expired lease taken over", err)
	}
}
