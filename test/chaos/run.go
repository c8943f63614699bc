package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
	"github.com/streamdlq/streamdlq/redrive"
)

// Settings tune the runs.
type Settings struct {
	// Trace, when set, is told every SDK call attempt of the flow and its fate.
	Trace func(call int, service, op, fate string)

	MinRecords, MaxRecords int     // written to the source per run
	ClassChance            float64 // chance that each fault class is enabled in a run
	Rate                   float64 // chance that an SDK call attempt fails, per enabled call class
}

// DefaultSettings keep a run around a second on the local AWS.
var DefaultSettings = Settings{MinRecords: 4, MaxRecords: 24, ClassChance: 0.3, Rate: 0.08}

// Lambda's behaviour the runs play.
const (
	asyncAttempts   = 3 // an async invocation and Lambda's two retries
	redriveRuns     = 4 // scheduled redrive invocations within a run
	visibility      = 2 * time.Second
	maxReceives     = 3
	hydrateMaxCalls = 12 // a crash strikes at one of the first this many SDK calls
	redriveMaxCalls = 16
	topicARN        = "arn:aws:sns:us-east-1:000000000000:streamdlq-on-failure"
)

// Run is what one seeded run did and what the oracle found.
type Run struct {
	Seed      int64
	Enabled   []Class
	Injected  map[Class]int
	AfterSend int // faults after the service acted (crashes included): what makes duplicates
	Tally
	ParkedEvents int // on-failure events parked after Lambda's retries
	// RehydrateTicks are the rehydration schedule's invocations; Rehydrated the parked
	// events they hydrated.
	RehydrateTicks, Rehydrated int
	Problems                   []string
	Payloads                   [][]byte // the records' data, for the log scan
	Errors                     []string // why invocations failed, for a failing run's report
}

// written is a record the run put on the source stream.
type written struct {
	seq, key string
	data     []byte
	index    int
	failure  int // which on-failure record names it
}

// plan is a run's random choices, drawn before anything happens.
type plan struct {
	enabled    map[Class]bool
	records    int
	failures   int
	keys       int
	maxMessage int // the DLQ's MaximumMessageSize
	lateDup    bool
	consumers  int   // consumer functions failing on each range
	denied     int   // attempts of each invocation refused, with Denied
	pageLimit  int32 // GetRecords Limit, with Denied
	consumer   bool  // the failures go to the consumer function (no route)
	poison     int   // index of the record the target refuses, with Poison
}

func newPlan(rng *rand.Rand, s Settings) plan {
	p := plan{enabled: map[Class]bool{}, records: s.MinRecords + rng.IntN(s.MaxRecords-s.MinRecords+1),
		failures: 1 + rng.IntN(2), keys: 1 + rng.IntN(4), maxMessage: 262144, lateDup: rng.IntN(2) == 0}
	for _, c := range Classes {
		if rng.Float64() < s.ClassChance {
			p.enabled[c] = true
		}
	}
	if rng.IntN(4) == 0 {
		p.maxMessage = 2048 // most documents become claim checks
	}
	if p.enabled[OutOfOrder] {
		// Order across failures is a shard's, consumer by consumer: one consumer
		// makes the first copies on the target comparable.
		delete(p.enabled, TwoConsumers)
		p.failures = 2
	}
	p.consumers = 1
	if p.enabled[TwoConsumers] {
		p.consumers = 2
	}
	if p.enabled[Denied] {
		p.denied, p.pageLimit = 1+rng.IntN(2), int32(1+rng.IntN(4))
	}
	if p.enabled[SQSBatch] {
		p.failures = min(p.records, 2+rng.IntN(maxSQSBatch-1))
	}
	if p.enabled[DynamoDBSource] {
		// Trimming and the denial are played on Kinesis calls only.
		delete(p.enabled, Trimmed)
		delete(p.enabled, Denied)
	}
	p.forKafka()
	p.consumer = p.enabled[ConsumerTarget] || p.enabled[DeadlineMidCall]
	if p.enabled[DynamoDBSource] && !p.consumer {
		delete(p.enabled, Poison) // the SQS target has no whole-call refusal to play
	}
	if p.enabled[Poison] {
		p.poison = rng.IntN(p.records)
	}
	return p
}

// consumerARNs are the functions whose batches fail; a run uses the first
// plan.consumers of them.
var consumerARNs = []string{
	"arn:aws:lambda:us-east-1:000000000000:function:consumer",
	"arn:aws:lambda:us-east-1:000000000000:function:second-consumer:live",
}

// Run plays one seeded run: records written, their batch given up on, the on-failure
// records delivered through SNS to the hydrate function (retried and finally parked as
// Lambda does), the DLQ redriven to the target stream by scheduled runs, and then the
// oracle's check of every record.
func (w *World) Run(ctx context.Context, seed int64, s Settings) (*Run, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	p := newPlan(rng, s)
	inj := NewInjector(rand.New(rand.NewPCG(uint64(seed), 2)), p.enabled, s.Rate)
	inj.Trace = s.Trace
	r := &Run{Seed: seed, Injected: inj.Injected}
	for _, c := range Classes {
		if p.enabled[c] {
			r.Enabled = append(r.Enabled, c)
		}
	}
	if err := w.streamsForRun(ctx); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s-%d", w.name, seed)
	q, err := w.createQueues(ctx, name, p.maxMessage)
	if err != nil {
		return nil, err
	}
	defer w.deleteQueues(ctx, q)
	from := source{kind: "kinesis", arn: w.source, shard: w.sourceShard, route: redrive.PrefixKinesis + w.target}
	recs := w.records(seed, rng, p)
	if p.enabled[DynamoDBSource] {
		from, err = w.dynamoDBSource(ctx, name, recs)
		defer w.dropDynamoDBSource(ctx, from)
	} else if p.enabled[KafkaSource] {
		from, err = w.kafkaSource(ctx, name, recs, rand.New(rand.NewPCG(uint64(seed), 4)), inj)
		defer from.kafka.close()
	} else {
		err = w.write(ctx, recs)
	}
	if err != nil {
		return nil, err
	}
	cut(rng, recs, p.failures)
	for _, rec := range recs {
		r.Payloads = append(r.Payloads, rec.data)
	}
	trimmed := map[string]bool{}
	if p.enabled[Trimmed] && len(recs) > 1 {
		t := 1 + rng.IntN(len(recs)-1)
		if from.kafka != nil {
			if err := from.kafka.trim(ctx, recs[t].seq, inj); err != nil {
				return nil, err
			}
		} else {
			inj.Trim(from.arn, from.shard, recs[t].seq, recs[t-1].seq)
		}
		for _, rec := range recs[:t] {
			trimmed[rec.seq] = true
		}
	}
	inj.source = from.arn
	if p.enabled[Denied] {
		inj.Deny(p.denied, p.pageLimit)
	}
	env := &runEnv{World: w, inj: inj, cfg: w.faulty(inj), q: q, prefix: name, run: r, trimmed: trimmed, consumers: p.consumers, from: from,
		failedAt: time.Now().UTC().Truncate(time.Second)}
	if p.enabled[Poison] {
		env.poison = &recs[p.poison]
	}
	if p.enabled[Hostile] {
		if env.hostile, err = env.newHostile(ctx, rand.New(rand.NewPCG(uint64(seed), 4)), recs); err != nil {
			return nil, err
		}
		defer env.hostile.mappings.Close()
		r.Payloads = append(r.Payloads, env.hostile.bait...)
	}
	if p.consumer {
		env.con = newConsumer(rand.New(rand.NewPCG(uint64(seed), 3)), p, inj, s.Rate, poisonID(env.poison, from))
		defer env.con.fn.Close()
	} else if env.poison != nil {
		inj.poison = env.poison.data
	}
	if err := env.play(ctx, recs, p); err != nil {
		return nil, err
	}
	r.AfterSend = inj.AfterSend
	return r, w.check(ctx, env, recs)
}

// records draws the run's records. Each payload carries a secret the log scan looks
// for.
func (w *World) records(seed int64, rng *rand.Rand, p plan) []written {
	recs := make([]written, p.records)
	for i := range recs {
		recs[i] = written{index: i, key: fmt.Sprintf("key-%d", rng.IntN(p.keys)),
			data: fmt.Appendf(nil, `{"run":%d,"i":%d,"secret":"s3cr3t-%d-%d-%x"}`, seed, i, seed, i, rng.Uint64())}
	}
	return recs
}

// write puts the run's records on the Kinesis source stream.
func (w *World) write(ctx context.Context, recs []written) error {
	entries := make([]ktypes.PutRecordsRequestEntry, len(recs))
	for i, r := range recs {
		entries[i] = ktypes.PutRecordsRequestEntry{Data: r.data, PartitionKey: aws.String(r.key)}
	}
	out, err := w.k.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: &w.source, Records: entries})
	if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
		return fmt.Errorf("put records: %v (%d failed)", err, aws.ToInt32(out.FailedRecordCount))
	}
	for i, e := range out.Records {
		recs[i].seq = aws.ToString(e.SequenceNumber)
	}
	return nil
}

// cut gives the records, in order, to p.failures failed batches.
func cut(rng *rand.Rand, recs []written, failures int) {
	starts := failureStarts(rng, len(recs), failures)
	for i := range recs {
		for _, s := range starts {
			if i >= s {
				recs[i].failure++
			}
		}
	}
}

// failureStarts cuts n records into k contiguous failed batches (k <= n), returning
// where batches 1..k-1 start.
func failureStarts(rng *rand.Rand, n, k int) []int {
	switch {
	case k <= 1 || n <= 1:
		return nil
	case k == 2:
		return []int{1 + rng.IntN(n-1)}
	}
	starts := rng.Perm(n - 1)[:min(k, n)-1]
	for i := range starts {
		starts[i]++
	}
	slices.Sort(starts)
	return starts
}

// runEnv is what a run's steps share.
type runEnv struct {
	*World
	inj    *Injector
	cfg    aws.Config
	q      queues
	prefix string
	run    *Run
	// trimmed are the records trimmed before the first attempt.
	trimmed        map[string]bool
	consumers      int
	from           source
	con            *consumer // the consumer function, when the failures go back to it
	poison         *written  // the record the target refuses, with Poison
	acrossFailures bool      // OutOfOrder: each key's order holds across failures
	// failedAt is when Lambda gave up on the run's batches: now, so that the records
	// are within the stream's retention when the rehydration schedule runs.
	failedAt time.Time
	redriven bool     // the redrive ran once: late SNS duplicates are redriven again
	hostile  *hostile // Hostile: the forged and foreign inputs
}

// poisonID is the poison record's id at the consumer function.
func poisonID(rec *written, from source) string {
	switch {
	case rec == nil:
		return ""
	case from.kind == "dynamodb":
		return rec.seq
	}
	return string(rec.data)
}

// source is the stream a run's records are written to and read back from, and the
// redrive target they go to.
type source struct {
	kind, arn, shard string
	route            string // redrive target spec
	table, queue     string // DynamoDB runs: the table and the target queue
	kafka            *kafkaRun
}

// play delivers the on-failure records, re-hydrates the events parked after Lambda's
// retries as the schedule does, and redrives; SNS duplicates come right away or after
// the redrive, when the first copy's message is long gone from the DLQ (and what they
// park is re-hydrated and redriven in turn).
func (e *runEnv) play(ctx context.Context, recs []written, p plan) error {
	var now, late []json.RawMessage
	if p.consumers > 1 {
		e.inj.count(TwoConsumers)
	}
	for f := 0; f < p.consumers*(recs[len(recs)-1].failure+1); f++ {
		rec := e.onFailure(recs, f/p.consumers, consumerARNs[f%p.consumers])
		now = append(now, rec)
		if p.enabled[Duplicate] {
			e.inj.count(Duplicate)
			if !p.lateDup {
				now = append(now, rec)
			} else {
				late = append(late, rec)
			}
		}
	}
	if p.enabled[OutOfOrder] {
		slices.Reverse(now)
		e.inj.count(OutOfOrder)
		e.acrossFailures = true
	}
	deliver := e.deliverSNS
	if p.enabled[SQSBatch] {
		deliver = e.deliverSQS
	}
	for i, batch := range [][]json.RawMessage{now, late} {
		if len(batch) == 0 {
			continue
		}
		if err := deliver(ctx, batch); err != nil {
			return err
		}
		if i == 0 && e.hostile != nil {
			if err := e.deliverHostile(ctx); err != nil {
				return err
			}
		}
		if err := e.rehydrate(ctx); err != nil {
			return err
		}
		if err := e.redrive(ctx); err != nil {
			return err
		}
	}
	return nil
}

// deliverSNS sends each on-failure record through SNS: one async invocation each.
func (e *runEnv) deliverSNS(ctx context.Context, recs []json.RawMessage) error {
	for _, rec := range recs {
		if err := e.invoke(ctx, onfailure.SNSEvent(topicARN, rec)); err != nil {
			return err
		}
	}
	return nil
}

func (e *runEnv) onFailure(recs []written, f int, consumer string) json.RawMessage {
	var mine []written
	for _, r := range recs {
		if r.failure == f {
			mine = append(mine, r)
		}
	}
	if e.from.kafka != nil {
		return e.from.kafka.onFailure(mine, consumer, e.failedAt)
	}
	return onfailure.Record(onfailure.Batch{Source: e.from.kind, StreamARN: e.from.arn,
		ShardID: e.from.shard, Start: mine[0].seq, End: mine[len(mine)-1].seq, BatchSize: len(mine),
		FunctionARN: consumer, Time: e.failedAt})
}

func (e *runEnv) hydrateConfig() hydrate.Config {
	c := hydrate.Config{ArchiveBucket: e.bucket, ArchivePrefix: e.prefix, DLQURL: e.q.dlq, EventBus: e.bus}
	c.Allowed, _ = hydrate.ParseAllowlist(e.from.arn)
	c.CheckMappings = e.hostile != nil // the template's default; on where forged records come
	if e.from.kafka != nil {
		e.from.kafka.hydrateConfig(&c)
	}
	return c
}

// invoke is an asynchronous invocation of the hydrate function: each attempt in a
// fresh process, up to Lambda's two retries, then the event is parked in the
// function's OnFailure destination with its payload.
func (e *runEnv) invoke(ctx context.Context, payload []byte) error {
	c := e.hydrateConfig()
	e.inj.Invocation()
	for range asyncAttempts {
		e.inj.Attempt()
		pctx, done := e.inj.Process(ctx, hydrateMaxCalls)
		_, err := hydrate.NewFromConfig(e.hydrateCfg(), c, false).Handle(pctx, payload)
		done()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			return nil
		}
		e.run.Errors = append(e.run.Errors, "hydrate: "+err.Error())
	}
	e.run.ParkedEvents++
	return e.park(ctx, payload)
}

// park sends what Lambda sends an async invocation's OnFailure destination.
func (e *runEnv) park(ctx context.Context, payload []byte) error {
	body, err := json.Marshal(map[string]any{
		"version": "1.0", "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"requestContext":  map[string]any{"condition": "RetriesExhausted", "approximateInvokeCount": asyncAttempts},
		"requestPayload":  json.RawMessage(payload),
		"responseContext": map[string]any{"statusCode": 200, "functionError": "Unhandled"},
	})
	if err != nil {
		return err
	}
	_, err = e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &e.q.parked, MessageBody: aws.String(string(body))})
	return err
}

func (i *Injector) count(c Class) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.Injected[c]++
}
