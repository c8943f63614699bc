package redrive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// Reasons a record is left undelivered in a run.
var (
	// ErrTimeBudget: the run's time budget ran out before the record was sent.
	ErrTimeBudget = errors.New("redrive: time budget reached")
	// ErrBlocked: an earlier record of the same ordering key was not delivered, so
	// this one must not overtake it.
	ErrBlocked = errors.New("redrive: an earlier record of the same key was not delivered")
)

type itemState int

const (
	statePending itemState = iota
	stateDelivered
	stateLeft     // not delivered in this run; the record stays queued
	stateRejected // the target can never take it
	// stateFilteredOut: the consumer's mapping filters it out, so it is not sent and
	// counts as done; the archive keeps it.
	stateFilteredOut
)

// item is one record of a failure on its way to a target; entry is nil when the
// target rejected the record outright.
type item struct {
	rec      batch.Record
	entry    *Entry
	state    itemState
	attempts int   // failed attempts, throttles not counted
	err      error // why it is not delivered
	// group is the failure the record belongs to; callCap, when positive, is the most
	// records a consumer invocation holds (the failed batch's size). A PrefixOfKey
	// call never mixes records of two failures, so no batch is larger than the one
	// that failed.
	group   *unit
	callCap int
	// solo: a call holding this record was refused as a whole, so it goes alone to
	// tell a bad record from a target that is down.
	solo bool
}

// queue holds a call's candidates in their original order.
type queue struct {
	items     []*item
	head      int // items before head are settled
	pending   int
	laneCount []int
	laneBytes []int
	// done, when set, is told of every item as it is settled, so that a failure can
	// be settled as soon as its last record is.
	done func(*item)
}

func newQueue(items []*item, lanes int, done func(*item)) *queue {
	q := &queue{items: items, laneCount: make([]int, lanes), laneBytes: make([]int, lanes), done: done}
	for _, it := range items {
		if it.state == statePending {
			q.pending++
			q.laneCount[it.entry.Lane]++
			q.laneBytes[it.entry.Lane] += it.entry.Size
		}
	}
	return q
}

// settle takes a pending item out of the queue.
func (q *queue) settle(it *item, s itemState, err error) {
	if it.state != statePending {
		return
	}
	it.state, it.err = s, err
	q.pending--
	q.laneCount[it.entry.Lane]--
	q.laneBytes[it.entry.Lane] -= it.entry.Size
	for q.head < len(q.items) && q.items[q.head].state != statePending {
		q.head++
	}
	if q.done != nil {
		q.done(it)
	}
}

// leaveAll leaves every pending item with err.
func (q *queue) leaveAll(err error) {
	for _, it := range q.items[q.head:] {
		q.settle(it, stateLeft, err)
	}
}

// TargetStats counts what one target did in a run.
type TargetStats struct {
	Target    string `json:"target"`
	Failures  int    `json:"failures"` // failures (messages) routed to it
	Records   int    `json:"records"`
	Bytes     int64  `json:"bytes"`
	Delivered int    `json:"delivered"`
	Throttled int    `json:"throttled"` // entries refused with a throttle, each time
	Retried   int    `json:"retried"`   // entries failed transiently and sent again
	Rejected  int    `json:"rejected"`
	Left      int    `json:"left"`
	Calls     int    `json:"calls"`
	Error     string `json:"error,omitempty"` // the TargetError that stopped it
}

// deliveryOptions tune the delivery loop.
type deliveryOptions struct {
	maxAttempts int           // transient failures per record before it is left
	backoff     clock.Backoff // pause after a call that delivered nothing: full jitter, 100ms doubling to 5s
	maxScan     int           // items looked at to fill one call
}

// deliverer sends items to one target. Its rate lanes outlive a round, so what the
// controller learned carries over to the next batch of messages.
type deliverer struct {
	target  Target
	limits  Limits
	clock   Clock
	lanes   []*controller
	opts    deliveryOptions
	stalled int   // calls in a row that delivered nothing: the backoff's attempt
	dead    error // a *TargetError: no more calls in this run
	// stuck holds the ordering keys that stopped at an undelivered record: no later
	// record of theirs goes in this run.
	stuck map[string]error
	stats TargetStats
	// Set by the Redriver for each round: done hears of every settled item; a call
	// ends callTimeout after it starts or at cutAt, whichever is first (zero: never).
	done        func(*item)
	callTimeout time.Duration
	cutAt       time.Time
}

// ErrCallCut: a call outlived its own timeout or the run's budget; its records are
// left undelivered (they may have arrived: at worst they are sent again) and nothing
// else is affected.
var ErrCallCut = fmt.Errorf("%w: the call was cut at its timeout", ErrTimeBudget)

// deliver sends items until each is delivered, rejected or left, or ctx ends. At
// stopAt it stops starting calls and leaves what is pending with ErrTimeBudget. Only
// ctx's error is returned: everything else is recorded on the items.
func (d *deliverer) deliver(ctx context.Context, items []*item, stopAt time.Time) error {
	q := newQueue(items, len(d.lanes), d.done)
	defer d.countLeft(items)
	for q.pending > 0 {
		now := d.clock.Now()
		switch {
		case d.dead != nil:
			q.leaveAll(d.dead)
			continue
		case !stopAt.IsZero() && !now.Before(stopAt):
			q.leaveAll(ErrTimeBudget)
			continue
		}
		batch, wait := d.next(q, now)
		if len(batch) == 0 {
			if q.pending == 0 {
				break
			}
			if err := d.sleep(ctx, wait, stopAt); err != nil {
				return err
			}
			continue
		}
		if err := d.call(ctx, q, batch, now); err != nil {
			return err
		}
		if err := d.sleep(ctx, d.pause(), stopAt); err != nil {
			return err
		}
	}
	return nil
}

// pause is the backoff after the last call: none after one that delivered something.
func (d *deliverer) pause() time.Duration {
	if d.stalled == 0 {
		return 0
	}
	return d.opts.backoff.Delay(d.stalled - 1)
}

func (d *deliverer) sleep(ctx context.Context, wait time.Duration, stopAt time.Time) error {
	if !stopAt.IsZero() {
		wait = min(wait, stopAt.Sub(d.clock.Now()))
	}
	if wait <= 0 {
		return ctx.Err()
	}
	return d.clock.Sleep(ctx, wait)
}

// adapt feeds the call's result to the lanes' rate controllers.
func (d *deliverer) adapt(q *queue, batch []*item, throttled []bool, sentAt time.Time) {
	now := d.clock.Now()
	used := make([]bool, len(d.lanes))
	for _, it := range batch {
		used[it.entry.Lane] = true
	}
	for l, c := range d.lanes {
		if used[l] {
			c.completed(sentAt, now)
		}
		switch {
		case throttled[l]:
			c.throttled(sentAt, now)
		case used[l]:
			c.succeeded(now, q.laneCount[l] > 0)
		}
	}
}

func (d *deliverer) countLeft(items []*item) {
	for _, it := range items {
		if it.state == stateLeft || it.state == statePending {
			d.stats.Left++
		}
	}
}

// newDeliverer sets up a target's rate lanes. A configured ceiling or start is for the
// whole target and is split evenly over its lanes; each lane's ceiling is the lower
// of that share and the lane's capacity (for a Kinesis shard 1,000 records/s and
// 1 MiB/s), times Share where live producers use it too.
func newDeliverer(t Target, th Throttle, clock Clock, opts deliveryOptions) *deliverer {
	l := t.Limits()
	n := max(1, l.Lanes)
	th = th.withDefaults()
	lane := th
	capacity := l.Capacity
	if l.Shared {
		capacity = capacity.scale(th.Share)
	}
	lane.Ceiling = perLane(th.Ceiling, capacity, n)
	lane.Start = perLane(th.Start, Rate{}, n)
	d := &deliverer{target: t, limits: l, clock: clock, opts: opts.withDefaults(), stats: TargetStats{Target: t.Name()}, stuck: map[string]error{}}
	now := clock.Now()
	for range n {
		d.lanes = append(d.lanes, newController(lane, now))
	}
	return d
}

// perLane splits a target-wide rate over n lanes, never above capacity (already per
// lane, and times the share where live producers use it too): a configured ceiling
// only lowers what the lanes may take. A figure not set is the capacity's.
func perLane(r, capacity Rate, n int) Rate {
	out := capacity
	if r.Records > 0 {
		out.Records = r.Records / float64(n)
		if capacity.Records > 0 {
			out.Records = min(out.Records, capacity.Records)
		}
	}
	if r.Bytes > 0 {
		out.Bytes = r.Bytes / float64(n)
		if capacity.Bytes > 0 {
			out.Bytes = min(out.Bytes, capacity.Bytes)
		}
	}
	return out
}

func (o deliveryOptions) withDefaults() deliveryOptions {
	if o.maxAttempts <= 0 {
		o.maxAttempts = 5
	}
	o.backoff = o.backoff.Defaults(100*time.Millisecond, 5*time.Second)
	if o.maxScan <= 0 {
		o.maxScan = 50000
	}
	return o
}
