package redrive

import (
	"context"
	"errors"
	"strings"

	"github.com/streamdlq/streamdlq/internal/envelope"
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
	readFailure(u)
	d, err := r.deliverer(ctx, u)
	switch {
	case errors.Is(err, ErrNoRoute):
		u.skip, u.routeErr = skipNoRoute, err
		rep.NoRoute++
		rep.addError(err)
		return
	case err != nil:
		u.skip = skipTarget
		return
	}
	u.target = d.target.Name()
	fc, err := r.filtersFor(ctx, u, d)
	if err != nil {
		u.skip = skipTarget
		rep.addError(err)
		return
	}
	r.prepare(rep, u, d, work, fc)
}

// filtersFor are the consumer mapping's filter criteria when the failure goes back
// to its consumer, so the consumer never sees a record its mapping filtered out.
func (r *Redriver) filtersFor(ctx context.Context, u *unit, d *deliverer) (filterCriteria, error) {
	if r.opts.Mappings == nil || u.consumer == "" || d.target.Name() != PrefixLambda+u.consumer {
		return nil, nil
	}
	return r.consumerFilters(ctx, u.consumer, u.doc.Hydration)
}

// deliverer is the deliverer of the failure's route.
func (r *Redriver) deliverer(ctx context.Context, u *unit) (*deliverer, error) {
	spec, err := route(r.opts.Routes, u.doc.Hydration, u.consumer)
	if err != nil {
		return nil, err
	}
	return r.targetFor(ctx, spec)
}

// readFailure takes from the on-failure record the consumer function and the size of
// the batch it failed on. A record that does not parse names no consumer; its records
// can still go where a route sends them. A Kafka record may name several
// topic-partitions, whose failures share the function and the batch.
func readFailure(u *unit) {
	u.batchSize = u.doc.Hydration.Expected
	fs, err := envelope.ParseRecords(u.doc.Failure, u.id)
	if err != nil {
		return
	}
	f := fs[0]
	if f.BatchSize > 0 {
		u.batchSize = f.BatchSize
	}
	if isFunctionARN(f.FunctionARN) {
		u.consumer = f.FunctionARN
	}
}

// isFunctionARN reports whether s is a Lambda function ARN, qualified or not
// (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]); a pipe's ARN is not.
func isFunctionARN(s string) bool {
	parts := strings.Split(s, ":")
	return len(parts) >= 7 && len(parts) <= 8 && parts[0] == "arn" && parts[2] == "lambda" &&
		parts[5] == "function" && parts[6] != "" && (len(parts) == 7 || parts[7] != "")
}

func (r *Redriver) prepare(rep *Report, u *unit, d *deliverer, work map[*deliverer][]*item, fc filterCriteria) {
	h := u.doc.Hydration
	from := Origin{StreamARN: h.StreamARN, ShardID: h.ShardID, Kafka: h.Kafka}
	d.stats.Failures++
	for _, rec := range u.doc.Records {
		it := &item{rec: rec, group: u, callCap: u.batchSize}
		u.items = append(u.items, it)
		if !fc.pass(rec) {
			it.state = stateFilteredOut
			rep.FilteredOut++
			continue
		}
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
