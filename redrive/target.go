package redrive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/smithy-go"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// Target is where records are replayed to. A target sends one call at a time; the
// delivery loop decides what goes into each call, so that the target's request limits,
// its rate and the records' order are kept.
type Target interface {
	// Name identifies the target in reports and logs, e.g. "kinesis:orders".
	Name() string
	// Limits are the target's per-call limits and ordering rule.
	Limits() Limits
	// Prepare encodes a record as the target sends it. An error is permanent (a
	// *RejectedError): the record can never be sent to this target.
	Prepare(rec batch.Record, from Origin) (*Entry, error)
	// Send makes one call with the entries and says what happened to each, in order.
	// An error means the call as a whole failed (after the SDK's own retries).
	Send(ctx context.Context, entries []*Entry) ([]Outcome, error)
}

// Origin is the shard a record was read from.
type Origin struct {
	StreamARN string
	ShardID   string
	// Kafka is the source cluster and topic-partition of Kafka records; nil otherwise.
	Kafka *archive.KafkaHydration
}

// Ordering says which records may share a call.
type Ordering int

const (
	// Unordered: any records may share a call (EventBridge, SQS standard queues).
	Unordered Ordering = iota
	// OnePerKey: a call holds at most one record per Entry.Key. Kinesis PutRecords
	// does not stop at a failed record, so a later record of the same partition key
	// may be written while an earlier one was throttled; only one record per key per
	// call keeps the key's order. A key whose record fails waits until it is sent.
	OnePerKey
	// PrefixOfKey: a call holds consecutive records of one key, and a failure of one
	// leaves it and every later record undelivered (Lambda's stream batches and
	// partial batch responses). The key is the source shard.
	PrefixOfKey
)

// Limits are a target's per-call limits.
type Limits struct {
	MaxEntries int
	// MaxBytes bounds the sum of Entry.Size in one call.
	MaxBytes int
	Ordering Ordering
	// Lanes is the number of rate lanes (Entry.Lane < Lanes); 0 means 1.
	Lanes int
	// Capacity is what one lane can take, the default ceiling of its rate.
	Capacity Rate
	// Shared says the capacity is shared with live producers, so only Throttle.Share
	// of it is used by default.
	Shared bool
	// CallTimeout, when set, replaces Options.CallTimeout for this target.
	CallTimeout time.Duration
}

// Entry is one record prepared for a target.
type Entry struct {
	Record batch.Record
	// Key is the ordering key (see Ordering); Lane the rate lane (a Kinesis shard).
	Key  string
	Lane int
	// Size counts against Limits.MaxBytes and the byte rate.
	Size int
	// Body is the encoded record; what it holds is up to the target.
	Body []byte
}

// Outcome is what a call did with one entry.
type Outcome struct {
	Status Status
	Err    error // why, for anything but Delivered
}

// Status of one entry after a call.
type Status int

const (
	Delivered Status = iota
	// Throttled: retry at a lower rate.
	Throttled
	// Failed: a transient failure; retry after a pause, up to the attempt limit.
	Failed
	// Rejected: permanent; the record can never be sent to this target.
	Rejected
)

func (s Status) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Throttled:
		return "throttled"
	case Failed:
		return "failed"
	case Rejected:
		return "rejected"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// RejectedError says why a target can never take a record: too large, or refused as
// invalid. A failure holding such a record is parked, not retried.
type RejectedError struct {
	Target string
	Reason string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("redrive: %s rejects the record: %s", e.Target, e.Reason)
}

// TargetError is a whole call refused for a reason retrying will not fix (missing
// resource, access denied, invalid request): the target's remaining records are left
// undelivered for this run.
type TargetError struct {
	Target string
	Err    error
}

func (e *TargetError) Error() string { return fmt.Sprintf("redrive: target %s: %v", e.Target, e.Err) }
func (e *TargetError) Unwrap() error { return e.Err }

// isThrottle reports whether a call's error asks the caller to slow down, and
// isThrottleCode whether a per-entry error code does: the SDK's throttle codes, the
// services' own and HTTP 429, all in one place (clock.Throttled).
func isThrottle(err error) bool { return clock.Throttled(err) }

func isThrottleCode(code string) bool { return clock.ThrottleCode(code) }

// recordFaultCodes are whole-call refusals that blame the request's content: sent
// with a single record, they blame that record.
var recordFaultCodes = map[string]bool{
	"ValidationException":            true,
	"InvalidArgumentException":       true,
	"InvalidParameterValue":          true,
	"InvalidParameterValueException": true,
	"InvalidRequestContentException": true,
	"RequestEntityTooLargeException": true,
	"RequestTooLargeException":       true,
	"InvalidMessageContents":         true,
	"MalformedDetail":                true,
	"SerializationException":         true,
}

// isRecordFault reports whether a refused call was refused for what it carried.
func isRecordFault(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && recordFaultCodes[api.ErrorCode()]
}

// classify maps a whole-call error to what the delivery loop does with the call's
// entries: throttle codes slow down, client faults are permanent for the target, and
// anything else is a transient failure.
func classify(err error) Status {
	if isThrottle(err) {
		return Throttled
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return Failed
	}
	switch {
	case api.ErrorFault() == smithy.FaultClient:
		return Rejected
	}
	return Failed
}
