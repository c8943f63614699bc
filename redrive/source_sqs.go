package redrive

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/archive"
)

type receiveAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

type sendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSClient is what the DLQ source needs from SQS; *sqs.Client has it.
type SQSClient interface {
	receiveAPI
	sendMessageAPI
}

type getObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var (
	_ SQSClient    = (*sqs.Client)(nil)
	_ getObjectAPI = (*s3.Client)(nil)
)

// Message attributes the redrive adds.
const (
	// AttrLastError says why a message was parked, or why its last attempt failed.
	AttrLastError = "streamdlq-last-error"
	// AttrAttempts counts the redrive's failed attempts at a message. The redrive
	// parks by this count, never by SQS's receive count, which dry runs, waits and
	// time-outs raise too.
	AttrAttempts = "streamdlq-attempts"
)

// SQSSourceOptions configure the DLQ source.
type SQSSourceOptions struct {
	URL string
	// ParkURL is the parking queue for poison messages; without it they stay on the
	// DLQ, where the queue's own redrive policy may move them.
	ParkURL string
	// Bucket and Prefix are the archive's: claim checks are read from Bucket only,
	// and a replacement's claim check is written under Prefix.
	Bucket, Prefix string
	// MaxReceiveCount parks a message at its this-many-th failed attempt (counted
	// in AttrAttempts, not by SQS receives); default 5.
	MaxReceiveCount int
	// VisibilityTimeout hides a received message while it is worked on; it is
	// extended every third of it until the message is settled. Default 60s.
	VisibilityTimeout time.Duration
	// WaitTime is the long poll of the first receive of a round; default 1s.
	WaitTime time.Duration
	// MaxMessages is the most messages worked on in one round; default 100.
	MaxMessages int
}

// SQSSource reads hydrated failures from the SQS DLQ.
type SQSSource struct {
	sqs     SQSClient
	objects getObjectAPI
	queue   *archive.Queue
	opts    SQSSourceOptions
	// held maps the messages this run is done with (kept, or sent as replacements)
	// to their latest receipt handle, so that they are not worked on twice and are
	// made visible again at the end. Settling runs beside delivery, so mu guards it.
	mu   sync.Mutex
	held map[string]string
}

// NewSQSSource returns the DLQ source. queue sends replacement messages to the same
// DLQ (archive.NewQueue with the DLQ URL and the archive for claim checks); objects
// reads claim checks.
func NewSQSSource(client SQSClient, objects getObjectAPI, queue *archive.Queue, optFns ...func(*SQSSourceOptions)) *SQSSource {
	o := SQSSourceOptions{MaxReceiveCount: 5, VisibilityTimeout: time.Minute, WaitTime: time.Second, MaxMessages: 100}
	for _, fn := range optFns {
		fn(&o)
	}
	return &SQSSource{sqs: client, objects: objects, queue: queue, opts: o, held: map[string]string{}}
}

func (s *SQSSource) name() string { return "sqs:" + s.opts.URL }

func (s *SQSSource) maxReceives() int { return s.opts.MaxReceiveCount }

func (s *SQSSource) heartbeat() time.Duration { return s.opts.VisibilityTimeout / 3 }

// staleReceives is how many receives in a row may bring only messages this run is
// done with before the queue counts as drained: SQS returns a sample, so one such
// receive does not prove there is nothing else.
const staleReceives = 3

// next receives up to MaxMessages new messages, long-polling at most maxWait; it
// returns none when the queue has nothing this run has not already seen.
func (s *SQSSource) next(ctx context.Context, maxWait time.Duration) ([]*unit, error) {
	var units []*unit
	wait := max(min(s.opts.WaitTime, maxWait), 0)
	for stale := 0; len(units) < s.opts.MaxMessages && stale < staleReceives; {
		msgs, err := s.receive(ctx, min(10, s.opts.MaxMessages-len(units)), wait)
		if err != nil {
			return units, err
		}
		if len(msgs) == 0 {
			break
		}
		stale++
		for i := range msgs {
			if u := s.unit(ctx, &msgs[i]); u != nil {
				units = append(units, u)
				stale = 0
			}
		}
		wait = 0
	}
	return units, nil
}

func (s *SQSSource) receive(ctx context.Context, n int, wait time.Duration) ([]types.Message, error) {
	out, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: &s.opts.URL, MaxNumberOfMessages: int32(n),
		WaitTimeSeconds:       int32(wait / time.Second),
		VisibilityTimeout:     int32(s.opts.VisibilityTimeout / time.Second),
		MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", s.opts.URL, err)
	}
	return out.Messages, nil
}

// unit decodes a message, or returns nil for one this run already keeps.
func (s *SQSSource) unit(ctx context.Context, m *types.Message) *unit {
	id := aws.ToString(m.MessageId)
	if s.rehold(id, aws.ToString(m.ReceiptHandle)) {
		return nil
	}
	u := &unit{id: id, msg: m}
	failed, _ := strconv.Atoi(attr(m, AttrAttempts))
	u.attempt = max(failed, 0) + 1
	u.doc, u.err = archive.DecodeMessage(ctx, s.objects, s.opts.Bucket, aws.ToString(m.Body))
	var fe *archive.FormatError
	var pe *archive.PointerError
	u.permanent = errors.As(u.err, &fe) || errors.As(u.err, &pe)
	return u
}

// settle applies a unit's verdict. Every step that removes a message comes after the
// step that keeps its undelivered records.
func (s *SQSSource) settle(ctx context.Context, u *unit, v verdict) (verdict, error) {
	switch v {
	case remove:
		return v, s.delete(ctx, u)
	case replace:
		if err := s.replace(ctx, u); err != nil {
			return keep, err
		}
		return v, s.delete(ctx, u)
	case requeue:
		if err := s.requeue(ctx, u); err != nil {
			s.hold(u)
			return keep, err
		}
		return v, s.delete(ctx, u)
	case park:
		if s.opts.ParkURL == "" {
			s.hold(u)
			return keep, nil
		}
		if err := s.park(ctx, u); err != nil {
			return keep, err
		}
		return v, s.delete(ctx, u)
	}
	s.hold(u)
	return keep, nil
}

func (s *SQSSource) hold(u *unit) { s.holdID(u.id, aws.ToString(u.msg.ReceiptHandle)) }

// holdID records a message this run is done with and its latest receipt handle
// (empty for one it sent and never received).
func (s *SQSSource) holdID(id, handle string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[id] = handle
}

// rehold updates the handle of a held message received again, reporting whether
// it is held.
func (s *SQSSource) rehold(id, handle string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.held[id]; !ok {
		return false
	}
	s.held[id] = handle
	return true
}

// heldHandles lists the receipt handles of the held messages this run received.
func (s *SQSSource) heldHandles() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := make([]string, 0, len(s.held))
	for _, h := range s.held {
		if h != "" {
			hs = append(hs, h)
		}
	}
	return hs
}

func (s *SQSSource) delete(ctx context.Context, u *unit) error {
	_, err := s.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &s.opts.URL, ReceiptHandle: u.msg.ReceiptHandle})
	if err != nil {
		return fmt.Errorf("delete message %s: %w", u.id, err)
	}
	return nil
}

// replace queues the undelivered records as a new message. Its archive location gets
// a suffix naming what is left, so a claim check of the rest never collides with the
// original's (claim checks are written once and kept).
func (s *SQSSource) replace(ctx context.Context, u *unit) error {
	rest := u.undelivered()
	key := attr(u.msg, archive.AttrDedupID)
	if key == "" {
		key = archive.Key(u.doc.Hydration, s.opts.Prefix)
	}
	loc := archive.Location{Bucket: s.opts.Bucket, Key: restKey(key, rest)}
	sent, err := s.queue.Send(ctx, rest, loc)
	if err != nil {
		return fmt.Errorf("replace message %s: %w", u.id, err)
	}
	// The rest waits for the next run: what kept it from being delivered now will
	// hardly be gone in a moment, and a run's counts stay one per record. A rest of
	// records the target can never take is left for this run to park at once.
	if !u.onlyRejectedLeft() {
		s.holdID(sent.MessageID, "")
	}
	return nil
}

const restMarker = ".rest-"

// restKey is key with the first undelivered record and the count left in place of an
// earlier rest suffix.
func restKey(key string, rest *archive.Document) string {
	const ext = ".jsonl.gz"
	base := strings.TrimSuffix(key, ext)
	if i := strings.Index(base, restMarker); i >= 0 {
		base = base[:i]
	}
	first := "none"
	if len(rest.Records) > 0 {
		r := rest.Records[0]
		first = r.SequenceNumber()
		if r.Kinesis != nil && r.Kinesis.Kinesis.SubSequenceNumber != nil {
			first += "_" + strconv.FormatUint(*r.Kinesis.Kinesis.SubSequenceNumber, 10)
		}
	}
	return fmt.Sprintf("%s%s%s-%d%s", base, restMarker, first, len(rest.Records), ext)
}

func attr(m *types.Message, name string) string {
	return aws.ToString(m.MessageAttributes[name].StringValue)
}

// park moves the message as it is (body and attributes) to the parking queue, with
// the last error as an attribute.
func (s *SQSSource) park(ctx context.Context, u *unit) error {
	_, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.opts.ParkURL, MessageBody: u.msg.Body, MessageAttributes: withReason(u, nil)})
	if err != nil {
		return fmt.Errorf("park message %s: %w", u.id, err)
	}
	return nil
}

// requeue sends the message again as it is, counting this failed attempt, so that
// the parking rule counts attempts rather than receives. The copy waits for the
// next run.
func (s *SQSSource) requeue(ctx context.Context, u *unit) error {
	count := types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(u.attempt))}
	out, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.opts.URL, MessageBody: u.msg.Body,
		MessageAttributes: withReason(u, map[string]types.MessageAttributeValue{AttrAttempts: count})})
	if err != nil {
		return fmt.Errorf("requeue message %s: %w", u.id, err)
	}
	s.holdID(aws.ToString(out.MessageId), "")
	return nil
}

// withReason is the message's attributes with the last error and extra set. SQS
// allows 10 attributes; when they are all taken the status and condition go, as the
// body repeats them.
func withReason(u *unit, extra map[string]types.MessageAttributeValue) map[string]types.MessageAttributeValue {
	attrs := make(map[string]types.MessageAttributeValue, archive.MaxAttributes)
	for k, v := range u.msg.MessageAttributes {
		attrs[k] = types.MessageAttributeValue{DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue}
	}
	delete(attrs, AttrLastError)
	for k := range extra {
		delete(attrs, k)
	}
	for _, drop := range []string{archive.AttrStatus, archive.AttrCondition} {
		if len(attrs)+1+len(extra) > archive.MaxAttributes {
			delete(attrs, drop)
		}
	}
	reason := "unknown"
	if err := u.lastError(); err != nil {
		reason = err.Error()
	}
	attrs[AttrLastError] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(attrSafe(reason))}
	maps.Copy(attrs, extra)
	return attrs
}

// attrSafe keeps an error short and within the characters SQS allows.
func attrSafe(s string) string {
	b := []rune{}
	for _, r := range s {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) {
			b = append(b, r)
		}
		if len(b) >= 1024 {
			break
		}
	}
	return string(b)
}

// extend keeps the units' messages hidden for another visibility timeout, and the
// messages this run already holds, so that none is received (and counted) again by
// the run.
func (s *SQSSource) extend(ctx context.Context, units []*unit) error {
	return s.changeVisibility(ctx, append(handlesOf(units), s.heldHandles()...), int32(s.opts.VisibilityTimeout/time.Second))
}

func handlesOf(units []*unit) []string {
	var hs []string
	for _, u := range units {
		hs = append(hs, aws.ToString(u.msg.ReceiptHandle))
	}
	return hs
}

// release makes the messages kept in this run visible again at once, so the next
// run (or another consumer) need not wait out their visibility timeout.
func (s *SQSSource) release(ctx context.Context) error {
	hs := s.heldHandles() // a message this run sent and never received is visible already
	s.mu.Lock()
	s.held = map[string]string{}
	s.mu.Unlock()
	return s.changeVisibility(ctx, hs, 0)
}

func (s *SQSSource) changeVisibility(ctx context.Context, handles []string, seconds int32) error {
	var errs []error
	for start := 0; start < len(handles); start += 10 {
		in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &s.opts.URL}
		for i, h := range handles[start:min(start+10, len(handles))] {
			in.Entries = append(in.Entries, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h), VisibilityTimeout: seconds,
			})
		}
		out, err := s.sqs.ChangeMessageVisibilityBatch(ctx, in)
		if err != nil {
			errs = append(errs, fmt.Errorf("change visibility on %s: %w", s.opts.URL, err))
			continue
		}
		for _, f := range out.Failed {
			errs = append(errs, fmt.Errorf("change visibility on %s: %s: %s", s.opts.URL, aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return errors.Join(errs...)
}
