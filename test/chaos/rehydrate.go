package chaos

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// The rehydration schedule the runs play.
const (
	// rehydrateTicks caps the schedule's runs within a run. In production the schedule
	// runs every 15 minutes until the records leave the stream (96 ticks a day at
	// the default 24 h retention); the background call faults strike each tick anew,
	// so a failure still parked after this many ticks is taken as lost.
	rehydrateTicks     = 40
	rehydrateMaxCalls  = 24                // a crash strikes at one of the first this many SDK calls of a tick
	rehydrateFnTimeout = 300 * time.Second // template.yaml HydrateFunction Timeout
	// tickHide stands for the function's timeout, for which a tick hides what it
	// receives: long enough for a tick to work through what it took.
	tickHide = 3 * time.Second
)

// rehydrateEvent is what the schedule (template.yaml RehydrateSchedule) sends.
var rehydrateEvent = []byte(`{"source":"` + hydrate.RehydrateEvent + `","scheduledTime":"2026-01-01T00:15:00Z"}`)

// rehydrate plays the rehydration schedule once the on-failure events are parked: the
// hydrate function, wired as deployed (hydrate.FunctionFromConfig with the failure and
// parking queues), is invoked with the schedule's event until its failure queue is
// empty (a tick that finds it empty does nothing). Each tick is a fresh process with the run's faults: the background call
// faults and crashes strike as before, the trimmed records stay gone, and a refusal
// that clears ("denied, then fixed") has cleared — the ticks are later attempts of the
// failures it struck. Between ticks time passes: a message the tick kept for a later
// run (or hid and then crashed on) is visible again.
func (e *runEnv) rehydrate(ctx context.Context) error {
	for range rehydrateTicks {
		n, err := e.waiting(ctx, e.q.parked)
		if err != nil || n == 0 {
			return err
		}
		e.run.RehydrateTicks++
		if err := e.tick(ctx); err != nil {
			return err
		}
	}
	return nil
}

// tick is one scheduled invocation of the hydrate function.
func (e *runEnv) tick(ctx context.Context) error {
	cfg := e.hydrateCfg().Copy()
	cfg.APIOptions = append(cfg.APIOptions, testkit.Middleware("chaosTimePasses", compressTime(e.q.parked)))
	c := e.hydrateConfig()
	c.FailureQueueURL, c.ParkingQueueURL = e.q.parked, e.q.parking
	e.inj.Attempt()
	pctx, done := e.inj.Process(ctx, rehydrateMaxCalls)
	pctx, cancel := context.WithTimeout(pctx, rehydrateFnTimeout)
	out, err := hydrate.FunctionFromConfig(cfg, c)(pctx, rehydrateEvent)
	cancel()
	done()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if rep, ok := out.(hydrate.RehydrateReport); ok {
		e.run.Rehydrated += rep.Hydrated
		for _, m := range rep.Missing {
			e.run.Errors = append(e.run.Errors, "rehydrate: "+m)
		}
	}
	if err != nil {
		e.run.Errors = append(e.run.Errors, "rehydrate: "+err.Error())
	}
	return e.visibleAgain(ctx, e.q.parked)
}

// compressTime lets time pass between ticks: a message the rehydration keeps for a
// later run (hidden 5 minutes) is visible at once, and one a tick took and then
// crashed on (hidden for the function's timeout) after tickHide.
func compressTime(queue string) func(ctx context.Context, c testkit.Call, next testkit.Next) (any, error) {
	return func(ctx context.Context, c testkit.Call, next testkit.Next) (any, error) {
		switch in := c.Params.(type) {
		case *sqs.ReceiveMessageInput:
			if aws.ToString(in.QueueUrl) == queue {
				short := *in
				short.VisibilityTimeout = int32(tickHide / time.Second)
				return next(ctx, &short)
			}
		case *sqs.ChangeMessageVisibilityInput:
			if aws.ToString(in.QueueUrl) == queue {
				now := *in
				now.VisibilityTimeout = 0
				return next(ctx, &now)
			}
		}
		return next(ctx, c.Params)
	}
}

// visibleAgain waits until no message of the queue is hidden by a tick that ended.
func (w *World) visibleAgain(ctx context.Context, url string) error {
	deadline := time.Now().Add(3 * tickHide)
	for {
		_, hidden, err := w.count(ctx, url)
		if err != nil || hidden == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("queue %s: %d messages still hidden", url, hidden)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waiting counts the messages on a queue, visible or not.
func (w *World) waiting(ctx context.Context, url string) (int, error) {
	visible, hidden, err := w.count(ctx, url)
	return visible + hidden, err
}

func (w *World) count(ctx context.Context, url string) (visible, hidden int, err error) {
	v, h := sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible
	out, err := w.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{v, h}})
	if err != nil {
		return 0, 0, fmt.Errorf("count messages of %s: %w", url, err)
	}
	visible, _ = strconv.Atoi(out.Attributes[string(v)])
	hidden, _ = strconv.Atoi(out.Attributes[string(h)])
	return visible, hidden, nil
}
