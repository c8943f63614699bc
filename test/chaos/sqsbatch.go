package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// The SQS event source mapping the SQSBatch runs play.
const (
	maxSQSBatch = 10 // the template's BatchSize
	sqsReceives = 4  // receives before the queue's redrive policy parks a message
	// sqsDeadline is an invocation's time: short, so that a batch rarely fits and
	// the hydrate function must hand items back.
	sqsDeadline = 1500 * time.Millisecond
	sqsItemTime = 100 * time.Millisecond
	onFailureQ  = "arn:aws:sqs:us-east-1:000000000000:streamdlq-on-failure"
)

// deliverSQS sends the on-failure records through an SQS queue, in batches of up to
// ten.
func (e *runEnv) deliverSQS(ctx context.Context, recs []json.RawMessage) error {
	for len(recs) > 0 {
		n := min(len(recs), maxSQSBatch)
		if err := e.sqsBatch(ctx, recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// sqsBatch plays the event source mapping for one batch: the items the function
// reports in batchItemFailures (or all of them, when the invocation failed) come back
// in the next receive; after sqsReceives they are parked.
func (e *runEnv) sqsBatch(ctx context.Context, pending []json.RawMessage) error {
	e.inj.Invocation()
	for range sqsReceives {
		if len(pending) == 0 {
			return nil
		}
		e.inj.Attempt()
		failed, err := e.sqsInvoke(ctx, pending)
		if err != nil {
			return err
		}
		for range failed {
			e.inj.count(SQSBatch) // an item handed back, to come again
		}
		pending = failed
	}
	if len(pending) == 0 {
		return nil
	}
	e.run.ParkedEvents++
	return e.park(ctx, onfailure.SQSEvent(onFailureQ, pending...))
}

// sqsInvoke is one invocation with the pending items under the short deadline; it
// returns the items that come back.
func (e *runEnv) sqsInvoke(ctx context.Context, pending []json.RawMessage) ([]json.RawMessage, error) {
	payload := onfailure.SQSEvent(onFailureQ, pending...)
	pctx, done := e.inj.Process(ctx, hydrateMaxCalls)
	defer done()
	dctx, cancel := context.WithTimeout(pctx, sqsDeadline)
	defer cancel()
	h := hydrate.NewFromConfig(e.hydrateCfg(), e.hydrateConfig(), false, func(o *hydrate.HandlerOptions) { o.ItemTime = sqsItemTime })
	resp, err := h.Handle(dctx, payload)
	if errors.Is(dctx.Err(), context.DeadlineExceeded) {
		e.inj.cutShort() // a call cut by the deadline may have acted: like a crash
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r, ok := resp.(events.SQSEventResponse)
	if err != nil || !ok || Crashed(pctx) {
		e.run.Errors = append(e.run.Errors, fmt.Sprintf("hydrate sqs: invocation failed: %v", err))
		return pending, nil
	}
	return failedItems(payload, pending, r)
}

// failedItems maps batchItemFailures back to the items of the event.
func failedItems(payload []byte, pending []json.RawMessage, r events.SQSEventResponse) ([]json.RawMessage, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("sqs event: %w", err)
	}
	byID := map[string]json.RawMessage{}
	for i, m := range ev.Records {
		byID[m.MessageId] = pending[i]
	}
	var out []json.RawMessage
	for _, f := range r.BatchItemFailures {
		rec, ok := byID[f.ItemIdentifier]
		if !ok {
			return nil, fmt.Errorf("batchItemFailures names %q, not an item of the batch", f.ItemIdentifier)
		}
		out = append(out, rec)
	}
	return out, nil
}

func (i *Injector) cutShort() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.AfterSend++
}
