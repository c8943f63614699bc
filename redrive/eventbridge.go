package redrive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// Events put on a bus by the EventBridge target.
const (
	EventSource             = "streamdlq.redrive"
	DetailKinesisRedriven   = "Kinesis Record Redriven"
	DetailDynamoDBRedriven  = "DynamoDB Record Redriven"
	eventBridgeMaxEntries   = 10
	eventBridgeMaxCallBytes = 256 << 10
)

type putEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ putEventsAPI = (*eventbridge.Client)(nil)

// EventBridgeTarget puts one event per record on a bus: the record's JSON as the
// detail, and the source stream's ARN as the event's resource so rules can match it.
type EventBridgeTarget struct {
	api putEventsAPI
	bus string
}

// NewEventBridgeTarget returns a target for the bus (a name or ARN).
func NewEventBridgeTarget(api putEventsAPI, bus string) *EventBridgeTarget {
	return &EventBridgeTarget{api: api, bus: bus}
}

// Name implements Target.
func (t *EventBridgeTarget) Name() string { return "events:" + t.bus }

// Limits implements Target. The capacity is the smallest regional PutEvents quota.
func (t *EventBridgeTarget) Limits() Limits {
	return Limits{
		MaxEntries: eventBridgeMaxEntries, MaxBytes: eventBridgeMaxCallBytes, Ordering: Unordered,
		Capacity: Rate{Records: 400, Bytes: 10 << 20},
	}
}

// Prepare implements Target. The size is counted as EventBridge does: source, detail
// type, detail and resources in UTF-8 bytes.
func (t *EventBridgeTarget) Prepare(rec batch.Record, from Origin) (*Entry, error) {
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, &RejectedError{Target: t.Name(), Reason: err.Error()}
	}
	if !isJSONObject(body) {
		return nil, &RejectedError{Target: t.Name(), Reason: "event detail is not a JSON object"}
	}
	size := len(EventSource) + len(detailType(rec)) + len(body) + len(from.StreamARN)
	if size > eventBridgeMaxCallBytes {
		return nil, &RejectedError{Target: t.Name(), Reason: fmt.Sprintf("event of %d bytes exceeds 256 KiB", size)}
	}
	return &Entry{Record: rec, Key: from.StreamARN, Size: size, Body: body}, nil
}

func detailType(rec batch.Record) string {
	if rec.DynamoDB != nil {
		return DetailDynamoDBRedriven
	}
	return DetailKinesisRedriven
}

// Send implements Target.
func (t *EventBridgeTarget) Send(ctx context.Context, entries []*Entry) ([]Outcome, error) {
	in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(entries))}
	for i, e := range entries {
		in.Entries[i] = types.PutEventsRequestEntry{
			EventBusName: &t.bus,
			Source:       aws.String(EventSource),
			DetailType:   aws.String(detailType(e.Record)),
			Detail:       aws.String(string(e.Body)),
		}
		if e.Key != "" {
			in.Entries[i].Resources = []string{e.Key}
		}
	}
	out, err := t.api.PutEvents(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("put %d events on %s: %w", len(entries), t.bus, err)
	}
	if len(out.Entries) != len(entries) {
		return nil, fmt.Errorf("put events on %s: %d results for %d events", t.bus, len(out.Entries), len(entries))
	}
	outcomes := make([]Outcome, len(entries))
	for i, r := range out.Entries {
		outcomes[i] = entryOutcome(aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage), false)
	}
	return outcomes, nil
}

// malformedCodes are per-entry error codes that no retry will fix.
var malformedCodes = map[string]bool{
	"MalformedDetail":        true,
	"InvalidArgument":        true,
	"ValidationException":    true,
	"InvalidMessageContents": true,
	"MessageTooLong":         true,
}

// entryOutcome classifies a per-entry error of a batch call (PutEvents,
// SendMessageBatch); senderFault is SQS's own flag for permanent errors.
func entryOutcome(code, message string, senderFault bool) Outcome {
	switch {
	case code == "":
		return Outcome{Status: Delivered}
	case isThrottleCode(code):
		return Outcome{Status: Throttled, Err: fmt.Errorf("%s", code)}
	case malformedCodes[code] || senderFault:
		return Outcome{Status: Rejected, Err: fmt.Errorf("%s: %s", code, message)}
	}
	return Outcome{Status: Failed, Err: fmt.Errorf("%s: %s", code, message)}
}

// isJSONObject reports whether b is one JSON object, the only detail PutEvents takes.
func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
