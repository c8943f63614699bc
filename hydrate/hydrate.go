package hydrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/envelope"
	"github.com/streamdlq/streamdlq/internal/stream"
)

// NotAllowedError refuses a failure that names a stream outside the allowlist. It is
// returned before any call is made.
type NotAllowedError struct {
	StreamARN string
	Allowed   string
}

func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("hydrate: stream %s is not in the allowlist (%s); set STREAMDLQ_ALLOWED_STREAMS to read it", e.StreamARN, e.Allowed)
}

// Hydrator reads the records an on-failure record names back from their stream.
type Hydrator struct {
	readers *readers
	kafka   *kafkaReaders
	allowed Allowlist
	now     func() time.Time
}

// New returns a Hydrator that reads with cfg's credentials, assuming the configured
// role for other accounts' streams.
func New(cfg aws.Config, c Config) *Hydrator {
	return &Hydrator{readers: newReaders(cfg, c.Roles, c.Deaggregate), kafka: newKafkaReaders(c.Kafka, secretsmanager.NewFromConfig(cfg), cfg.Credentials), allowed: c.Allowed, now: time.Now}
}

// Hydrate returns the hydrated failure document for f. Parts of the range that could
// not be read are gaps in the document, not errors; a stream that cannot be read at
// all gives a document with status unreadable. The error is a *NotAllowedError for a
// refused stream, or a transient error worth retrying.
func (h *Hydrator) Hydrate(ctx context.Context, f *batch.Failure, allowed Allowlist) (*archive.Document, error) {
	if f.Source == batch.SourceKafka {
		return h.hydrateKafka(ctx, f, allowed)
	}
	if allowed.Empty() {
		allowed = h.allowed
	}
	if !allowed.Allows(f.StreamARN) {
		return nil, &NotAllowedError{StreamARN: f.StreamARN, Allowed: allowed.String()}
	}
	doc := &archive.Document{Failure: f.Raw, Hydration: h.summary(f)}
	if f.Payload != nil {
		return doc, h.fromPayload(doc, f)
	}
	res, err := h.read(ctx, f)
	var unreadable *stream.UnreadableError
	switch {
	case errors.As(err, &unreadable):
		doc.Hydration.Gaps = []batch.Gap{{From: f.Start, To: f.End, Reason: batch.GapUnreadable, Detail: unreadable.Error()}}
	case err != nil:
		return nil, err
	default:
		doc.Records, doc.Hydration.Gaps, doc.Hydration.Calls = res.Records, res.Gaps, res.Calls
	}
	h.finish(doc, f)
	return doc, nil
}

// captureReserve is kept from the invocation's deadline for archiving, queueing and
// announcing what was read: a read that runs to the deadline ends with a named
// "deadline" gap for the unread rest instead of losing everything it read.
const captureReserve = 15 * time.Second

func (h *Hydrator) read(ctx context.Context, f *batch.Failure) (stream.Result, error) {
	if deadline, ok := ctx.Deadline(); ok {
		reserve := min(captureReserve, time.Until(deadline)/4)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	r := stream.Range{StreamARN: f.StreamARN, ShardID: f.ShardID, Start: f.Start, End: f.End, BatchSize: f.BatchSize, Region: f.Region}
	ar := h.readers.forAccount(f.AccountID)
	if f.Source == batch.SourceDynamoDB {
		return ar.dynamodb.Read(ctx, r)
	}
	return ar.kinesis.Read(ctx, r)
}

// fromPayload takes the records an S3 on-failure destination object carries: no
// stream read is needed, and the output is the same as if they had been read.
func (h *Hydrator) fromPayload(doc *archive.Document, f *batch.Failure) error {
	var event struct {
		Records []batch.Record `json:"Records"`
	}
	if err := json.Unmarshal(f.Payload, &event); err != nil {
		return &envelope.ParseError{Field: "payload.Records", Err: err}
	}
	doc.Records = event.Records
	doc.Hydration.From = "s3-payload"
	h.finish(doc, f)
	return nil
}

func (h *Hydrator) summary(f *batch.Failure) archive.Hydration {
	first := f.FirstArrival
	if first.IsZero() {
		first = f.Timestamp
	}
	if first.IsZero() {
		first = h.now()
	}
	return archive.Hydration{
		Source: string(f.Source), StreamARN: f.StreamARN, ShardID: f.ShardID,
		Start: f.Start, End: f.End, Condition: f.Condition,
		FirstArrival: first.UTC(), Expected: f.BatchSize, From: "stream",
	}
}

// finish sets the counts and the status. A range that held more records than the
// consumer saw (filter criteria, parallel lanes) keeps them all; one that held fewer
// with no gap found is reported as a gap over the whole range, never as complete.
func (h *Hydrator) finish(doc *archive.Document, f *batch.Failure) {
	hy := &doc.Hydration
	hy.Fetched = len(doc.Records)
	hy.HydratedAt = h.now().UTC()
	parents := distinctParents(doc.Records)
	switch {
	case hy.Fetched == 0 && len(hy.Gaps) > 0:
		hy.Status = archive.StatusUnreadable
	case len(hy.Gaps) > 0:
		hy.Status = archive.StatusPartial
	case f.BatchSize > 0 && parents < f.BatchSize:
		hy.Gaps = []batch.Gap{{From: f.Start, To: f.End, Reason: batch.GapCountMismatch,
			Detail: fmt.Sprintf("read %d records, the consumer was given %d", parents, f.BatchSize)}}
		hy.Status = archive.StatusPartial
	case parents > f.BatchSize && f.BatchSize > 0:
		hy.Status = archive.StatusMoreThanBatch
	default:
		hy.Status = archive.StatusComplete
	}
}

// distinctParents counts stream records, counting KPL sub-records once per parent,
// since batchSize counts what the consumer was handed.
func distinctParents(recs []batch.Record) int {
	n := 0
	for i, r := range recs {
		if i > 0 && r.SequenceNumber() == recs[i-1].SequenceNumber() {
			continue
		}
		n++
	}
	return n
}
