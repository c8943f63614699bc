package redrive

import (
	"context"
	"time"
)

// call sends one batch and settles its items by the outcomes.
func (d *deliverer) call(ctx context.Context, q *queue, batch []*item, sentAt time.Time) error {
	entries := make([]*Entry, len(batch))
	for i, it := range batch {
		entries[i] = it.entry
	}
	d.stats.Calls++
	callCtx, cancel := d.callContext(ctx, sentAt)
	outcomes, err := d.target.Send(callCtx, entries)
	cut := callCtx.Err() != nil
	cancel()
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil && cut:
		for _, it := range batch {
			d.block(q, it, stateLeft, ErrCallCut)
		}
		return nil
	case err != nil && classify(err) == Rejected:
		d.refused(q, batch, err)
		return nil
	case err != nil:
		outcomes = d.callFailed(err, len(batch))
	}
	throttled, failed, delivered := d.apply(q, batch, outcomes)
	d.adapt(q, batch, throttled, sentAt)
	// A call that delivered something shows a working target: its failed records
	// go again with the next call. Only a call that delivered nothing backs off.
	if failed && !delivered {
		d.stalled++
	} else {
		d.stalled = 0
	}
	return nil
}

// callContext bounds one call by its own timeout and the run's cut-off.
func (d *deliverer) callContext(ctx context.Context, sentAt time.Time) (context.Context, context.CancelFunc) {
	at := d.cutAt
	if d.callTimeout > 0 {
		if t := sentAt.Add(d.callTimeout); at.IsZero() || t.Before(at) {
			at = t
		}
	}
	if at.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, at.Sub(d.clock.Now()))
}

// apply settles the batch's items by their outcomes, saying which lanes were
// throttled and whether anything failed or was delivered.
func (d *deliverer) apply(q *queue, batch []*item, outcomes []Outcome) (throttled []bool, failed, delivered bool) {
	throttled = make([]bool, len(d.lanes))
	for i, it := range batch {
		switch o := outcomes[i]; o.Status {
		case Delivered:
			delivered = true
			d.stats.Delivered++
			q.settle(it, stateDelivered, nil)
		case Throttled:
			d.stats.Throttled++
			throttled[it.entry.Lane] = true
		case Rejected:
			d.stats.Rejected++
			d.block(q, it, stateRejected, o.Err)
		default:
			failed = true
			d.retry(q, it, o.Err)
		}
	}
	return throttled, failed, delivered
}

// refused handles a call the target refused as a whole for a reason retrying will
// not fix. Its records are first tried one by one, so that one bad record does not
// take the target down; a record refused alone as invalid is rejected, and a record
// refused alone for any other reason (access denied, missing resource) shows the
// target is down: no more calls to it in this run, and what is left is left with the
// *TargetError, which never counts towards parking.
func (d *deliverer) refused(q *queue, batch []*item, err error) {
	if len(batch) > 1 {
		for _, it := range batch {
			it.solo = true
		}
		return
	}
	it := batch[0]
	if isRecordFault(err) {
		d.stats.Rejected++
		d.block(q, it, stateRejected, &RejectedError{Target: d.target.Name(), Reason: err.Error()})
		return
	}
	d.dead = &TargetError{Target: d.target.Name(), Err: err}
	d.stats.Error = d.dead.Error()
	d.block(q, it, stateLeft, d.dead)
}

// callFailed turns a whole-call error into per-entry outcomes.
func (d *deliverer) callFailed(err error, n int) []Outcome {
	st := classify(err)
	out := make([]Outcome, n)
	for i := range out {
		out[i] = Outcome{Status: st, Err: err}
	}
	return out
}

func (d *deliverer) retry(q *queue, it *item, err error) {
	it.attempts++
	it.err = err
	if it.attempts >= d.opts.maxAttempts {
		d.block(q, it, stateLeft, err)
		return
	}
	d.stats.Retried++
}

// block settles an item that will not be delivered and, for ordered targets, stops
// its key so that no later record of the key overtakes it.
func (d *deliverer) block(q *queue, it *item, s itemState, err error) {
	q.settle(it, s, err)
	if d.limits.Ordering != Unordered {
		d.stuck[it.entry.Key] = err
	}
}
