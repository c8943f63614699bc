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
	"github.com/streamdlq/streamdlq/internal/clock"
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
	readers  *readers
	kafka    *kafkaReaders
	allowed  Allowlist
	mappings *mappingCheck // nil: no check
	clock    clock.Clock
	// spoolAbove is how many records a document holds in memory before they go to
	// a spool file (archive.Document.SpoolAbove).
	spoolAbove int
}

// defaultSpoolAbove keeps small failures in memory; a larger read goes to a spool
// file in the function's /tmp page by page, so memory grows with the page, not with
// the range.
const defaultSpoolAbove = 1000

// New returns a Hydrator that reads with cfg's credentials, assuming the configured
// role for other accounts' streams.
func New(cfg aws.Config, c Config) *Hydrator {
	h := &Hydrator{readers: newReaders(cfg, c.Roles, c.Deaggregate), allowed: c.Allowed, clock: clock.Real, spoolAbove: c.SpoolAbove}
	h.kafka = newKafkaReaders(c.Kafka, secretsmanager.NewFromConfig(cfg), cfg.Credentials,
		func(account, region string) mskBrokersAPI { return h.readers.forAccountRegion(account, region).msk })
	if h.spoolAbove <= 0 {
		h.spoolAbove = defaultSpoolAbove
	}
	if c.CheckMappings {
		h.mappings = newMappingCheck(c.InputARNs,
			func(account, region string) listMappingsAPI {
				return h.readers.forAccountRegion(account, region).mappings
			},
			func(account, region string) describePipeAPI { return h.readers.forAccountRegion(account, region).pipes })
	}
	return h
}

// Hydrate returns the hydrated failure document for f. Parts of the range that could
// not be read are gaps in the document, not errors: final ones (trimmed, compacted,
// shard-ended) for records proven gone, transient ones for everything else, including a stream
// that refused the whole read (not found, access denied), which makes the document
// incomplete (archive.StatusIncomplete). The caller decides what an incomplete
// document means (Capture archives it and returns an *IncompleteError). The error is
// a *NotAllowedError for a refused stream, a *MappingError for a failure no event
// source mapping vouches for, or a transient error worth retrying.
func (h *Hydrator) Hydrate(ctx context.Context, f *batch.Failure, allowed Allowlist) (*archive.Document, error) {
	return h.Resume(ctx, f, allowed, nil)
}

// Resume is Hydrate for a failure whose incomplete capture prior is archived (nil:
// none): it reads only the parts prior still misses, each from just after the last
// record prior holds before it, so that every attempt makes progress even on a range
// too long to read in one. The document holds what this attempt read, with gaps only
// inside those parts; Capture merges it into prior. A Kafka range is read whole
// again (a failed batch is one Fetch, and offsets need no resume point); the merge
// keeps what either attempt read.
func (h *Hydrator) Resume(ctx context.Context, f *batch.Failure, allowed Allowlist, prior *archive.Document) (*archive.Document, error) {
	if err := h.allow(f, allowed); err != nil {
		return nil, err
	}
	if h.mappings != nil {
		if err := h.mappings.check(ctx, f); err != nil {
			return nil, err
		}
	}
	if f.Source == batch.SourceKafka {
		return h.hydrateKafka(ctx, f)
	}
	doc := &archive.Document{Failure: f.Raw, Hydration: h.summary(f)}
	if f.Payload != nil {
		return doc, h.fromPayload(doc, f)
	}
	ranges, err := resumeRanges(f, prior)
	if err != nil {
		return nil, err
	}
	doc.SpoolAbove(h.spoolAbove, "")
	if err := h.readInto(ctx, doc, f, ranges); err != nil {
		_ = doc.Close() // nothing to keep: the error is retried
		return nil, err
	}
	h.finish(doc, f)
	return doc, nil
}

// allow refuses a stream outside the allowlist (the configured one when allowed is
// empty), before any call is made.
func (h *Hydrator) allow(f *batch.Failure, allowed Allowlist) error {
	if allowed.Empty() {
		allowed = h.allowed
	}
	if f.Source == batch.SourceKafka {
		return h.kafka.allow(f.Kafka, allowed)
	}
	if !allowed.Allows(f.StreamARN) {
		return &NotAllowedError{StreamARN: f.StreamARN, Allowed: allowed.String()}
	}
	return nil
}

// captureReserve is kept from the invocation's deadline for archiving, queueing and
// announcing what was read: a read that runs to the deadline ends with a named
// "deadline" gap for the unread rest instead of losing everything it read.
const captureReserve = 15 * time.Second

// readInto reads ranges of f's shard into doc. A range the stream refuses as a whole
// becomes a transient unreadable gap, or a final trimmed one when its shard is proven
// gone past the stream's retention (expiredShard); any other error is returned for a
// retry.
func (h *Hydrator) readInto(ctx context.Context, doc *archive.Document, f *batch.Failure, ranges []stream.Range) error {
	if deadline, ok := ctx.Deadline(); ok {
		reserve := min(captureReserve, time.Until(deadline)/4)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	hy := &doc.Hydration
	for _, r := range ranges {
		res, err := h.read(ctx, f, r, doc.Add)
		var unreadable *stream.UnreadableError
		switch {
		case errors.As(err, &unreadable):
			g, final := h.expiredShard(ctx, f, r, unreadable)
			if !final {
				g = batch.Gap{From: r.Start, To: r.End, Reason: batch.GapUnreadable, Detail: unreadable.Error()}
			}
			hy.Gaps = append(hy.Gaps, g)
		case err != nil:
			return err
		}
		hy.Gaps = append(hy.Gaps, res.Gaps...)
		hy.Calls += res.Calls
	}
	return nil
}

// read reads r page by page into each, so that only a page is held at a time.
func (h *Hydrator) read(ctx context.Context, f *batch.Failure, r stream.Range, each func([]batch.Record) error) (stream.Result, error) {
	ar := h.readers.forAccountRegion(f.AccountID, f.Region)
	if f.Source == batch.SourceDynamoDB {
		return ar.dynamodb.ReadPages(ctx, r, each)
	}
	return ar.kinesis.ReadPages(ctx, r, each)
}

// resumeRanges are the parts of f's range to read: all of it, or, with an incomplete
// prior capture, its transient gaps, each read after the last record prior holds
// before it. A count mismatch cannot be placed, and a gap with no record before it
// (other than at the start) has no safe position to resume from: both read it all.
func resumeRanges(f *batch.Failure, prior *archive.Document) ([]stream.Range, error) {
	whole := stream.Range{StreamARN: f.StreamARN, ShardID: f.ShardID, Start: f.Start, End: f.End, BatchSize: f.BatchSize, Region: f.Region}
	if prior == nil {
		return []stream.Range{whole}, nil
	}
	missing := batch.Transient(prior.Hydration.Gaps)
	if len(missing) == 0 {
		return []stream.Range{whole}, nil
	}
	after, err := lastBefore(prior, missing)
	if err != nil {
		return nil, err
	}
	var out []stream.Range
	for i, g := range missing {
		r := whole
		r.Start, r.End, r.BatchSize = g.From, g.To, 0
		r.After = after[i]
		if g.Reason == batch.GapCountMismatch || (r.After == "" && g.From != f.Start) {
			return []stream.Range{whole}, nil
		}
		out = append(out, r)
	}
	return out, nil
}

// lastBefore is, for each gap, the sequence number of the last record of d before
// it ("" when none), found in one pass over the records, held or spooled.
func lastBefore(d *archive.Document, gaps []batch.Gap) ([]string, error) {
	out := make([]string, len(gaps))
	for r, err := range d.All() {
		if err != nil {
			return nil, fmt.Errorf("read incomplete capture: %w", err)
		}
		s := r.SequenceNumber()
		for i, g := range gaps {
			if stream.CompareSequence(s, g.From) < 0 {
				out[i] = s // records are in stream order: the last one wins
			}
		}
	}
	return out, nil
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
	if err := checkPayload(f, event.Records); err != nil {
		return err
	}
	if h.readers.deaggregate {
		event.Records = deaggregatePayload(event.Records)
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
		first = h.clock.Now()
	}
	hy := archive.Hydration{
		Source: string(f.Source), StreamARN: f.StreamARN, ShardID: f.ShardID,
		Start: f.Start, End: f.End, Condition: f.Condition, FunctionARN: archive.UnqualifiedARN(f.FunctionARN),
		FirstArrival: first.UTC(), Expected: f.BatchSize, From: "stream",
	}
	if kf := f.Kafka; kf != nil {
		// The archive key names the topic from here, so a prior capture is found too.
		hy.Kafka = &archive.KafkaHydration{Topic: kf.Topic, Partition: kf.Partition,
			ClusterARN: kf.ClusterARN, BootstrapServers: kf.BootstrapServers, FunctionARN: f.FunctionARN}
	}
	return hy
}

// finish dates the document and settles its counts and status.
func (h *Hydrator) finish(doc *archive.Document, _ *batch.Failure) {
	doc.Hydration.HydratedAt = h.clock.Now().UTC()
	settle(doc)
}

// settle sets the counts and the status from the records and the gaps. A range that
// held more records than the consumer saw (filter criteria, parallel lanes) keeps them
// all; one that held fewer with no gap found is reported as a transient count-mismatch
// gap over the whole range, never as complete. Any transient gap makes the document
// incomplete.
func settle(doc *archive.Document) {
	hy := &doc.Hydration
	hy.Fetched = doc.Len()
	parents := doc.Parents()
	if len(hy.Gaps) == 0 && hy.Expected > 0 && parents < hy.Expected {
		hy.Gaps = []batch.Gap{{From: hy.Start, To: hy.End, Reason: batch.GapCountMismatch,
			Detail: fmt.Sprintf("read %d records, the consumer was given %d", parents, hy.Expected)}}
	}
	switch {
	case !hy.Complete():
		hy.Status = archive.StatusIncomplete
	case hy.Fetched == 0 && len(hy.Gaps) > 0:
		hy.Status = archive.StatusUnreadable
	case len(hy.Gaps) > 0:
		hy.Status = archive.StatusPartial
	case parents > hy.Expected && hy.Expected > 0:
		hy.Status = archive.StatusMoreThanBatch
	default:
		hy.Status = archive.StatusComplete
	}
}
