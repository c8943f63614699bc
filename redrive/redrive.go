package redrive

import (
	"context"
	"errors"
	"io"
	"sort"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// Options configure a Redriver.
type Options struct {
	// Clients of the target kinds; a route to a kind without a client leaves its
	// failures on the queue with a *TargetError.
	Kinesis kinesisAPI
	Lambda  invokeAPI
	// Mappings, when set, finds the consumer's event source mapping, whose filter
	// criteria the consumer target applies again.
	Mappings listMappingsAPI
	Events   putEventsAPI
	SQS      sendMessageBatchAPI
	// Targets are the program's own targets, by the spec routes name them with; they
	// come before the built-in kinds.
	Targets map[string]Target
	// Kafka gives the client options (seed brokers, TLS, SASL) of the cluster that
	// kafka and kafka:<topic> targets produce to; nil: no Kafka target.
	Kafka func() ([]kgo.Opt, error)

	// Routes are tried in order; a failure without a match goes to its consumer
	// function (SpecConsumer), or stays queued with ErrNoConsumer when it names none.
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
	// default 10s. Budget, when set, ends the run that long after it starts. No call
	// starts after either; a call still running half the margin later is cut, and
	// only its own records are left.
	SafetyMargin time.Duration
	Budget       time.Duration
	// CallTimeout bounds each call to a target (default 30s; a Lambda target's
	// invocations get 15 minutes, the longest a function runs).
	CallTimeout time.Duration

	// Lease, when set, is taken before the run reads anything and released at its
	// end: a run finding it held by another returns a *LeaseHeldError at once. Its
	// time (when not set) covers the run's budget, or 15 minutes renewed each round.
	Lease *Lease

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
	cutAt      time.Time // when calls still running are cut
	// unfinished maps a shard to the earliest start of its failures this run left
	// undelivered: later failures of the shard wait for the next run.
	unfinished map[string]string
	filters    map[string]filtersResult // by consumer and stream
}

// New returns a Redriver reading from src.
func New(src Source, optFns ...func(*Options)) *Redriver {
	o := Options{SafetyMargin: 10 * time.Second, CallTimeout: 30 * time.Second, Clock: clock.Real}
	for _, fn := range optFns {
		fn(&o)
	}
	return &Redriver{src: src, opts: o, clock: o.Clock, targets: map[string]*deliverer{}, targetErrs: map[string]error{}, unfinished: map[string]string{}, filters: map[string]filtersResult{}}
}

// Run redrives until the source is drained, the time budget is reached or ctx ends.
// It returns an error only when the source failed or ctx was cancelled; in the latter
// case nothing is settled after the cancellation, so nothing is lost.
func (r *Redriver) Run(ctx context.Context) (Report, error) {
	start := r.clock.Now()
	r.start = start
	rep := Report{Source: r.src.name(), DryRun: r.opts.DryRun}
	stopAt := r.stopAt(ctx, start)
	if !stopAt.IsZero() {
		r.cutAt = stopAt.Add(r.opts.SafetyMargin / 2)
	}
	if err := r.takeLease(ctx, start, stopAt); err != nil {
		rep.Stopped = StoppedLeased
		return rep, err
	}
	err := r.loop(ctx, &rep, stopAt)
	if l := r.opts.Lease; l != nil {
		rep.addError(l.release(context.WithoutCancel(ctx)))
	}
	if ctx.Err() == nil {
		rep.addError(r.src.release(ctx))
	}
	r.finish(&rep, start)
	return rep, err
}

// takeLease takes the source's lease, for the whole run when it has a budget.
func (r *Redriver) takeLease(ctx context.Context, start, stopAt time.Time) error {
	l := r.opts.Lease
	if l == nil {
		return nil
	}
	if l.ttl <= 0 {
		l.ttl = 15 * time.Minute
		if !stopAt.IsZero() {
			l.ttl = stopAt.Sub(start) + r.opts.SafetyMargin + time.Minute
		}
	}
	l.now = r.clock.Now
	return l.acquire(ctx)
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
		if l := r.opts.Lease; l != nil {
			if err := l.renew(ctx); err != nil {
				rep.Stopped = StoppedError
				return err
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
				if err := r.src.extend(ctx, unsettled(units)); err != nil && ctx.Err() == nil {
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
	r.noteUnfinished(u, v)
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
	case requeue:
		rep.Requeued++
	default:
		rep.Kept++
	}
	if !r.opts.DryRun {
		_, rejected, left := u.counts()
		rep.Left += rejected + left
		if u.skip == skipTarget {
			rep.Left += len(u.doc.Records)
		}
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
