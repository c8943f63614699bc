package hydrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/clock"
	"github.com/streamdlq/streamdlq/internal/envelope"
)

// RehydrateEvent is the input of the schedule that drains the hydrator's own failure
// queue: {"source":"streamdlq.rehydrate"}.
const RehydrateEvent = "streamdlq.rehydrate"

// AttrLastError is the message attribute that says why a message was parked (the same
// name the redrive uses).
const AttrLastError = "streamdlq-last-error"

// DynamoDBRetention is how long DynamoDB Streams keep a record (not configurable).
const DynamoDBRetention = 24 * time.Hour

const (
	// retryAfter hides a message still failing transiently until a later run.
	retryAfter = 5 * time.Minute
	// maxMessageAge parks a message before SQS's 14-day retention could drop it.
	maxMessageAge = 13 * 24 * time.Hour
	// itemBudget is the least time left in which a message is started: a hydration
	// that cannot finish is handed back, not started.
	itemBudget = 60 * time.Second
	// receiveLimit caps the messages one run takes, sorted oldest first.
	receiveLimit = 100
)

type failureQueueAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

type sendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

type streamSummaryAPI interface {
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

var (
	_ failureQueueAPI  = (*sqs.Client)(nil)
	_ sendMessageAPI   = (*sqs.Client)(nil)
	_ streamSummaryAPI = (*kinesis.Client)(nil)
)

// Rehydrator drains the hydrator's own failure queue (on-failure records whose
// hydration failed after Lambda's retries) while their records are still in the
// stream, oldest first: a message whose hydration now completes is deleted; one still
// failing transiently stays, hidden until a later run; one past its stream's retention
// (or about to outlive the queue's) is parked on the parking queue with the reason, as
// is one refused for good. Nothing is deleted that was neither hydrated nor parked.
// Hydration is idempotent per failure, so running a message again is safe.
type Rehydrator struct {
	handler    *Handler
	queue      failureQueueAPI
	parking    sendMessageAPI
	parkingURL string
	clock      clock.Clock
	// retention returns how long f's stream keeps records.
	retention func(ctx context.Context, f *batch.Failure) (time.Duration, error)
}

// RehydrateReport counts what a run did with the messages it took.
type RehydrateReport struct {
	Hydrated int `json:"hydrated"` // captured; deleted
	Kept     int `json:"kept"`     // still failing, records still in the stream; retried later
	Parked   int `json:"parked"`   // past retention or refused; on the parking queue with the reason
	Released int `json:"released"` // not started for lack of time; visible again at once
	// Missing says, per message kept or parked, what was not captured and why.
	Missing []string `json:"missing,omitempty"`
}

// NewRehydrator returns a Rehydrator that runs messages through h. Without parkingURL
// nothing is parked: what would be stays on the queue.
func NewRehydrator(h *Handler, queue failureQueueAPI, parking sendMessageAPI, parkingURL string) *Rehydrator {
	r := &Rehydrator{handler: h, queue: queue, parking: parking, parkingURL: parkingURL, clock: clock.Real}
	r.retention = func(ctx context.Context, f *batch.Failure) (time.Duration, error) {
		return streamRetention(ctx, h.hydrator.readers.forAccountRegion(f.AccountID, f.Region).summary, f)
	}
	return r
}

// Run drains queueURL until it is empty, receiveLimit messages were taken, or the
// context's deadline leaves no room for another. Only a failure to receive is an error.
func (r *Rehydrator) Run(ctx context.Context, queueURL string) (RehydrateReport, error) {
	var rep RehydrateReport
	msgs, err := r.receive(ctx, queueURL)
	if err != nil {
		return rep, err
	}
	for i := range msgs {
		if !r.timeFor(ctx) {
			r.release(ctx, queueURL, msgs[i:], &rep)
			break
		}
		r.one(ctx, queueURL, &msgs[i], &rep)
	}
	return rep, nil
}

// receive takes up to receiveLimit messages, hidden for the rest of the run, and sorts
// them oldest first (a standard queue does not keep order).
func (r *Rehydrator) receive(ctx context.Context, url string) ([]sqstypes.Message, error) {
	hide := int32(15 * time.Minute / time.Second)
	if d, ok := ctx.Deadline(); ok {
		hide = int32(max(time.Until(d)+time.Minute, time.Minute) / time.Second)
	}
	var msgs []sqstypes.Message
	for len(msgs) < receiveLimit {
		out, err := r.queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
			VisibilityTimeout: hide, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameSentTimestamp}})
		if err != nil {
			if len(msgs) > 0 {
				break // work on what was taken; the rest waits for the next run
			}
			return nil, fmt.Errorf("receive from %s: %w", url, err)
		}
		if len(out.Messages) == 0 {
			break
		}
		msgs = append(msgs, out.Messages...)
	}
	slices.SortStableFunc(msgs, func(a, b sqstypes.Message) int { return sentAt(a).Compare(sentAt(b)) })
	return msgs, nil
}

func sentAt(m sqstypes.Message) time.Time {
	ms, _ := strconv.ParseInt(m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64)
	return time.UnixMilli(ms)
}

func (r *Rehydrator) timeFor(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ctx.Err() == nil && (!ok || time.Until(d) > itemBudget)
}

// one hydrates one message and settles it: delete, keep, or park.
func (r *Rehydrator) one(ctx context.Context, url string, m *sqstypes.Message, rep *RehydrateReport) {
	log := zerolog.Ctx(ctx).With().Str("message", aws.ToString(m.MessageId)).Logger()
	body := []byte(aws.ToString(m.Body))
	if scheduleTick(body) {
		// A rehydration run that failed itself: the next tick is its retry.
		if err := r.delete(ctx, url, m); err != nil {
			log.Error().Err(err).Msg("failed rehydration tick not deleted")
		}
		return
	}
	herr := r.hydrate(ctx, body)
	var err error
	switch {
	case herr == nil:
		rep.Hydrated++
		err = r.delete(ctx, url, m)
	case permanent(herr):
		err = r.park(ctx, url, m, herr, rep)
	default:
		if why := r.expired(ctx, m); why != "" {
			err = r.park(ctx, url, m, fmt.Errorf("%s; last error: %w", why, herr), rep)
			break
		}
		rep.Kept++
		rep.Missing = append(rep.Missing, fmt.Sprintf("message %s: still failing, retried later: %v", aws.ToString(m.MessageId), herr))
		err = r.hide(ctx, url, m, retryAfter)
	}
	if err != nil {
		log.Error().Err(err).Msg("failure queue message not settled; it is received again later")
	}
}

// hydrate runs the message's input through the handler; an SQS-shaped input reports
// its failures in the response rather than as an error.
func (r *Rehydrator) hydrate(ctx context.Context, body []byte) error {
	resp, err := r.handler.Handle(ctx, body)
	if err != nil {
		return err
	}
	if s, ok := resp.(events.SQSEventResponse); ok && len(s.BatchItemFailures) > 0 {
		return fmt.Errorf("%d of its SQS messages not hydrated", len(s.BatchItemFailures))
	}
	return nil
}

// permanent reports an error that no retry can change.
func permanent(err error) bool {
	var pe *envelope.ParseError
	var na *NotAllowedError
	var me *MappingError
	return errors.As(err, &pe) || errors.As(err, &na) || errors.As(err, &me)
}

// expired says why m can no longer be hydrated completely — every failure in it is
// past its stream's retention, or the message nears the queue's own retention — or "".
func (r *Rehydrator) expired(ctx context.Context, m *sqstypes.Message) string {
	now := r.clock.Now()
	if sent := sentAt(*m); sent.Unix() > 0 && now.Sub(sent) > maxMessageAge {
		return fmt.Sprintf("on the failure queue since %s, near its 14-day retention", sent.UTC().Format(time.RFC3339))
	}
	in, err := envelope.Parse([]byte(aws.ToString(m.Body)))
	if err != nil {
		return ""
	}
	var gone []string
	for _, it := range in.Items {
		if it.Failure == nil {
			return "" // an S3 object carries its records; only the message age ends it
		}
		if it.Failure.Source == batch.SourceKafka {
			// A topic's retention is the broker's, per topic; a read finds what left
			// it (a final trimmed gap), so the capture completes without parking.
			return ""
		}
		until, err := r.retainedUntil(ctx, it.Failure)
		if err != nil || now.Before(until) {
			return ""
		}
		gone = append(gone, fmt.Sprintf("%s %s from %s left the stream at %s", it.Failure.StreamARN, it.Failure.ShardID, it.Failure.Start, until.UTC().Format(time.RFC3339)))
	}
	if len(gone) == 0 {
		return ""
	}
	return "past the stream's retention: " + fmt.Sprint(gone)
}

// retainedUntil is when the failure's first record leaves the stream.
func (r *Rehydrator) retainedUntil(ctx context.Context, f *batch.Failure) (time.Time, error) {
	first := f.FirstArrival
	if first.IsZero() {
		first = f.Timestamp // later than the records' arrival: errs on the side of retrying
	}
	if first.IsZero() {
		return time.Time{}, errors.New("no arrival time")
	}
	d, err := r.retention(ctx, f)
	if err != nil {
		return time.Time{}, err
	}
	return first.Add(d), nil
}

// streamRetention is DescribeStreamSummary's RetentionPeriodHours for Kinesis, 24 h for
// DynamoDB Streams.
func streamRetention(ctx context.Context, api streamSummaryAPI, f *batch.Failure) (time.Duration, error) {
	if f.Source == batch.SourceDynamoDB {
		return DynamoDBRetention, nil
	}
	out, err := api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: &f.StreamARN})
	if err != nil {
		return 0, fmt.Errorf("describe stream %s: %w", f.StreamARN, err)
	}
	if out.StreamDescriptionSummary == nil || out.StreamDescriptionSummary.RetentionPeriodHours == nil {
		return 0, fmt.Errorf("describe stream %s: no retention period", f.StreamARN)
	}
	return time.Duration(*out.StreamDescriptionSummary.RetentionPeriodHours) * time.Hour, nil
}

// park moves m to the parking queue with why, then deletes it; without a parking
// queue it stays where it is.
func (r *Rehydrator) park(ctx context.Context, url string, m *sqstypes.Message, why error, rep *RehydrateReport) error {
	rep.Missing = append(rep.Missing, fmt.Sprintf("message %s: parked: %v", aws.ToString(m.MessageId), why))
	if r.parkingURL == "" {
		rep.Kept++
		return r.hide(ctx, url, m, retryAfter)
	}
	reason := why.Error()
	if len(reason) > 1024 {
		reason = reason[:1024]
	}
	_, err := r.parking.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &r.parkingURL, MessageBody: m.Body,
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{AttrLastError: {DataType: aws.String("String"), StringValue: &reason}}})
	if err != nil {
		rep.Kept++
		return fmt.Errorf("park message %s: %w", aws.ToString(m.MessageId), err)
	}
	rep.Parked++
	return r.delete(ctx, url, m)
}

func (r *Rehydrator) delete(ctx context.Context, url string, m *sqstypes.Message) error {
	if _, err := r.queue.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
		return fmt.Errorf("delete message %s: %w", aws.ToString(m.MessageId), err)
	}
	return nil
}

func (r *Rehydrator) hide(ctx context.Context, url string, m *sqstypes.Message, d time.Duration) error {
	_, err := r.queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url,
		ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(d / time.Second)})
	if err != nil {
		return fmt.Errorf("hide message %s: %w", aws.ToString(m.MessageId), err)
	}
	return nil
}

// release makes messages not started visible again at once.
func (r *Rehydrator) release(ctx context.Context, url string, msgs []sqstypes.Message, rep *RehydrateReport) {
	for i := range msgs {
		rep.Released++
		if err := r.hide(context.WithoutCancel(ctx), url, &msgs[i], 0); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("message not released; it is visible again when its visibility timeout ends")
		}
	}
}

// IsRehydrateEvent reports whether payload is the rehydration schedule's input.
func IsRehydrateEvent(payload []byte) bool {
	var e struct {
		Source string `json:"source"`
	}
	return json.Unmarshal(payload, &e) == nil && e.Source == RehydrateEvent
}

// scheduleTick reports a failure-queue message that is a failed invocation of the
// rehydration schedule, not an on-failure record.
func scheduleTick(body []byte) bool {
	var rec struct {
		RequestPayload json.RawMessage `json:"requestPayload"`
	}
	return json.Unmarshal(body, &rec) == nil && IsRehydrateEvent(rec.RequestPayload)
}

// Dispatch is the hydrate function's Lambda handler: the rehydration schedule's event
// drains queueURL with r; every other input is hydrated by h. A rehydration run never
// returns an error: Lambda would retry it and park the tick on the very queue it
// drains; the next tick is its retry.
func Dispatch(h *Handler, r *Rehydrator, queueURL string) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, payload json.RawMessage) (any, error) {
		if r == nil || !IsRehydrateEvent(payload) {
			return h.Handle(ctx, payload)
		}
		ctx = withRequestLogger(ctx)
		rep, err := r.Run(ctx, queueURL)
		ev := zerolog.Ctx(ctx).Info()
		if err != nil {
			ev = zerolog.Ctx(ctx).Error().Err(err)
		}
		ev.Int("hydrated", rep.Hydrated).Int("kept", rep.Kept).Int("parked", rep.Parked).Int("released", rep.Released).
			Strs("missing", rep.Missing).Msg("failure queue rehydrated")
		return rep, nil
	}
}

// FunctionFromConfig wires the hydrate Lambda function's handler: NewFromConfig's
// Handler, and, when c names a failure queue, the Rehydrator its schedule runs.
func FunctionFromConfig(cfg aws.Config, c Config, optFns ...func(*HandlerOptions)) func(context.Context, json.RawMessage) (any, error) {
	h := NewFromConfig(cfg, c, false, optFns...)
	var r *Rehydrator
	if c.FailureQueueURL != "" {
		q := sqs.NewFromConfig(cfg)
		r = NewRehydrator(h, q, q, c.ParkingQueueURL)
	}
	return Dispatch(h, r, c.FailureQueueURL)
}
