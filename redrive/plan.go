package redrive

import (
	"context"
	"errors"

	"github.com/streamdlq/streamdlq/archive"
)

// plan decides what happens to a unit's records: whether it is selected, where it
// goes, and which of its records its target can take. Selected records are added to
// their deliverer's work, in the unit's order; in a dry run they are only counted.
func (r *Redriver) plan(ctx context.Context, rep *Report, u *unit, work map[*deliverer][]*item) {
	rep.Messages++
	if u.err != nil {
		rep.Unreadable++
		return
	}
	h := u.doc.Hydration
	rep.Records += len(u.doc.Records)
	if !r.opts.Filter.matches(h) {
		u.skip = skipFiltered
		rep.Filtered++
		return
	}
	if len(u.doc.Records) == 0 && len(h.Gaps) > 0 {
		u.err, u.permanent = errNoRecords, true
		return
	}
	d, err := r.deliverer(ctx, h)
	switch {
	case errors.Is(err, ErrNoRoute):
		u.skip = skipNoRoute
		rep.NoRoute++
		return
	case err != nil:
		u.skip = skipTarget
		return
	}
	u.target = d.target.Name()
	r.prepare(rep, u, d, work)
}

// deliverer is the deliverer of the failure's route.
func (r *Redriver) deliverer(ctx context.Context, h archive.Hydration) (*deliverer, error) {
	spec, err := route(r.opts.Routes, h)
	if err != nil {
		return nil, err
	}
	return r.targetFor(ctx, spec)
}

func (r *Redriver) prepare(rep *Report, u *unit, d *deliverer, work map[*deliverer][]*item) {
	h := u.doc.Hydration
	from := Origin{StreamARN: h.StreamARN, ShardID: h.ShardID, Kafka: h.Kafka}
	d.stats.Failures++
	for _, rec := range u.doc.Records {
		it := &item{rec: rec}
		u.items = append(u.items, it)
		e, err := d.target.Prepare(rec, from)
		if err != nil {
			it.state, it.err = stateRejected, err
			d.stats.Rejected++
			continue
		}
		it.entry = e
		d.stats.Records++
		d.stats.Bytes += int64(e.Size)
		rep.Bytes += int64(e.Size)
		if !r.opts.DryRun {
			work[d] = append(work[d], it)
		}
	}
	if r.opts.DryRun {
		u.skip = skipDryRun
	}
}
