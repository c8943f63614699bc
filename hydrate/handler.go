package hydrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/clock"
	"github.com/streamdlq/streamdlq/internal/emf"
	"github.com/streamdlq/streamdlq/internal/envelope"
)

type getObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ getObjectAPI = (*s3.Client)(nil)

// HandlerOptions tune a Handler.
type HandlerOptions struct {
	// Emit, when set, receives every hydrated document (the CLI prints them).
	Emit func(*archive.Document, *Captured)
	// Metrics receives EMF lines; nil disables metrics.
	Metrics io.Writer
	Clock   Clock // the time source; the wall clock by default
	// Clients the handler calls; NewFromConfig builds those left nil.
	Clients Clients
	// ItemTime is the least time an input item is started with after the first (which
	// always starts, so every invocation makes progress): the longest item so far
	// raises it. An item with less time left is handed back unstarted (a
	// *DeferredError: an SQS batch item failure) instead of being cut short by the
	// deadline. Default 15 s.
	ItemTime time.Duration
}

// Handler is the hydrate Lambda function: on-failure records in (SNS, SQS, S3, direct,
// Pipes), hydrated, archived, queued and announced.
type Handler struct {
	hydrator *Hydrator
	capture  *Capture
	objects  getObjectAPI
	opts     HandlerOptions
}

// NewHandler returns a Handler. With capture nil it only hydrates (dry run).
func NewHandler(h *Hydrator, capture *Capture, objects getObjectAPI, optFns ...func(*HandlerOptions)) *Handler {
	opts := HandlerOptions{Clock: clock.Real, ItemTime: captureReserve}
	for _, fn := range optFns {
		fn(&opts)
	}
	return &Handler{hydrator: h, capture: capture, objects: objects, opts: opts}
}

// Outcome is what happened to one input item.
type Outcome struct {
	ID        string    `json:"id"`
	Status    string    `json:"status,omitempty"`
	Records   int       `json:"records"`
	Captured  *Captured `json:"captured,omitempty"`
	Error     string    `json:"error,omitempty"`
	ErrorType string    `json:"errorType,omitempty"`
}

// Response is returned for every input kind but SQS, which gets a partial batch
// response instead.
type Response struct {
	Outcomes []Outcome `json:"outcomes"`
}

// Handle processes one invocation. For SQS it answers with batchItemFailures so one bad
// message does not fail the others; for every other input a failed item fails the
// invocation, so that Lambda retries it and finally parks it in the function's own
// OnFailure destination with its payload.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	ctx = withRequestLogger(ctx)
	log := zerolog.Ctx(ctx)
	in, err := envelope.Parse(payload)
	if err != nil {
		log.Error().Err(err).Str("errorType", errorType(err)).Msg("input refused")
		return nil, err
	}
	resp, sqsFailures, errs := h.items(ctx, in.Items, h.allowlist(ctx))
	if in.Kind == envelope.KindSQS {
		return events.SQSEventResponse{BatchItemFailures: sqsFailures}, nil
	}
	if len(errs) == 1 {
		return resp, errs[0] // keeps its type, which Lambda reports as errorType
	}
	return resp, errors.Join(errs...)
}

// items processes the items in turn, each range with the whole time left; after the
// first, one with less time left than an item needs is handed back unstarted. An
// item's S3 object is fetched, and its Kafka record split into topic-partitions, only
// when it comes up, so that an invocation holds one object's records at a time.
func (h *Handler) items(ctx context.Context, items []envelope.Item, allowed Allowlist) (Response, []events.SQSBatchItemFailure, []error) {
	var resp Response
	var failed []events.SQSBatchItemFailure
	var errs []error
	p := pacer{h: h}
	for _, item := range items {
		ranges := []envelope.Item{item}
		if p.started == 0 || hasTime(ctx, p.need()) {
			ranges = h.expand(ctx, item)
		}
		for _, it := range ranges {
			o, err := p.take(ctx, it, allowed)
			resp.Outcomes = append(resp.Outcomes, o)
			if err != nil {
				errs = append(errs, err)
				// The ranges of one message share its ID: hand it back once.
				if n := len(failed); n == 0 || failed[n-1].ItemIdentifier != it.ID {
					failed = append(failed, events.SQSBatchItemFailure{ItemIdentifier: it.ID})
				}
			}
		}
	}
	return resp, failed, errs
}

// pacer starts items while there is time for them: the first always, each later one
// only with at least the longest item so far (or ItemTime) left.
type pacer struct {
	h       *Handler
	started int
	longest time.Duration
}

func (p *pacer) need() time.Duration { return max(p.longest, p.h.opts.ItemTime) }

func (p *pacer) take(ctx context.Context, it envelope.Item, allowed Allowlist) (Outcome, error) {
	if need := p.need(); p.started > 0 && !hasTime(ctx, need) {
		return deferItem(ctx, it, need)
	}
	p.started++
	start := p.h.opts.Clock.Now()
	o, err := p.h.process(ctx, it, allowed)
	p.longest = max(p.longest, p.h.opts.Clock.Now().Sub(start))
	return o, err
}

// DeferredError reports an input item handed back without being started: the time
// left in the invocation was less than an item needs. For SQS it is a batch item
// failure, so the message comes back; nothing was read or written for it.
type DeferredError struct {
	ID   string
	Left time.Duration // time left when the item came up
	Need time.Duration // what an item is given at least
}

func (e *DeferredError) Error() string {
	return fmt.Sprintf("item %s not started: %s left, an item needs %s; handed back for the next delivery", e.ID, e.Left.Round(time.Millisecond), e.Need)
}

// hasTime reports whether ctx leaves at least need before its deadline.
func hasTime(ctx context.Context, need time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= need
}

// deferItem hands an item back unstarted, logging it once.
func deferItem(ctx context.Context, it envelope.Item, need time.Duration) (Outcome, error) {
	deadline, _ := ctx.Deadline()
	err := &DeferredError{ID: it.ID, Left: max(time.Until(deadline), 0), Need: need}
	zerolog.Ctx(ctx).Warn().Str("item", it.ID).Err(err).Msg("item handed back")
	return Outcome{ID: it.ID, Error: err.Error(), ErrorType: errorType(err)}, err
}

// process hydrates and captures one item, logging its outcome once.
func (h *Handler) process(ctx context.Context, it envelope.Item, allowed Allowlist) (Outcome, error) {
	o := Outcome{ID: it.ID}
	log := zerolog.Ctx(ctx).With().Str("item", it.ID).Logger()
	doc, captured, err := h.run(ctx, it, allowed)
	if doc != nil {
		defer doc.Close() // its spool file, if any
		o.Status, o.Records = doc.Hydration.Status, doc.Len()
		log = log.With().Str("stream", doc.Hydration.StreamARN).Str("shard", doc.Hydration.ShardID).
			Str("from", doc.Hydration.Start).Str("to", doc.Hydration.End).Logger()
	}
	if err != nil {
		o.Error, o.ErrorType = err.Error(), errorType(err)
		log.Error().Err(err).Str("errorType", o.ErrorType).Msg("failure not captured")
		// What an incomplete attempt read is still shown (the CLI prints it).
		if inc := (*IncompleteError)(nil); errors.As(err, &inc) && doc != nil && h.opts.Emit != nil {
			h.emit(log, doc, captured)
		}
		return o, err
	}
	o.Captured = captured
	ev := log.Info().Str("status", o.Status).Int("records", o.Records).
		Int("expected", doc.Hydration.Expected).Int("apiCalls", doc.Hydration.Calls).Interface("gaps", doc.Hydration.Gaps)
	if captured != nil {
		ev = ev.Str("archiveKey", captured.Archive.Key).Bool("claimCheck", captured.ClaimCheck).Bool("duplicate", captured.Duplicate)
	}
	ev.Msg("failure hydrated")
	h.metrics(doc, captured)
	if h.opts.Emit != nil {
		h.emit(log, doc, captured)
	}
	return o, nil
}

// emit hands doc to Emit with its records in Records: a spooled document's are read
// back (Emit is the CLI's, which prints them).
func (h *Handler) emit(log zerolog.Logger, doc *archive.Document, captured *Captured) {
	if err := doc.Load(); err != nil {
		log.Warn().Err(err).Msg("records not read back for output")
	}
	h.opts.Emit(doc, captured)
}

func (h *Handler) run(ctx context.Context, it envelope.Item, allowed Allowlist) (*archive.Document, *Captured, error) {
	if it.Err != nil {
		return nil, nil, it.Err
	}
	prior, err := h.prior(ctx, it.Failure, allowed)
	if err != nil {
		return nil, nil, err
	}
	if prior != nil {
		defer prior.Close()
	}
	doc, err := h.hydrator.Resume(ctx, it.Failure, allowed, prior)
	if err != nil {
		return doc, nil, err
	}
	if h.capture == nil {
		return doc, nil, incomplete(doc, "")
	}
	captured, err := h.capture.Run(ctx, doc)
	return doc, &captured, err
}

// prior is the incomplete capture an earlier attempt archived for f, which this one
// continues; nil when there is none, in a dry run, and for S3 payloads.
func (h *Handler) prior(ctx context.Context, f *batch.Failure, allowed Allowlist) (*archive.Document, error) {
	if h.capture == nil || f.Payload != nil {
		return nil, nil
	}
	if err := h.hydrator.allow(f, allowed); err != nil {
		return nil, err
	}
	return h.capture.Incomplete(ctx, h.hydrator.summary(f))
}

// expand gives every range of an item its own item: an S3 object's record is fetched
// and parsed, and a record naming several ranges (a Kafka batch over several
// topic-partitions) becomes one item per range, under the same ID.
func (h *Handler) expand(ctx context.Context, it envelope.Item) []envelope.Item {
	fs := it.Failures
	if it.Object != nil {
		var err error
		if fs, err = h.fetch(ctx, it); err != nil {
			return []envelope.Item{{ID: it.ID, Err: err}}
		}
	}
	if len(fs) == 0 {
		return []envelope.Item{it}
	}
	out := make([]envelope.Item, 0, len(fs))
	for _, f := range fs {
		out = append(out, envelope.Item{ID: it.ID, Failure: f, Failures: []*batch.Failure{f}})
	}
	return out
}

// fetch reads an S3 on-failure destination object and parses it.
func (h *Handler) fetch(ctx context.Context, it envelope.Item) ([]*batch.Failure, error) {
	ref := it.Object
	out, err := h.objects.GetObject(ctx, &s3.GetObjectInput{Bucket: &ref.Bucket, Key: &ref.Key})
	if err != nil {
		return nil, fmt.Errorf("get on-failure object s3://%s/%s: %w", ref.Bucket, ref.Key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, envelope.MaxObjectSize+1))
	if err != nil {
		return nil, fmt.Errorf("read on-failure object s3://%s/%s: %w", ref.Bucket, ref.Key, err)
	}
	if len(body) > envelope.MaxObjectSize {
		return nil, &envelope.ParseError{MessageID: it.ID, Field: "object", Err: fmt.Errorf("larger than %d bytes", envelope.MaxObjectSize)}
	}
	return envelope.ParseRecords(body, it.ID)
}

// allowlist is the configured allowlist or, when none is, the streams of the
// function's own account and region (from the invoked function's ARN).
func (h *Handler) allowlist(ctx context.Context) Allowlist {
	if !h.hydrator.allowed.Empty() {
		return h.hydrator.allowed
	}
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return Allowlist{}
	}
	parts := strings.Split(lc.InvokedFunctionArn, ":")
	if len(parts) < 5 || parts[0] != "arn" {
		return Allowlist{}
	}
	return SameAccount(parts[1], parts[3], parts[4])
}

func (h *Handler) metrics(doc *archive.Document, c *Captured) {
	if h.opts.Metrics == nil {
		return
	}
	missing := max(doc.Hydration.Expected-doc.Parents(), 0)
	ms := []emf.Metric{
		{Name: "FailuresHydrated", Unit: emf.Count, Value: 1},
		{Name: "RecordsHydrated", Unit: emf.Count, Value: float64(doc.Len())},
		{Name: "RecordsMissing", Unit: emf.Count, Value: float64(missing)},
	}
	if c != nil {
		claim := 0.0
		if c.ClaimCheck {
			claim = 1
		}
		ms = append(ms, emf.Metric{Name: "BytesArchived", Unit: emf.Bytes, Value: float64(c.Archive.Size)},
			emf.Metric{Name: "ClaimChecks", Unit: emf.Count, Value: claim})
	}
	_ = emf.Write(h.opts.Metrics, h.opts.Clock.Now(), map[string]string{"Function": "hydrate"}, ms...)
}

// withRequestLogger puts the Lambda request id on the context's logger.
func withRequestLogger(ctx context.Context) context.Context {
	l := zerolog.Ctx(ctx)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		ll := l.With().Str("requestId", lc.AwsRequestID).Logger()
		l = &ll
	}
	return l.WithContext(ctx)
}

// errorType names an error by its first type below fmt's wrapping, as Lambda's
// errorType does for a returned error.
func errorType(err error) string {
	for strings.HasPrefix(fmt.Sprintf("%T", err), "*fmt.") {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", err), "*")
}

// NewFromConfig wires a Handler from the AWS config and the hydrator's configuration:
// the wiring shared by the Lambda function and the CLI. With dryRun, nothing is
// written anywhere.
func NewFromConfig(cfg aws.Config, c Config, dryRun bool, optFns ...func(*HandlerOptions)) *Handler {
	opts := HandlerOptions{Clock: clock.Real, ItemTime: captureReserve}
	for _, fn := range optFns {
		fn(&opts)
	}
	cl := opts.Clients.withDefaults(cfg)
	var capture *Capture
	if !dryRun {
		a := archive.New(cl.S3, func(o *archive.Options) {
			o.Bucket, o.Prefix, o.KMSKeyID = c.ArchiveBucket, c.ArchivePrefix, c.KMSKeyID
		})
		q := archive.NewQueue(cl.SQS, func(o *archive.QueueOptions) {
			o.URL, o.Archive = c.DLQURL, a
		})
		capture = NewCapture(a, q, cl.S3, cl.EventBridge, c.EventBus)
		if c.SpoolAbove > 0 {
			capture.spoolAbove = c.SpoolAbove
		}
	}
	hy := New(cfg, c)
	hy.readers.withClients(cl.Kinesis, cl.DynamoDBStreams)
	hy.clock = opts.Clock
	return NewHandler(hy, capture, cl.S3, func(o *HandlerOptions) { *o = opts })
}
