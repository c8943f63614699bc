package redrive

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/streamdlq/streamdlq/internal/clock"
	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// BenchmarkConsumerThrottled redrives to the consumer target: a function behind the
// Invoke API (lambdafn, over HTTP on localhost, through the SDK's default retryer)
// whose concurrency limit refuses invocations above it with 429
// TooManyRequestsException, as reserved concurrency does. Each invocation takes
// invokeTime whatever it holds, so one slot takes at most batch/invokeTime records/s
// (500 with the default batch of 100). The live cases add the event source mapping's
// own invocations (live pollers holding a slot for invokeTime, then idle for as long
// on average, at random), which redrive can only learn about from the throttles.
//
// It reports delivered records/s, the fraction of the function's capacity used
// (redrive's records at batch/invokeTime per slot plus the live invocations' slot
// time, over concurrency × elapsed: a slot held by a half-full batch counts half)
// and the throttled fraction (records in refused invocation attempts, the SDK
// retryer's included, over all records delivered and refused).
//
//	go test -run '^$' -bench BenchmarkConsumerThrottled -benchtime 1x ./redrive/
func BenchmarkConsumerThrottled(b *testing.B) {
	const invokeTime, records = 200 * time.Millisecond, 2500 // batch: 100
	for _, c := range []struct {
		concurrency, live int
	}{{1, 0}, {1, 1}, {2, 2}} {
		name := fmt.Sprintf("concurrency=%d", c.concurrency)
		if c.live > 0 {
			name += fmt.Sprintf("/live=%d", c.live)
		}
		b.Run(name, func(b *testing.B) {
			var r consumerResult
			for b.Loop() {
				r = benchConsumer(b, c.concurrency, c.live, invokeTime, records)
			}
			b.ReportMetric(r.rate, "records/s")
			b.ReportMetric(r.used, "capacity-fraction")
			b.ReportMetric(r.throttled, "throttled-fraction")
		})
	}
}

type consumerResult struct {
	rate, used, throttled float64
}

func benchConsumer(b *testing.B, concurrency, live int, invokeTime time.Duration, records int) consumerResult {
	b.Helper()
	fn := (&lambdafn.Function{Concurrency: concurrency, Duration: invokeTime}).Start()
	defer fn.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	target := NewLambdaTarget(fn.Client(cfg), "consumer", 100)
	items := make([]*item, records)
	for i := range items {
		e, err := target.Prepare(kinesisRecord("arn:aws:kinesis:us-east-1:123456789012:stream/bench", fmt.Sprintf("k%07d", i), i, make([]byte, 100)), Origin{StreamARN: "arn:bench", ShardID: "shardId-000000000000"})
		if err != nil {
			b.Fatal(err)
		}
		items[i] = &item{rec: e.Record, entry: e}
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range live {
		wg.Go(func() { livePoller(ctx, fn, invokeTime, uint64(i)) })
	}
	d := newDeliverer(target, Throttle{Share: 1}, clock.Real, deliveryOptions{maxAttempts: 1000})
	start := time.Now()
	err := d.deliver(context.Background(), items, time.Time{})
	elapsed := time.Since(start)
	stop()
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	if d.stats.Delivered != records || len(fn.Got()) != records {
		b.Fatalf("got %d delivered (function: %d), want %d", d.stats.Delivered, len(fn.Got()), records)
	}
	s := fn.Stats()
	redriveBusy := time.Duration(records) * invokeTime / 100
	liveBusy := s.Busy - time.Duration(s.Invoked)*invokeTime
	return consumerResult{
		rate:      float64(records) / elapsed.Seconds(),
		used:      (redriveBusy + liveBusy).Seconds() / (float64(concurrency) * elapsed.Seconds()),
		throttled: float64(s.Refused) / float64(s.Refused+records),
	}
}

// livePoller plays an event source mapping's invocations: each holds a slot for
// invokeTime, then the poller idles for as long on average; a refused one is tried
// again after a short pause.
func livePoller(ctx context.Context, fn *lambdafn.Function, invokeTime time.Duration, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	for ctx.Err() == nil {
		if !fn.Hold(invokeTime) {
			time.Sleep(invokeTime / 20)
			continue
		}
		time.Sleep(time.Duration(rng.ExpFloat64() * float64(invokeTime)))
	}
}
