package redrive

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/kinesislimit"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// BenchmarkKinesisThrottled redrives into kinesis-local behind kinesislimit (each
// shard takes at most 1,000 records and 1 MiB in any second, refusing the excess per
// record) and reports, after warm-up, the delivered rate as a fraction of the shards'
// capacity and the fraction of entries throttled. Share is 1.0: the benchmark measures
// how close the controller gets to the limit.
//
// The records are 16 KiB, so the byte limit binds (64 records/s per shard):
// kinesis-local cannot take 1,000 records/s per shard for long, as each PutRecords
// costs it time in proportion to the records already in the shard (about 3ms per
// record once a shard holds 2,500). The record limit is measured on the simulated
// clock (BenchmarkControllerSimulated).
//
//	scripts/localaws.sh run go test -run '^$' -bench BenchmarkKinesisThrottled ./redrive/
func BenchmarkKinesisThrottled(b *testing.B) {
	for _, c := range []struct {
		shards  int32
		discard bool
		// blind sets the ceiling to twice the capacity, so that only the throttles
		// tell the controller where the limit is.
		blind bool
	}{{1, false, false}, {4, false, false}, {1, true, false}, {4, true, false}, {1, true, true}} {
		shards := c.shards
		name := fmt.Sprintf("shards=%d/sink=kinesis-local", shards)
		if c.discard {
			name = fmt.Sprintf("shards=%d/sink=discard", shards)
		}
		th := Throttle{Share: 1}
		if c.blind {
			name += "/ceiling=2x"
			th.Ceiling = Rate{Records: 2 * kinesislimit.RecordsPerSecond, Bytes: 2 * kinesislimit.BytesPerSecond}.scale(float64(shards))
		}
		b.Run(name, func(b *testing.B) {
			const seconds, warmup, size = 20, 6 * time.Second, 16<<10 - 8
			cfg := testkit.Config(b, testkit.Kinesis)
			e := &env{cfg: cfg, kinesis: kinesis.NewFromConfig(cfg)}
			arn := e.createStream(b, shards)
			client, lim := e.limited(b, arn, nil, c.discard)
			ctx := context.Background()
			target, err := NewKinesisTarget(ctx, client, arn)
			if err != nil {
				b.Fatal(err)
			}
			capacity := shardCapacityFor(size+8) * float64(shards)
			var r simResult
			for i := 0; i < b.N; i++ {
				d := newDeliverer(target, th, clock.Real, deliveryOptions{})
				items := make([]*item, int(capacity*seconds))
				for j := range items {
					e, err := target.Prepare(kinesisRecord(arn, fmt.Sprintf("k%07d", j), j, make([]byte, size)), Origin{})
					if err != nil {
						b.Fatal(err)
					}
					items[j] = &item{rec: e.Record, entry: e}
				}
				start := time.Now()
				if err := d.deliver(ctx, items, time.Time{}); err != nil {
					b.Fatal(err)
				}
				if d.stats.Delivered != len(items) {
					b.Fatalf("got %d delivered, want %d", d.stats.Delivered, len(items))
				}
				r = measure(lim.Events(), start.Add(warmup), capacity)
				r.calls, r.elapsed = d.stats.Calls, time.Since(start)
			}
			b.ReportMetric(r.fraction, "capacity-fraction")
			b.ReportMetric(r.throttled, "throttled-fraction")
			b.ReportMetric(float64(r.calls)/r.elapsed.Seconds(), "calls/s")
		})
	}
}
