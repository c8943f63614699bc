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

// stuck settles an item whose key stopped at an undelivered record, reporting whether
// it did.
func (d *deliverer) stuck(q *queue, it *item) bool {
	err, ok := q.stuck[it.entry.Key]
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
	bytes := 0
	open := 0 // ready lanes that can still take a record
	for _, r := range ready {
		if r {
			open++
		}
	}
	closed := make([]bool, len(ready))
	end := min(len(q.items), q.head+d.opts.maxScan)
	for i := q.head; i < end && len(batch) < d.limits.MaxEntries && open > 0; i++ {
		it := q.items[i]
		if it.state != statePending || d.stuck(q, it) {
			continue
		}
		if seen != nil {
			if seen[it.entry.Key] {
				continue
			}
			seen[it.entry.Key] = true
		}
		l, c := it.entry.Lane, d.lanes[it.entry.Lane]
		if !ready[l] || closed[l] || bytes+it.entry.Size > d.limits.MaxBytes {
			continue
		}
		if !c.canTake(it.entry.Size) {
			if !c.canTake(1) {
				closed[l] = true
				open--
			}
			continue
		}
		c.take(it.entry.Size)
		bytes += it.entry.Size
		batch = append(batch, it)
	}
	return batch
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
		if it.state != statePending || d.stuck(q, it) {
			continue
		}
		if len(batch) == 0 {
			key = it.entry.Key
		} else if it.entry.Key != key {
			continue
		}
		c := d.lanes[it.entry.Lane]
		if !ready[it.entry.Lane] || !c.canTake(it.entry.Size) || bytes+it.entry.Size > d.limits.MaxBytes {
			break
		}
		c.take(it.entry.Size)
		bytes += it.entry.Size
		batch = append(batch, it)
	}
	return batch
}
