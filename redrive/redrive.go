package redrive

import (
	"context"
	"errors"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options configure a Redriver.
type Options struct {
	// Clients of the target kinds; a route to a kind without a client leaves its
	// failures on the queue with a *TargetError.
	Kinesis kinesisAPI
	Lambda  invokeAPI
	Events  putEventsAPI
	SQS     sendMessageBatchAPI
	// Kafka gives the client options (seed brokers, TLS, SASL) of the cluster that
	// kafka and kafka:<topic> targets produce to; nil: no Kafka target.
	Kafka func() ([]kgo.Opt, error)

	// Routes are tried in order; Kinesis failures without a match go back to their
	// stream, DynamoDB ones are left with ErrNoRoute.
	Routes []Route
	Filter Filter
	// DryRun reads and plans (per target: failures, records, bytes) but sends,
	// deletes and parks nothing.
	DryRun bool

	// Throttle applies to every target; Throttles overrides it per resolved target
	// spec ("kinesis:<arn>", "lambda:<name>", ...).
	Throttle  Throttle
	Throttles map[string]Throttle
	// LambdaBatchSize caps the records per invocation (default 100); SQSMaxBytes is
	// the SQS target queue's maximum message size (default 256 KiB).
	LambdaBatchSize int
	SQSMaxBytes     int
	// MaxAttempts bounds a record's transient failures in a run (default 5).
	MaxAttempts int

	// SafetyMargin is kept before ctx's deadline to settle what is in flight;
	// default 10s. Budget, when set, ends the run that long after it starts.
	SafetyMargin time.Duration
	Budget       time.Duration

	// Metrics receives EMF lines at the end of the run; nil writes none.
	Metrics io.Writer
	// Progress, when set, receives a running total after every round (the CLI's live
	// progress line).
	Progress func(Report)
	Clock    Clock
}

// Redriver moves failures from a Source to their targets. A Redriver runs once.
type Redriver struct {
	src        Source
	opts       Options
	clock      Clock
	targets    map[string]*deliverer
	targetErrs map[string]error
	start      time.Time
}

// New returns a Redriver reading from src.
func New(src Source, optFns ...func(*Options)) *Redriver {
	o := Options{SafetyMargin: 10 * time.Second, Clock: realClock{}}
	for _, fn := range optFns {
		fn(&o)
	}
	return &Redriver{src: src, opts: o, clock: o.Clock, targets: map[string]*deliverer{}, targetErrs: map[string]error{}}
}

// Run redrives until the source is drained, the time budget is reached or ctx ends.
// It returns an error only when the source failed or ctx was cancelled; in the latter
// case nothing is settled after the cancellation, so nothing is lost.
func (r *Redriver) Run(ctx context.Context) (Report, error) {
	start := r.clock.Now()
	r.start = start
	rep := Report{Source: r.src.name(), DryRun: r.opts.DryRun}
	err := r.loop(ctx, &rep, r.stopAt(ctx, start))
	if ctx.Err() == nil {
		rep.addError(r.src.release(ctx))
	}
	r.finish(&rep, start)
	return rep, err
}

// stopAt is when the run stops taking new work: ctx's deadline less the safety
// margin, or the budget, whichever comes first; zero for never.
func (r *Redriver) stopAt(ctx context.Context, start time.Time) time.Time {
	var at time.Time
	if d, ok := ctx.Deadline(); ok {
		at = d.Add(-r.opts.SafetyMargin)
	}
	if r.opts.Budget > 0 {
		if b := start.Add(r.opts.Budget); at.IsZero() || b.Before(at) {
			at = b
		}
	}
	return at
}

func (r *Redriver) loop(ctx context.Context, rep *Report, stopAt time.Time) error {
	for {
		maxWait := time.Duration(1<<63 - 1)
		if !stopAt.IsZero() {
			if maxWait = stopAt.Sub(r.clock.Now()); maxWait <= 0 {
				rep.Stopped = StoppedTimeBudget
				return nil
			}
		}
		units, err := r.src.next(ctx, maxWait)
		switch {
		case ctx.Err() != nil:
			rep.Stopped = StoppedCancelled
			return ctx.Err()
		case err != nil:
			rep.Stopped = StoppedError
			return err
		case len(units) == 0:
			rep.Stopped = StoppedDrained
			return nil
		}
		if err := r.round(ctx, rep, units, stopAt); err != nil {
			rep.Stopped = StoppedCancelled
			return err
		}
		r.progress(*rep)
	}
}

// progress reports a running total: the report so far with the targets' counts.
func (r *Redriver) progress(rep Report) {
	if r.opts.Progress == nil {
		return
	}
	rep.Elapsed = r.clock.Now().Sub(r.start)
	for _, d := range r.targets {
		if d != nil {
			rep.Delivered += d.stats.Delivered
			rep.Throttled += d.stats.Throttled
			rep.Retried += d.stats.Retried
		}
	}
	r.opts.Progress(rep)
}

// round plans, delivers and settles one batch of failures.
func (r *Redriver) round(ctx context.Context, rep *Report, units []*unit, stopAt time.Time) error {
	work := map[*deliverer][]*item{}
	for _, u := range units {
		r.plan(ctx, rep, u, work)
	}
	if len(work) > 0 {
		if err := r.deliverAll(ctx, units, work, stopAt); err != nil {
			return err
		}
	}
	for _, u := range units {
		if err := r.settle(ctx, rep, u); err != nil {
			return err
		}
	}
	return nil
}

// deliverAll runs each target's deliverer concurrently, keeping the units reserved
// meanwhile. Only ctx's error comes back.
func (r *Redriver) deliverAll(ctx context.Context, units []*unit, work map[*deliverer][]*item, stopAt time.Time) error {
	stop := r.keepAlive(ctx, units)
	defer stop()
	var wg sync.WaitGroup
	for d, items := range work {
		wg.Go(func() { _ = d.deliver(ctx, items, stopAt) })
	}
	wg.Wait()
	return ctx.Err()
}

// keepAlive extends the units' reservation every heartbeat until the returned func is
// called. A failed extension is only logged: the worst it does is let another
// consumer see the message, which delivers its records twice, never loses them.
func (r *Redriver) keepAlive(ctx context.Context, units []*unit) func() {
	every := r.src.heartbeat()
	if every <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.src.extend(ctx, units); err != nil && ctx.Err() == nil {
					zerolog.Ctx(ctx).Warn().Err(err).Int("messages", len(units)).Msg("extend visibility")
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// settle applies a unit's verdict and counts it. A settle that fails leaves the
// message where it was, which is always safe; the error is reported.
func (r *Redriver) settle(ctx context.Context, rep *Report, u *unit) error {
	v := u.verdict(r.src.maxReceives())
	if r.opts.DryRun {
		v = keep
	}
	applied, err := r.src.settle(ctx, u, v)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep.addError(err)
	switch applied {
	case remove:
		rep.Removed++
	case replace:
		rep.Replaced++
	case park:
		rep.Parked++
	default:
		rep.Kept++
	}
	if !r.opts.DryRun {
		_, rejected, left := u.counts()
		rep.Left += rejected + left
	}
	return nil
}

// finish totals the targets into the report and writes its metrics.
func (r *Redriver) finish(rep *Report, start time.Time) {
	rep.Elapsed = r.clock.Now().Sub(start)
	for spec, d := range r.targets {
		if d == nil {
			rep.addError(r.targetErrs[spec])
			continue
		}
		s := d.stats
		rep.Delivered += s.Delivered
		rep.Throttled += s.Throttled
		rep.Retried += s.Retried
		rep.Rejected += s.Rejected
		rep.Targets = append(rep.Targets, s)
	}
	sort.Slice(rep.Targets, func(i, j int) bool { return rep.Targets[i].Target < rep.Targets[j].Target })
	if r.opts.Metrics != nil {
		rep.addError(rep.WriteMetrics(r.opts.Metrics, r.clock.Now()))
	}
}

// errNoRecords: the failure's records could not be read back at all, so there is
// nothing to redrive; the archive keeps what is known about it.
var errNoRecords = errors.New("redrive: the failure has no records (hydration found only gaps)")
