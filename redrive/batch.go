package redrive

import (
	"fmt"
	"math"
	"time"
)

// next picks the items of the next call, or says how long to wait until a lane has
// saved up enough of its rate for a call to be worth making.
func (d *deliverer) next(q *queue, now time.Time) ([]*item, time.Duration) {
	ready, wait := d.readyLanes(q, now)
	if ready == nil {
		return nil, wait
	}
	var batch []*item
	if d.limits.Ordering == PrefixOfKey {
		batch = d.prefix(q, ready)
	} else {
		batch = d.scan(q, ready)
	}
	if len(batch) == 0 {
		// Only records beyond the scan window were ready; let the head move first.
		return nil, tick
	}
	return batch, 0
}

// readyLanes says which lanes with pending records have saved up their quantum; when
// none has, it returns nil and the time until the first one will.
func (d *deliverer) readyLanes(q *queue, now time.Time) ([]bool, time.Duration) {
	ready := make([]bool, len(d.lanes))
	wait := time.Duration(math.MaxInt64)
	found := false
	for l, c := range d.lanes {
		if q.laneCount[l] == 0 {
			continue
		}
		c.refill(now)
		want := c.quantum(q.laneCount[l], q.laneBytes[l])
		if c.ready(want) {
			ready[l], found = true, true
			continue
		}
		wait = min(wait, c.wait(want))
	}
	if !found {
		return nil, wait
	}
	return ready, 0
}

// blocked reports whether an item cannot go now: an earlier failure of its shard is
// still being sent (it waits), or it was held back or its key stopped at an
// undelivered record (it is settled as left).
func (d *deliverer) blocked(q *queue, it *item) bool {
	if wait, held := it.group.waiting(); wait {
		return true
	} else if held != nil {
		q.settle(it, stateLeft, held)
		return true
	}
	err, ok := d.stuck[it.entry.Key]
	if !ok {
		return false
	}
	q.settle(it, stateLeft, fmt.Errorf("%w: %v", ErrBlocked, err))
	return true
}

// scan fills a call from the queue in order, taking for OnePerKey targets only the
// first pending record of each key, and skipping records whose lane has no rate left.
func (d *deliverer) scan(q *queue, ready []bool) []*item {
	var batch []*item
	var seen map[string]bool
	if d.limits.Ordering == OnePerKey {
		seen = map[string]bool{}
	}
	g := newGate(d.lanes, ready)
	bytes := 0
	end := min(len(q.items), q.head+d.opts.maxScan)
	for i := q.head; i < end && len(batch) < d.limits.MaxEntries && g.open > 0; i++ {
		it := q.items[i]
		if it.state != statePending || d.blocked(q, it) {
			continue
		}
		if seen != nil {
			if seen[it.entry.Key] {
				continue
			}
			seen[it.entry.Key] = true
		}
		if (it.solo && len(batch) > 0) || bytes+it.entry.Size > d.limits.MaxBytes || !g.take(it.entry) {
			continue
		}
		bytes += it.entry.Size
		batch = append(batch, it)
		if it.solo {
			break
		}
	}
	return batch
}

// gate hands out the ready lanes' rate to one call, and knows when none is left.
type gate struct {
	lanes  []*controller
	ready  []bool
	closed []bool
	open   int // ready lanes that can still take a record
}

func newGate(lanes []*controller, ready []bool) *gate {
	g := &gate{lanes: lanes, ready: ready, closed: make([]bool, len(lanes))}
	for _, r := range ready {
		if r {
			g.open++
		}
	}
	return g
}

// take charges e to its lane if the lane has room, closing the lane once not even
// the smallest record fits.
func (g *gate) take(e *Entry) bool {
	l, c := e.Lane, g.lanes[e.Lane]
	if !g.ready[l] || g.closed[l] {
		return false
	}
	if !c.canTake(e.Size) {
		if !c.canTake(1) {
			g.closed[l] = true
			g.open--
		}
		return false
	}
	c.take(e.Size)
	return true
}

// prefix fills a call with the consecutive pending records of the first pending key,
// stopping at the first that does not fit, so the call is a prefix of the key's queue.
func (d *deliverer) prefix(q *queue, ready []bool) []*item {
	var batch []*item
	var key string
	bytes := 0
	end := min(len(q.items), q.head+d.opts.maxScan)
	for i := q.head; i < end && len(batch) < d.limits.MaxEntries; i++ {
		it := q.items[i]
		if it.state != statePending || d.blocked(q, it) {
			continue
		}
		if len(batch) == 0 {
			key = it.entry.Key
		} else if it.entry.Key != key {
			continue
		} else if it.group != batch[0].group || (batch[0].callCap > 0 && len(batch) >= batch[0].callCap) {
			break
		}
		c := d.lanes[it.entry.Lane]
		if (it.solo && len(batch) > 0) || !ready[it.entry.Lane] || !c.canTake(it.entry.Size) || bytes+it.entry.Size > d.limits.MaxBytes {
			break
		}
		c.take(it.entry.Size)
		bytes += it.entry.Size
		batch = append(batch, it)
		if it.solo {
			break
		}
	}
	return batch
}
