package redrive

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// TestKinesisOrderUnderInjectedFailures: with a quarter of the entries failing per
// record (throttled or InternalFailure) in front of kinesis-local, every record is
// written once and each key's records of a failure are in the stream in order.
func TestKinesisOrderUnderInjectedFailures(t *testing.T) {
	e := newEnv(t)
	arn := e.createStream(t, 2)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(7, 7))
	client, _ := e.limited(t, arn, func(string, []byte) string {
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() < 0.25 {
			return []string{"ProvisionedThroughputExceededException", "InternalFailure"}[rng.IntN(2)]
		}
		return ""
	}, false)
	docs := kinesisDocs(arn, 6, 30, 5)
	e.enqueue(t, docs...)
	// Random throttles say nothing about capacity; recover fast so the test is quick.
	rep, err := New(e.source(), func(o *Options) {
		o.Kinesis, o.MaxAttempts, o.Throttle = client, 100, Throttle{Share: 1, Increase: 5}
		o.Routes = []Route{{Pattern: "*", Target: SpecSource}}
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := e.readStream(t, arn)
	var data []string
	perKey := map[string][]string{}
	for _, w := range got {
		data = append(data, w.data)
		perKey[w.key] = append(perKey[w.key], w.data)
	}
	sort.Strings(data)
	if want := dataOf(docs); !slices.Equal(data, want) {
		t.Errorf("got %d records, want %d, each once", len(data), len(want))
	}
	for key, list := range perKey {
		if !inFailureOrder(list) {
			t.Errorf("key %s: got %v, want each failure's records in order", key, list)
		}
	}
	t.Logf("%+v", rep.Targets)
	t.Logf("elapsed %v", rep.Elapsed)
	if rep.Throttled == 0 || rep.Retried == 0 {
		t.Errorf("got %d throttled, %d retried, want failures injected", rep.Throttled, rep.Retried)
	}
}

// inFailureOrder reports whether the records of each failure ("f<i>/r<j>") appear in
// ascending j. The order across failures is the DLQ's, which SQS does not fix.
func inFailureOrder(list []string) bool {
	last := map[string]string{}
	for _, d := range list {
		f, r, _ := strings.Cut(d, "/")
		if r <= last[f] {
			return false
		}
		last[f] = r
	}
	return true
}

// flaky fails a batch from its 6th record on the first time that record is seen, so
// messages are partly delivered and replaced.
func flaky() func(ids, seqs []string) (int, string, string) {
	seen := map[string]bool{}
	return func(ids, seqs []string) (int, string, string) {
		for i, id := range ids {
			if strings.HasSuffix(id, "/r005") && !seen[id] {
				seen[id] = true
				return 200, "", fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, seqs[i])
			}
		}
		return 200, "", ""
	}
}

// TestDeletedOnlyAfterDelivery watches every DeleteMessage: the message's records must
// all have reached the function, or the ones that had not must be in a replacement
// sent before.
func TestDeletedOnlyAfterDelivery(t *testing.T) {
	e := newEnv(t)
	fn := &lambdafn.Function{Respond: flaky()}
	lc := startFunction(t, fn, e.cfg)
	w := &sqsWatch{t: t, e: e, fn: fn, received: map[string]string{}}
	watched := sqs.NewFromConfig(e.cfg, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, w.add) })
	docs := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 5, 12, 4)
	e.enqueue(t, docs...)
	src := NewSQSSource(watched, e.s3, archive.NewQueue(watched, func(o *archive.QueueOptions) { o.URL, o.Archive = e.dlq, e.archive }),
		func(o *SQSSourceOptions) {
			o.URL, o.ParkURL, o.Bucket, o.Prefix, o.WaitTime = e.dlq, e.park, e.bucket, "failures", 0
		})
	run := func() Report {
		rep, err := New(src, func(o *Options) {
			o.Lambda, o.LambdaBatchSize, o.MaxAttempts = lc, 4, 1
			o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
		}).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := run(); w.deletes == 0 || rep.Replaced == 0 {
		t.Fatalf("got %d deletes, %d replaced, want both", w.deletes, rep.Replaced)
	}
	// The replacements wait for the next run.
	if rep := run(); rep.Removed != 5 {
		t.Errorf("got %d removed in the second run, want 5", rep.Removed)
	}
	if got, want := sorted(fn.Got()), dataOf(docs); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v, each once", got, want)
	}
}

// sqsWatch checks deletes against what was delivered and what was queued again.
type sqsWatch struct {
	t        *testing.T
	e        *env
	fn       *lambdafn.Function
	mu       sync.Mutex
	received map[string]string // receipt handle → body
	requeued map[string]bool   // records queued again in replacements
	deletes  int
}

func (w *sqsWatch) add(s *middleware.Stack) error {
	return testkit.Middleware("watch", func(ctx context.Context, c testkit.Call, next testkit.Next) (any, error) {
		switch p := c.Params.(type) {
		case *sqs.DeleteMessageInput:
			w.checkDelete(ctx, aws.ToString(p.ReceiptHandle))
		case *sqs.SendMessageInput:
			w.noteRequeue(ctx, aws.ToString(p.MessageBody))
		}
		res, err := next(ctx, c.Params)
		if r, ok := res.(*sqs.ReceiveMessageOutput); ok && err == nil {
			w.mu.Lock()
			for _, m := range r.Messages {
				w.received[aws.ToString(m.ReceiptHandle)] = aws.ToString(m.Body)
			}
			w.mu.Unlock()
		}
		return res, err
	})(s)
}

func (w *sqsWatch) noteRequeue(ctx context.Context, body string) {
	doc, err := archive.DecodeMessage(ctx, w.e.s3, w.e.bucket, body)
	if err != nil {
		w.t.Errorf("replacement: %v", err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.requeued == nil {
		w.requeued = map[string]bool{}
	}
	for _, r := range doc.Records {
		w.requeued[recordID(r)] = true
	}
}

func (w *sqsWatch) checkDelete(ctx context.Context, handle string) {
	w.mu.Lock()
	body := w.received[handle]
	w.deletes++
	requeued := w.requeued
	w.mu.Unlock()
	doc, err := archive.DecodeMessage(ctx, w.e.s3, w.e.bucket, body)
	if err != nil {
		w.t.Errorf("deleted message: %v", err)
		return
	}
	delivered := map[string]bool{}
	for _, id := range w.fn.Got() {
		delivered[id] = true
	}
	for _, r := range doc.Records {
		if id := recordID(r); !delivered[id] && !requeued[id] {
			w.t.Errorf("message deleted while record %s was neither delivered nor queued again", id)
		}
	}
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

// TestCrashLosesNothing cancels the run right after its k-th AWS call (SQS or Lambda),
// for every k of a whole run, then lets a fresh run finish: every record must have
// reached the function, and the DLQ must end empty.
func TestCrashLosesNothing(t *testing.T) {
	calls := crashRun(t, newEnv(t), 0)
	if calls < 5 {
		t.Fatalf("got %d calls in a whole run, want more", calls)
	}
	for k := 1; k <= calls; k++ {
		t.Run(fmt.Sprintf("after call %d of %d", k, calls), func(t *testing.T) {
			t.Parallel()
			crashRun(t, newEnv(t), int64(k))
		})
	}
}

// crashRun redrives 2 failures, crashing after call k (never when k is 0), then
// recovers; it returns the calls the first run made.
func crashRun(t *testing.T, e *env, k int64) int {
	fn := &lambdafn.Function{Respond: flaky()}
	docs := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 2, 8, 3)
	e.enqueue(t, docs...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	crash := func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("crash", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleFinalize(ctx, in)
			if n.Add(1) == k {
				cancel()
			}
			return out, md, err
		}), middleware.After)
	}
	run := func(ctx context.Context, stack func(*middleware.Stack) error) error {
		c := sqs.NewFromConfig(e.cfg, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, stack) })
		lc := startFunction(t, fn, e.cfg)
		lc = lambda.New(lc.Options(), func(o *lambda.Options) { o.APIOptions = append(o.APIOptions, stack) })
		src := NewSQSSource(c, e.s3, archive.NewQueue(c, func(o *archive.QueueOptions) { o.URL, o.Archive = e.dlq, e.archive }),
			func(o *SQSSourceOptions) {
				o.URL, o.ParkURL, o.Bucket, o.Prefix = e.dlq, e.park, e.bucket, "failures"
				o.VisibilityTimeout, o.WaitTime = time.Second, 0
			})
		_, err := New(src, func(o *Options) {
			o.Lambda, o.LambdaBatchSize, o.MaxAttempts = lc, 3, 1
			o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
		}).Run(ctx)
		return err
	}
	err := run(ctx, crash)
	if k == 0 && err != nil {
		t.Fatal(err)
	}
	recover := func(s *middleware.Stack) error { return nil }
	for i := 0; e.depth(t, e.dlq) > 0 && i < 10; i++ {
		time.Sleep(1100 * time.Millisecond) // let the crashed run's messages become visible
		if err := run(context.Background(), recover); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	for _, id := range fn.Got() {
		got[id] = true
	}
	for _, id := range dataOf(docs) {
		if !got[id] {
			t.Errorf("record %s was lost", id)
		}
	}
	if d := e.depth(t, e.dlq); d != 0 {
		t.Errorf("got %d messages left on the DLQ, want 0", d)
	}
	if d := e.depth(t, e.park); d != 0 {
		t.Errorf("got %d parked messages, want 0", d)
	}
	return int(n.Load())
}
