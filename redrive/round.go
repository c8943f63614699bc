package redrive

import (
	"context"
	"sync"
	"time"
)

// round plans a batch of failures and delivers their records, settling each failure
// as soon as its last record is settled while the others are still being sent, so a
// run cut short loses none of what it finished.
func (r *Redriver) round(ctx context.Context, rep *Report, units []*unit, stopAt time.Time) error {
	orderByShard(units)
	work := map[*deliverer][]*item{}
	for _, u := range units {
		r.plan(ctx, rep, u, work)
	}
	r.chainShards(units)
	for _, items := range work {
		for _, it := range items {
			it.group.pending++
		}
	}
	ready := make(chan *unit, len(units))
	for _, u := range units {
		if u.pending == 0 {
			ready <- u
		}
	}
	delivered := make(chan error, 1)
	go func() {
		delivered <- r.deliverAll(ctx, units, work, stopAt, ready)
		close(ready)
	}()
	var err error
	for u := range ready {
		if err == nil {
			err = r.settle(ctx, rep, u)
			u.settled.Store(true)
		}
	}
	if dErr := <-delivered; err == nil {
		err = dErr
	}
	return err
}

// deliverAll runs each target's deliverer concurrently, keeping the units reserved
// meanwhile and handing each unit to ready when its last record is settled. Only
// ctx's error comes back.
func (r *Redriver) deliverAll(ctx context.Context, units []*unit, work map[*deliverer][]*item, stopAt time.Time, ready chan<- *unit) error {
	if len(work) == 0 {
		return ctx.Err()
	}
	stop := r.keepAlive(ctx, units)
	defer stop()
	var wg sync.WaitGroup
	for d, items := range work {
		d.done = func(it *item) {
			if u := it.group; u != nil {
				if u.pending--; u.pending == 0 {
					ready <- u
				}
			}
		}
		wg.Go(func() { _ = d.deliver(ctx, items, stopAt) })
	}
	wg.Wait()
	return ctx.Err()
}

// unsettled are the units whose messages are still held.
func unsettled(units []*unit) []*unit {
	var out []*unit
	for _, u := range units {
		if !u.settled.Load() {
			out = append(out, u)
		}
	}
	return out
}
