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
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/awsenv"
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
	Now     func() time.Time
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
	opts := HandlerOptions{Now: time.Now}
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
	allowed := h.allowlist(ctx)
	var resp Response
	var sqsFailures []events.SQSBatchItemFailure
	var errs []error
	for _, it := range h.expand(ctx, in.Items) {
		o, err := h.process(ctx, it, allowed)
		resp.Outcomes = append(resp.Outcomes, o)
		if err != nil {
			errs = append(errs, err)
			sqsFailures = append(sqsFailures, events.SQSBatchItemFailure{ItemIdentifier: it.ID})
		}
	}
	if in.Kind == envelope.KindSQS {
		return events.SQSEventResponse{BatchItemFailures: sqsFailures}, nil
	}
	if len(errs) == 1 {
		return resp, errs[0] // keeps its type, which Lambda reports as errorType
	}
	return resp, errors.Join(errs...)
}

// process hydrates and captures one item, logging its outcome once.
func (h *Handler) process(ctx context.Context, it envelope.Item, allowed Allowlist) (Outcome, error) {
	o := Outcome{ID: it.ID}
	log := zerolog.Ctx(ctx).With().Str("item", it.ID).Logger()
	doc, captured, err := h.run(ctx, it, allowed)
	if doc != nil {
		o.Status, o.Records = doc.Hydration.Status, len(doc.Records)
		log = log.With().Str("stream", doc.Hydration.StreamARN).Str("shard", doc.Hydration.ShardID).
			Str("from", doc.Hydration.Start).Str("to", doc.Hydration.End).Logger()
	}
	if err != nil {
		o.Error, o.ErrorType = err.Error(), errorType(err)
		log.Error().Err(err).Str("errorType", o.ErrorType).Msg("failure not captured")
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
		h.opts.Emit(doc, captured)
	}
	return o, nil
}

func (h *Handler) run(ctx context.Context, it envelope.Item, allowed Allowlist) (*archive.Document, *Captured, error) {
	if it.Err != nil {
		return nil, nil, it.Err
	}
	doc, err := h.hydrator.Hydrate(ctx, it.Failure, allowed)
	if err != nil || h.capture == nil {
		return doc, nil, err
	}
	captured, err := h.capture.Run(ctx, doc)
	return doc, &captured, err
}

// expand gives every range its own item: an S3 object's record is fetched and
// parsed, and a record naming several ranges (a Kafka batch over several
// topic-partitions) becomes one item per range, under the same ID.
func (h *Handler) expand(ctx context.Context, items []envelope.Item) []envelope.Item {
	out := make([]envelope.Item, 0, len(items))
	for _, it := range items {
		fs := it.Failures
		if it.Object != nil {
			var err error
			if fs, err = h.fetch(ctx, it); err != nil {
				out = append(out, envelope.Item{ID: it.ID, Err: err})
				continue
			}
		}
		if len(fs) == 0 {
			out = append(out, it)
			continue
		}
		for _, f := range fs {
			out = append(out, envelope.Item{ID: it.ID, Failure: f, Failures: []*batch.Failure{f}})
		}
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
	missing := max(doc.Hydration.Expected-distinctParents(doc.Records), 0)
	ms := []emf.Metric{
		{Name: "FailuresHydrated", Unit: emf.Count, Value: 1},
		{Name: "RecordsHydrated", Unit: emf.Count, Value: float64(len(doc.Records))},
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
	_ = emf.Write(h.opts.Metrics, h.opts.Now(), map[string]string{"Function": "hydrate"}, ms...)
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
	s3c := awsenv.S3(cfg)
	var capture *Capture
	if !dryRun {
		a := archive.New(s3c, func(o *archive.Options) {
			o.Bucket, o.Prefix, o.KMSKeyID = c.ArchiveBucket, c.ArchivePrefix, c.KMSKeyID
		})
		q := archive.NewQueue(sqs.NewFromConfig(cfg), func(o *archive.QueueOptions) {
			o.URL, o.Archive = c.DLQURL, a
		})
		capture = NewCapture(a, q, s3c, eventbridge.NewFromConfig(cfg), c.EventBus)
	}
	return NewHandler(New(cfg, c), capture, s3c, optFns...)
}
