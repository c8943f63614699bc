package hydrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streamdlq/streamdlq/archive"
)

// Event detail types on the bus.
const (
	DetailHydrated    = "Failure Hydrated"
	DetailNotHydrated = "Failure Not Hydrated"
	EventSource       = "streamdlq"
)

// queuedTag marks an archive object whose DLQ message was sent, so a retried
// invocation does not queue it twice.
const queuedTag = "streamdlq-queued"

type putEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

type objectTaggingAPI interface {
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
}

var (
	_ putEventsAPI     = (*eventbridge.Client)(nil)
	_ objectTaggingAPI = (*s3.Client)(nil)
)

// Capture lands a hydrated failure durably: archive first, then the DLQ, then the
// announcement. Each step is safe to repeat: a retried invocation finds the archive
// object (conditional create) and its queued tag, and continues from the next step.
//
// Only a complete capture (no transient gap) is queued and announced. An incomplete
// one is archived, so that records near their retention are kept at once, and Run
// fails with an *IncompleteError; the next attempt merges what it reads into that
// object and overwrites it (If-Match on its ETag) until it is complete. A complete
// capture is never overwritten, so the DLQ only ever gets the complete set, once.
type Capture struct {
	archive *archive.Archive
	queue   *archive.Queue
	tags    objectTaggingAPI
	events  putEventsAPI
	bus     string
	// spoolAbove is how many records of an archived capture, read back to be
	// queued, are held in memory before they go to a spool file.
	spoolAbove int
}

// Captured says where a failure landed.
type Captured struct {
	Archive    archive.Location `json:"archive"`
	MessageID  string           `json:"dlqMessageId"`
	ClaimCheck bool             `json:"claimCheck"`
	Duplicate  bool             `json:"duplicate"` // the archive object existed complete: a repeated delivery
}

// NewCapture returns a Capture; events may be nil when bus is empty.
func NewCapture(a *archive.Archive, q *archive.Queue, tags objectTaggingAPI, events putEventsAPI, bus string) *Capture {
	return &Capture{archive: a, queue: q, tags: tags, events: events, bus: bus, spoolAbove: defaultSpoolAbove}
}

// Run archives, queues and announces doc. For a doc, or an archived capture, that is
// still incomplete it archives what is known and returns an *IncompleteError.
func (c *Capture) Run(ctx context.Context, doc *archive.Document) (Captured, error) {
	loc, held, err := c.land(ctx, doc)
	if err != nil {
		return Captured{}, err
	}
	out := Captured{Archive: loc, Duplicate: !loc.Created && !loc.Replaced}
	if held != nil && held != doc {
		defer held.Close()
	}
	if held != nil {
		if err := incomplete(held, loc.Key); err != nil {
			return out, err
		}
		doc = held
	}
	if out.MessageID, err = c.queuedBefore(ctx, loc); err != nil {
		return out, err
	}
	if out.MessageID == "" {
		if held == nil {
			// A retry can read less than the attempt that archived (records trimmed
			// since, a denied read): queue what the archive holds, never less.
			if doc, err = c.archive.GetSpooled(ctx, loc.Key, c.spoolAbove); err != nil {
				return out, fmt.Errorf("read archived failure %s: %w", loc.Key, err)
			}
			defer doc.Close()
		}
		sent, err := c.queue.Send(ctx, doc, loc)
		if err != nil {
			return out, err
		}
		out.MessageID, out.ClaimCheck = sent.MessageID, sent.ClaimCheck
		if err := c.markQueued(ctx, loc, sent.MessageID); err != nil {
			return out, err
		}
	}
	return out, c.announce(ctx, doc, out)
}

// maxMerges bounds the read-merge-replace rounds lost to concurrent attempts of the
// same failure; each lost round means another attempt wrote more.
const maxMerges = 5

// land archives doc and returns where, with the document the archive now holds: doc
// when created, the merge when an incomplete capture was superseded, the archived one
// when it stays as it was; nil for an existing complete capture, which is kept and not
// read (see Run).
func (c *Capture) land(ctx context.Context, doc *archive.Document) (archive.Location, *archive.Document, error) {
	loc, err := c.archive.Put(ctx, doc)
	if err != nil || loc.Created {
		return loc, doc, err
	}
	for range maxMerges {
		if loc.Status != archive.StatusIncomplete {
			return loc, nil, nil
		}
		next, held, err := c.supersede(ctx, loc, doc)
		if !errors.Is(err, archive.ErrModified) {
			return next, held, err
		}
	}
	return loc, nil, fmt.Errorf("supersede incomplete capture s3://%s/%s: changed by other attempts %d times in a row", loc.Bucket, loc.Key, maxMerges)
}

// supersede merges doc into the incomplete capture at loc and overwrites it, if
// nobody did since it was read (else ErrModified). Both captures stream from their
// spools into a spooled merge: memory holds a page of each, never the range. It
// returns the document the archive holds, to be closed by the caller.
func (c *Capture) supersede(ctx context.Context, loc archive.Location, doc *archive.Document) (archive.Location, *archive.Document, error) {
	old, etag, err := c.archive.GetSpooledForUpdate(ctx, loc.Key, c.spoolAbove)
	if err != nil {
		return loc, nil, fmt.Errorf("read incomplete capture: %w", err)
	}
	if old.Hydration.Complete() {
		loc.Status = old.Hydration.Status // completed by another attempt since the head
		return loc, old, nil
	}
	merged, err := merge(old, doc, c.spoolAbove)
	if err != nil {
		_ = old.Close()
		return loc, nil, err
	}
	if merged.Len() == old.Len() && slices.Equal(merged.Hydration.Gaps, old.Hydration.Gaps) {
		_ = merged.Close()
		return loc, old, nil // nothing new: keep the object as it is
	}
	_ = old.Close()
	next, err := c.archive.Replace(ctx, merged, etag)
	if err != nil {
		_ = merged.Close()
		return loc, nil, err
	}
	return next, merged, nil
}

// Incomplete returns the archived incomplete capture of the failure hy describes, for
// Hydrator.Resume; nil when there is none (no object yet, or a complete one). Its
// records past the spool threshold are in a spool file: close it when done.
func (c *Capture) Incomplete(ctx context.Context, hy archive.Hydration) (*archive.Document, error) {
	key := archive.Key(hy, c.archive.Prefix())
	s, err := c.archive.Summarize(ctx, key)
	var nf *s3types.NotFound
	switch {
	case errors.As(err, &nf):
		return nil, nil
	case err != nil:
		return nil, err
	case s.Status != archive.StatusIncomplete:
		return nil, nil
	}
	doc, err := c.archive.GetSpooled(ctx, key, c.spoolAbove)
	if err != nil {
		return nil, fmt.Errorf("read incomplete capture: %w", err)
	}
	return doc, nil
}

func (c *Capture) queuedBefore(ctx context.Context, loc archive.Location) (string, error) {
	if loc.Created {
		return "", nil
	}
	tags, err := c.tags.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &loc.Bucket, Key: &loc.Key})
	if err != nil {
		return "", fmt.Errorf("read queued tag of s3://%s/%s: %w", loc.Bucket, loc.Key, err)
	}
	for _, t := range tags.TagSet {
		if aws.ToString(t.Key) == queuedTag {
			return aws.ToString(t.Value), nil
		}
	}
	return "", nil
}

func (c *Capture) markQueued(ctx context.Context, loc archive.Location, messageID string) error {
	_, err := c.tags.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: &loc.Bucket, Key: &loc.Key,
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String(queuedTag), Value: &messageID}}},
	})
	if err != nil {
		return fmt.Errorf("tag s3://%s/%s as queued: %w", loc.Bucket, loc.Key, err)
	}
	return nil
}

// announcement is the event detail: metadata, counts and where the failure landed —
// never payloads.
type announcement struct {
	archive.Hydration
	Archive    archive.Location `json:"archive"`
	MessageID  string           `json:"dlqMessageId"`
	ClaimCheck bool             `json:"claimCheck"`
}

func (c *Capture) announce(ctx context.Context, doc *archive.Document, out Captured) error {
	if c.bus == "" {
		return nil
	}
	detailType := DetailHydrated
	if len(doc.Hydration.Gaps) > 0 {
		detailType = DetailNotHydrated
	}
	return putEvent(ctx, c.events, c.bus, detailType, announcement{doc.Hydration, out.Archive, out.MessageID, out.ClaimCheck})
}

// putEvent publishes one event, treating a per-entry failure as an error.
func putEvent(ctx context.Context, api putEventsAPI, bus, detailType string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", detailType, err)
	}
	out, err := api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: &bus, Source: aws.String(EventSource), DetailType: &detailType, Detail: aws.String(string(b)),
	}}})
	if err != nil {
		return fmt.Errorf("put %s event on %s: %w", detailType, bus, err)
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		e := out.Entries[0]
		return fmt.Errorf("put %s event on %s: entry failed: %s: %s", detailType, bus, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
	}
	return nil
}
