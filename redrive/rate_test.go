package redrive

import (
	"testing"
	"time"
)

func TestControllerAIMD(t *testing.T) {
	ceiling := Rate{Records: 1000, Bytes: 1 << 20}
	tests := map[string]struct {
		steps func(c *controller, t0 time.Time)
		want  float64 // fraction of the ceiling
	}{
		"starts at half the ceiling": {steps: func(*controller, time.Time) {}, want: 0.5},
		"one cut per round trip": {steps: func(c *controller, t0 time.Time) {
			c.throttled(t0, t0.Add(10*time.Millisecond))
			c.throttled(t0, t0.Add(20*time.Millisecond)) // same call's news: ignored
		}, want: 0.4},
		"a later call cuts again": {steps: func(c *controller, t0 time.Time) {
			c.throttled(t0, t0.Add(10*time.Millisecond))
			c.throttled(t0.Add(15*time.Millisecond), t0.Add(30*time.Millisecond))
		}, want: 0.32},
		"increases while rate-limited": {steps: func(c *controller, t0 time.Time) {
			c.succeeded(t0.Add(2*time.Second), true)
		}, want: 0.7},
		"not while idle": {steps: func(c *controller, t0 time.Time) {
			c.succeeded(t0.Add(2*time.Second), false)
		}, want: 0.5},
		"never above the ceiling": {steps: func(c *controller, t0 time.Time) {
			c.succeeded(t0.Add(time.Minute), true)
		}, want: 1},
		"never stops": {steps: func(c *controller, t0 time.Time) {
			for i := range 100 {
				at := t0.Add(time.Duration(i) * time.Second)
				c.throttled(at, at)
			}
		}, want: minFraction},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t0 := time.Unix(1000, 0)
			c := newController(Throttle{Ceiling: ceiling}, t0)
			tt.steps(c, t0)
			if got := c.fraction; got < tt.want-1e-9 || got > tt.want+1e-9 {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestControllerWindow: however long a lane was idle, it never sends more than one
// second of its rate within one second.
func TestControllerWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := newController(Throttle{Start: Rate{100, 1 << 20}, Ceiling: Rate{100, 1 << 20}, Burst: 5 * time.Second}, t0)
	sent := 0
	for ms := 0; ms < 1000; ms += 10 {
		c.refill(t0.Add(time.Duration(ms) * time.Millisecond))
		for c.canTake(10) {
			c.take(10)
			sent++
		}
	}
	if sent != 100 {
		t.Errorf("got %d records in the first second, want 100", sent)
	}
	q := c.quantum(10, 100)
	if w := c.wait(q); w <= 0 {
		t.Errorf("got wait %v with a full window, want > 0", w)
	}
}

func TestControllerByteDebt(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := newController(Throttle{Start: Rate{1000, 1000}, Ceiling: Rate{1000, 1000}}, t0)
	if !c.canTake(5000) {
		t.Fatalf("got a record larger than the bucket refused, want it sent once the bucket is positive")
	}
	c.take(5000)
	c.refill(t0.Add(time.Second))
	if c.canTake(1) {
		t.Errorf("got a record taken while the byte debt is unpaid, want none")
	}
}

// TestLaneCeiling: a shard's ceiling is the configured ceiling's share of the open
// shards, never above the shard's capacity times the share left to the redrive.
func TestLaneCeiling(t *testing.T) {
	shards := make([]hashRange, 4)
	target := &KinesisTarget{streamARN: "arn:aws:kinesis:us-east-1:1:stream/s", shards: shards, capacity: Rate{1000, 1 << 20}}
	tests := map[string]struct {
		ceiling Rate
		want    Rate
	}{
		"none configured":     {want: Rate{500, 1 << 19}},
		"above the capacity":  {ceiling: Rate{100000, 1 << 30}, want: Rate{500, 1 << 19}},
		"below the capacity":  {ceiling: Rate{1000, 1 << 20}, want: Rate{250, 1 << 18}},
		"records only, lower": {ceiling: Rate{Records: 400}, want: Rate{100, 1 << 19}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := newDeliverer(target, Throttle{Ceiling: tt.ceiling, Share: 0.5}, newSimClock(), deliveryOptions{})
			for i, l := range d.lanes {
				if l.cfg.Ceiling != tt.want {
					t.Errorf("lane %d: got %+v, want %+v", i, l.cfg.Ceiling, tt.want)
				}
			}
		})
	}
}
