package redrive

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/kinesislimit"
)

// simResult is what a simulated redrive achieved after warm-up.
type simResult struct {
	fraction  float64 // admitted records / what the shards could take
	throttled float64 // refused entries / entries sent
	calls     int
	elapsed   time.Duration
}

// simulate redrives seconds' worth of the stream's capacity in records of dataBytes
// to a simulated stream (share 1.0, so the controller may use all of it) and measures
// from warmup on.
func simulate(t testing.TB, shards, dataBytes int, seconds float64, warmup time.Duration) simResult {
	t.Helper()
	clock := newSimClock()
	api, lim := simStream(clock, shards, 20*time.Millisecond)
	ctx := context.Background()
	target, err := NewKinesisTarget(ctx, api, "arn:aws:kinesis:us-east-1:123456789012:stream/sim")
	if err != nil {
		t.Fatal(err)
	}
	d := newDeliverer(target, Throttle{Share: 1}, clock, deliveryOptions{})
	perShard := shardCapacityFor(dataBytes + 8)
	n := int(perShard * float64(shards) * seconds)
	items := make([]*item, n)
	data := make([]byte, dataBytes)
	for i := range items {
		e, err := target.Prepare(kinesisRecord("arn:sim", fmt.Sprintf("k%07d", i), i, data), Origin{})
		if err != nil {
			t.Fatal(err)
		}
		items[i] = &item{rec: e.Record, entry: e}
	}
	start := clock.Now()
	if err := d.deliver(ctx, items, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d.stats.Delivered != n {
		t.Fatalf("delivered %d, want %d", d.stats.Delivered, n)
	}
	r := measure(lim.Events(), start.Add(warmup), perShard*float64(shards))
	r.calls = d.stats.Calls
	r.elapsed = clock.Now().Sub(start)
	return r
}

// shardCapacityFor is how many records of size bytes a shard takes per second.
func shardCapacityFor(size int) float64 {
	return math.Min(kinesislimit.RecordsPerSecond, float64(kinesislimit.BytesPerSecond/size))
}

// measure rates the admission events from `from` to the last admitted record.
func measure(events []kinesislimit.Event, from time.Time, capacity float64) simResult {
	var admitted, refused int
	var last time.Time
	for _, e := range events {
		if e.At.Before(from) {
			continue
		}
		if e.Admitted {
			admitted++
			last = e.At
		} else {
			refused++
		}
	}
	span := last.Sub(from).Seconds()
	if span <= 0 || admitted+refused == 0 {
		return simResult{}
	}
	return simResult{
		fraction:  float64(admitted) / (capacity * span),
		throttled: float64(refused) / float64(admitted+refused),
	}
}

func TestControllerNearCapacity(t *testing.T) {
	tests := map[string]struct {
		shards, dataBytes int
	}{
		"1 shard, record-bound":  {shards: 1, dataBytes: 100},
		"4 shards, record-bound": {shards: 4, dataBytes: 100},
		"1 shard, byte-bound":    {shards: 1, dataBytes: 4000},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := simulate(t, tt.shards, tt.dataBytes, 20, 5*time.Second)
			t.Logf("%.3f of capacity, %.4f throttled, %d calls in %v", r.fraction, r.throttled, r.calls, r.elapsed)
			if r.fraction < 0.90 || r.fraction > 1.001 {
				t.Errorf("got %.3f of capacity, want 0.90..1", r.fraction)
			}
			if r.throttled > 0.05 {
				t.Errorf("got %.3f throttled, want <= 0.05", r.throttled)
			}
		})
	}
}

// BenchmarkControllerSimulated measures how close the rate controller gets to a
// stream's write limit on a simulated clock (20ms per call), so the figures repeat
// exactly from run to run.
func BenchmarkControllerSimulated(b *testing.B) {
	for _, shards := range []int{1, 4} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			var r simResult
			for b.Loop() {
				r = simulate(b, shards, 100, 30, 5*time.Second)
			}
			b.ReportMetric(r.fraction, "capacity-fraction")
			b.ReportMetric(r.throttled, "throttled-fraction")
			b.ReportMetric(float64(r.calls)/r.elapsed.Seconds(), "calls/sim-s")
		})
	}
	// A live producer takes 40% of the shard and redrive holds no share back: the
	// throttles alone must find the rest.
	b.Run("shards=1/live=40%", func(b *testing.B) {
		var rate, throttled float64
		for b.Loop() {
			rate, throttled, _ = simulateLive(b, 400)
		}
		b.ReportMetric(rate/600, "leftover-fraction")
		b.ReportMetric(throttled, "throttled-fraction")
	})
}

// TestControllerBacksOffForLiveProducers: with a live producer writing 40% of a
// shard's limit and no share held back, only the throttles tell the controller to
// slow down; it must settle below what is left without starving itself.
func TestControllerBacksOffForLiveProducers(t *testing.T) {
	rate, throttled, calls := simulateLive(t, 400)
	t.Logf("%.0f records/s, %.3f throttled, %d calls", rate, throttled, calls)
	if rate < 0.75*600 {
		t.Errorf("got %.0f records/s, want >= %.0f", rate, 0.75*600)
	}
	if throttled > 0.10 {
		t.Errorf("got %.3f throttled, want <= 0.10", throttled)
	}
}

// simulateLive redrives 20 s worth of what a live producer writing live records/s
// leaves of one shard, and returns the rate redrive got and its throttled fraction.
func simulateLive(t testing.TB, live int) (rate, throttled float64, calls int) {
	t.Helper()
	clock := newSimClock()
	api, lim := simStream(clock, 1, 20*time.Millisecond)
	catchUp := livePutter(clock, lim, live)
	put := api.putRecords
	api.putRecords = func(ctx context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		catchUp()
		return put(ctx, in)
	}
	ctx := context.Background()
	target, err := NewKinesisTarget(ctx, api, "arn:aws:kinesis:us-east-1:123456789012:stream/sim")
	if err != nil {
		t.Fatal(err)
	}
	d := newDeliverer(target, Throttle{Share: 1}, clock, deliveryOptions{maxAttempts: 1000})
	items := make([]*item, 20*(1000-live))
	for i := range items {
		e, _ := target.Prepare(kinesisRecord("arn:sim", fmt.Sprintf("k%07d", i), i, make([]byte, 100)), Origin{})
		items[i] = &item{rec: e.Record, entry: e}
	}
	start := clock.Now()
	if err := d.deliver(ctx, items, time.Time{}); err != nil {
		t.Fatal(err)
	}
	rate = float64(d.stats.Delivered) / clock.Now().Sub(start).Seconds()
	throttled = float64(d.stats.Throttled) / float64(d.stats.Throttled+d.stats.Delivered)
	return rate, throttled, d.stats.Calls
}

// livePutter returns a func that catches a live producer up to the simulated clock,
// writing perSecond records of 100 bytes spread evenly.
func livePutter(clock *testkit.SimClock, lim *kinesislimit.Limiter, perSecond int) func() {
	last := clock.Now()
	step := time.Second / time.Duration(perSecond)
	return func() {
		for ; !last.Add(step).After(clock.Now()); last = last.Add(step) {
			lim.Admit("live", "", 104)
		}
	}
}
