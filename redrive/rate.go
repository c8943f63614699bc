package redrive

import (
	"math"
	"time"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// Clock is the time source of the rate controller and the delivery loop: the one
// clock.Clock, the wall clock by default. Tests and the simulated-clock benchmark
// replace it so runs are repeatable.
type Clock = clock.Clock

// Rate is a throughput in records and bytes per second.
type Rate struct {
	Records float64
	Bytes   float64
}

func (r Rate) scale(f float64) Rate { return Rate{r.Records * f, r.Bytes * f} }

// Throttle configures the adaptive rate of one target (for Kinesis: of each open shard,
// the stream's figures being split evenly).
type Throttle struct {
	// Start is the rate the target starts at; zero means half the ceiling.
	Start Rate
	// Ceiling is never exceeded. For a Kinesis target a zero ceiling is computed from
	// the stream's open shards times Share; other targets need one.
	Ceiling Rate
	// Share is the part of a Kinesis stream's capacity redrive may use, the rest being
	// left to live producers; default 0.5.
	Share float64
	// Increase is added to the rate per second of throttle-free, rate-limited sending,
	// as a fraction of the ceiling; default 0.1.
	Increase float64
	// Decrease multiplies the rate on a throttling signal; default 0.8.
	Decrease float64
	// Burst is how much unused rate may be saved up, in time at the current rate;
	// default 200ms. A shard's limit is enforced over a 1-second window, so a burst
	// adds directly to what that window sees.
	Burst time.Duration
}

func (t Throttle) withDefaults() Throttle {
	if t.Share <= 0 || t.Share > 1 {
		t.Share = 0.5
	}
	if t.Increase <= 0 {
		t.Increase = 0.1
	}
	if t.Decrease <= 0 || t.Decrease >= 1 {
		t.Decrease = 0.8
	}
	if t.Burst <= 0 {
		t.Burst = 200 * time.Millisecond
	}
	return t
}

// tick is the least amount of sending a lane saves up before a call, so that a slow
// rate makes fewer, fuller calls instead of many one-record calls.
const tick = 50 * time.Millisecond

// minFraction keeps a throttled rate above zero so that progress never stops.
const minFraction = 0.01

// window is the span over which Kinesis enforces a shard's limits.
const window = time.Second

// controller is the AIMD rate of one lane (a Kinesis shard, or a whole target) with a
// token bucket for records and one for bytes. The rate is a fraction of the ceiling,
// so records and bytes move together: a throttle does not say which limit was hit.
//
// The buckets smooth the sending; on top, the lane never sends more than one second
// of its rate in any sliding one-second window, which is how a shard counts. Without
// that guard a bucket's saved-up burst lands in the same window as a second's worth of
// steady sending, and a lane at its ceiling gets throttled now and then for nothing.
type controller struct {
	cfg      Throttle
	fraction float64
	tokens   Rate
	at       time.Time // last refill
	cutAt    time.Time // last decrease: throttles of calls sent before it are old news
	incAt    time.Time // last increase
	sent     []mark    // what was taken in the last window, oldest first
	inWindow Rate      // sum of sent
}

// mark is what a lane took at one instant.
type mark struct {
	at   time.Time
	sent Rate
}

func newController(cfg Throttle, now time.Time) *controller {
	cfg = cfg.withDefaults()
	f := 0.5
	if cfg.Start.Records > 0 && cfg.Ceiling.Records > 0 {
		f = cfg.Start.Records / cfg.Ceiling.Records
	}
	if cfg.Start.Bytes > 0 && cfg.Ceiling.Bytes > 0 {
		f = math.Min(f, cfg.Start.Bytes/cfg.Ceiling.Bytes)
	}
	c := &controller{cfg: cfg, fraction: clamp(f, minFraction, 1), at: now, incAt: now}
	c.tokens = c.depth()
	return c
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// rate is the current rate in records and bytes per second.
func (c *controller) rate() Rate { return c.cfg.Ceiling.scale(c.fraction) }

func (c *controller) depth() Rate {
	d := c.rate().scale(c.cfg.Burst.Seconds())
	return Rate{math.Max(d.Records, 1), math.Max(d.Bytes, 1)}
}

func (c *controller) refill(now time.Time) {
	for len(c.sent) > 0 && !c.sent[0].at.After(now.Add(-window)) {
		c.inWindow.Records -= c.sent[0].sent.Records
		c.inWindow.Bytes -= c.sent[0].sent.Bytes
		c.sent = c.sent[1:]
	}
	dt := now.Sub(c.at).Seconds()
	if dt <= 0 {
		return
	}
	c.at = now
	r, d := c.rate(), c.depth()
	c.tokens.Records = math.Min(c.tokens.Records+r.Records*dt, d.Records)
	c.tokens.Bytes = math.Min(c.tokens.Bytes+r.Bytes*dt, d.Bytes)
}

// quantum is what a lane saves up before it joins a call: a tick's worth of its rate,
// or all it has pending if that is less.
func (c *controller) quantum(pendingRecords, pendingBytes int) Rate {
	q := c.rate().scale(tick.Seconds())
	return Rate{
		Records: math.Min(math.Max(q.Records, 1), float64(pendingRecords)),
		Bytes:   math.Min(q.Bytes, float64(pendingBytes)),
	}
}

// ready reports whether the lane has saved up q and its window has room for it.
func (c *controller) ready(q Rate) bool {
	return c.tokens.Records >= q.Records && c.tokens.Bytes >= q.Bytes && c.roomFor(q)
}

// roomFor reports whether q fits in the window; a lone record always does, however
// large.
func (c *controller) roomFor(q Rate) bool {
	limit := c.rate().scale(window.Seconds())
	return c.inWindow.Records+q.Records <= limit.Records &&
		(c.inWindow.Bytes == 0 || c.inWindow.Bytes+q.Bytes <= limit.Bytes)
}

// wait is how long until the lane has saved up q and its window has room for it.
func (c *controller) wait(q Rate) time.Duration {
	r := c.rate()
	s := math.Max((q.Records-c.tokens.Records)/r.Records, (q.Bytes-c.tokens.Bytes)/r.Bytes)
	d := time.Duration(math.Max(s, 0) * float64(time.Second))
	if !c.roomFor(q) {
		d = max(d, c.drained(q))
	}
	if d <= 0 {
		return 0
	}
	return d + time.Millisecond
}

// drained is how long until enough of the window has expired for q to fit.
func (c *controller) drained(q Rate) time.Duration {
	limit := c.rate().scale(window.Seconds())
	left := c.inWindow
	for _, m := range c.sent {
		left.Records -= m.sent.Records
		left.Bytes -= m.sent.Bytes
		if left.Records+q.Records <= limit.Records && (left.Bytes <= 0 || left.Bytes+q.Bytes <= limit.Bytes) {
			return m.at.Add(window).Sub(c.at)
		}
	}
	return window
}

// canTake reports whether one more record of size bytes fits. The byte bucket may go
// into debt by one record, so a record larger than the bucket still goes once the
// bucket is positive; the debt is paid back before the lane is ready again.
func (c *controller) canTake(bytes int) bool {
	return c.tokens.Records >= 1 && c.tokens.Bytes > 0 && c.roomFor(Rate{1, float64(bytes)})
}

func (c *controller) take(bytes int) {
	c.tokens.Records--
	c.tokens.Bytes -= float64(bytes)
	c.inWindow.Records++
	c.inWindow.Bytes += float64(bytes)
	if n := len(c.sent); n > 0 && c.sent[n-1].at.Equal(c.at) {
		c.sent[n-1].sent.Records++
		c.sent[n-1].sent.Bytes += float64(bytes)
		return
	}
	c.sent = append(c.sent, mark{at: c.at, sent: Rate{1, float64(bytes)}})
}

// completed moves the marks of a call taken at sentAt to the middle of its round
// trip, now being when its response came. The stream counted the records at some
// moment in between: on the way in, before the reply's way back. Counting them from
// the middle keeps the lane's window from emptying before the shard's does, however
// long a call waited to be sent, without holding the records for a whole slow round
// trip.
func (c *controller) completed(sentAt, now time.Time) {
	mid := sentAt.Add(now.Sub(sentAt) / 2)
	for i := len(c.sent) - 1; i >= 0 && c.sent[i].at.Equal(sentAt); i-- {
		c.sent[i].at = mid
	}
}

// throttled cuts the rate once per round trip: throttles reported for a call sent
// before the last cut were caused by the old rate.
func (c *controller) throttled(sentAt, now time.Time) {
	if sentAt.Before(c.cutAt) {
		return
	}
	c.fraction = math.Max(minFraction, c.fraction*c.cfg.Decrease)
	c.cutAt, c.incAt = now, now
	c.tokens.Records = math.Min(c.tokens.Records, 0)
}

// succeeded raises the rate additively, but only while the lane was limited by its
// rate: raising an unused rate would only save up a burst.
func (c *controller) succeeded(now time.Time, limited bool) {
	dt := now.Sub(c.incAt).Seconds()
	c.incAt = now
	if !limited || dt <= 0 {
		return
	}
	c.fraction = math.Min(1, c.fraction+c.cfg.Increase*dt)
}
