package chaos

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
	"github.com/streamdlq/streamdlq/redrive"
)

// The consumer target's runs.
const (
	// cutBudget is the budget of the first redrive run of a DeadlineMidCall run: the
	// stalled invocation is still in flight when it ends.
	cutBudget = time.Second
	// stallAt is the invocation that stalls: the second, so that one before it has
	// been delivered and must be settled.
	stallAt = 2
	// lambdaBatch caps the records per invocation, so that a failure takes several.
	lambdaBatch = 2
	// poisonCode is what the consumer answers for an event holding the poison record.
	poisonCode = "InvalidRequestContentException"
)

// consumer plays the function that failed, which redrive re-invokes by default: with
// ConsumerTarget it throttles (429), fails (function error) and answers partial batch
// responses at random; with DeadlineMidCall one invocation of the first redrive run
// stalls past that run's budget; with Poison it refuses every event holding the poison
// record as invalid.
type consumer struct {
	fn     *lambdafn.Function
	inj    *Injector
	faults bool
	rate   float64
	poison string // the poison record's id at the function; empty for none

	mu       sync.Mutex
	rng      *rand.Rand
	cutting  bool // the first redrive run of a DeadlineMidCall run is on
	invoked  int  // invocations during it
	struck   bool // the stall struck in it
	deadline bool
}

func newConsumer(rng *rand.Rand, p plan, inj *Injector, rate float64, poison string) *consumer {
	c := &consumer{inj: inj, faults: p.enabled[ConsumerTarget], rate: rate, poison: poison, rng: rng, deadline: p.enabled[DeadlineMidCall]}
	c.fn = (&lambdafn.Function{Respond: c.respond, Stall: c.stall}).Start()
	return c
}

func (c *consumer) respond(ids, seqs []string) (int, string, string) {
	if c.poison != "" && slices.Contains(ids, c.poison) {
		c.inj.count(Poison)
		return 400, "", poisonCode
	}
	if !c.faults {
		return 200, "", ""
	}
	c.mu.Lock()
	x, k := c.rng.Float64(), c.rng.IntN(max(len(seqs), 1))
	c.mu.Unlock()
	switch {
	case x < c.rate:
		c.inj.count(ConsumerTarget)
		return 429, "", ""
	case x < 2*c.rate:
		c.inj.count(ConsumerTarget)
		return 200, "Unhandled", `{"errorType":"ChaosError","errorMessage":"consumer failed (chaos)"}`
	case x < 3*c.rate:
		c.inj.count(ConsumerTarget)
		return 200, "", `{"batchItemFailures":[{"itemIdentifier":"` + seqs[k] + `"}]}`
	}
	return 200, "", ""
}

// stall holds the stallAt-th invocation of the cut run until redrive hangs up.
func (c *consumer) stall([]string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.cutting {
		return 0
	}
	if c.invoked++; c.invoked != stallAt {
		return 0
	}
	c.struck = true
	c.inj.count(DeadlineMidCall)
	return time.Minute
}

// cut starts or ends the cut run; at its end it reports whether the stall struck.
func (c *consumer) cut(on bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cutting, c.invoked = on, 0
	return c.struck
}

// options routes every failure to the function that failed (no route), through the
// flow's faulty configuration.
func (e *runEnv) consumerOptions(o *redrive.Options) {
	o.Routes = nil
	o.Lambda = e.con.fn.Client(e.cfg)
	o.LambdaBatchSize = lambdaBatch
}

// readConsumer reads what the function accepted, in order. A Kinesis record's id is
// its data; a DynamoDB record's, its sequence number.
func (w *World) readConsumer(c *consumer, recs []written, f *found) {
	bySeq := map[string]string{}
	for _, r := range recs {
		bySeq[r.seq] = string(r.data)
	}
	for _, id := range c.fn.Got() {
		d := id
		if data, ok := bySeq[id]; ok {
			d = data
		}
		if f.delivered[d]++; f.delivered[d] == 1 {
			f.order = append(f.order, d)
		}
	}
}

// poisonMiddleware refuses, whole, every PutRecords call holding the poison record, as
// Kinesis refuses a call with one invalid entry (an ExplicitHashKey out of range).
func (i *Injector) poisonMiddleware(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	p, ok := in.Parameters.(*kinesis.PutRecordsInput)
	i.mu.Lock()
	poison := i.poison
	i.mu.Unlock()
	if !ok || poison == nil || !slices.ContainsFunc(p.Records, func(e ktypes.PutRecordsRequestEntry) bool { return bytes.Equal(e.Data, poison) }) {
		return next.HandleInitialize(ctx, in)
	}
	i.count(Poison)
	return middleware.InitializeOutput{}, middleware.Metadata{}, responseError(400, &ktypes.InvalidArgumentException{
		Message: ptr("1 validation error detected: Value at 'records.1.member.explicitHashKey' failed to satisfy constraint (chaos)")})
}

// checkPoison: the poison record is never delivered; when it is parked, the reason
// names the refusal; it may stay on the DLQ only in a run where other faults can hold
// it back.
func checkPoison(r *Run, rec written, f found) {
	reason, parked := f.parkReason[rec.seq]
	switch {
	case f.delivered[string(rec.data)] > 0:
		r.Problems = append(r.Problems, "the poison record was delivered, though the target refuses it")
	case parked && !strings.Contains(reason, poisonCode) && !strings.Contains(reason, "InvalidArgumentException"):
		r.Problems = append(r.Problems, "the poison record was parked with reason "+reason+", not the target's refusal")
	case !parked && len(r.Enabled) == 1:
		r.Problems = append(r.Problems, "the poison record was not parked in a run with no other fault")
	}
}
