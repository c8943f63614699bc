package envelope

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-lambda-go/events"
)

// MaxPayloadSize caps what Parse accepts: 6 MiB, Lambda's synchronous invocation
// payload limit and so the most that SQS or any other invoker can hand a function
// (asynchronous invocations, such as SNS and S3 notifications, are smaller still).
const MaxPayloadSize = 6 << 20

// Event sources as Lambda events spell them.
const (
	eventSourceSNS = "aws:sns"
	eventSourceSQS = "aws:sqs"
	eventSourceS3  = "aws:s3"
)

// Parse detects how an invocation payload reached us (SNS, SQS, S3 notification,
// EventBridge S3 event, a bare Lambda or Pipes on-failure record) and returns its
// units. It returns a *ParseError only when the payload as a whole is unusable: too
// big, not JSON, or no recognizable shape. A unit that is unusable carries its own
// *ParseError in Item.Err, so that one bad SQS message does not fail the others.
//
// Two wrappings that land on the hydrator's own failure queue are opened as well: a
// Lambda asynchronous-invocation record (requestContext + requestPayload, what Lambda
// sends to the hydrator's OnFailure destination) parses as its requestPayload, and an
// SNS notification (what an SNS subscription's dead-letter queue holds) as its Message.
func Parse(payload []byte) (Input, error) {
	return parse(payload, false)
}

func parse(payload []byte, nested bool) (Input, error) {
	if len(payload) > MaxPayloadSize {
		return Input{}, bad("", "payload of %d bytes is over the %d-byte cap", len(payload), MaxPayloadSize)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return Input{}, decodeError(err, "an event or on-failure record")
	}
	if inner, ok := invocationPayload(top); ok {
		if nested {
			return Input{}, bad("requestPayload", "an invocation record inside another one")
		}
		in, err := parse(inner, true)
		var perr *ParseError
		if errors.As(err, &perr) {
			return Input{}, prefixed(perr, "requestPayload")
		}
		return in, err
	}
	if id, msg, ok := snsNotification(top); ok {
		return Input{Kind: KindSNS, Items: []Item{recordItem(id, msg)}}, nil
	}
	if records, ok := top["Records"]; ok {
		return parseEvent(records)
	}
	if _, ok := top["detail-type"]; ok {
		return parseEventBridge(payload)
	}
	if kind, ok := recordKind(top); ok {
		return Input{Kind: kind, Items: []Item{recordItem(directID(top), []byte(payload))}}, nil
	}
	return Input{}, bad("", "no recognizable input: neither an SNS, SQS, S3 or EventBridge event nor an on-failure record")
}

// invocationPayload returns the requestPayload of a Lambda asynchronous-invocation
// record. An on-failure record of a stream has requestContext but never requestPayload.
func invocationPayload(top map[string]json.RawMessage) (json.RawMessage, bool) {
	_, rc := top["requestContext"]
	p, ok := top["requestPayload"]
	return p, rc && ok
}

// snsNotification returns the MessageId and Message of an SNS notification.
func snsNotification(top map[string]json.RawMessage) (string, []byte, bool) {
	var typ, id, topic, msg string
	for k, v := range map[string]*string{"Type": &typ, "MessageId": &id, "TopicArn": &topic, "Message": &msg} {
		if json.Unmarshal(top[k], v) != nil {
			return "", nil, false
		}
	}
	if typ != "Notification" || topic == "" || !printableID(id) {
		return "", nil, false
	}
	return id, []byte(msg), true
}

// recordKind tells a bare on-failure record from other JSON objects, and Lambda's
// record (requestContext) from an EventBridge Pipes one (context only).
func recordKind(top map[string]json.RawMessage) (Kind, bool) {
	_, lambda := top["requestContext"]
	_, pipes := top["context"]
	_, kinesis := top[keyKinesis]
	_, ddb := top[keyDynamoDB]
	other := slices.ContainsFunc(slices.Collect(maps.Keys(top)), isBatchInfoKey)
	switch {
	case pipes && !lambda:
		return KindPipes, true
	case lambda || kinesis || ddb || other:
		return KindDirect, true
	}
	return "", false
}

// directID identifies a bare record by the failed invocation's requestId, falling back
// to "direct" when there is none or it does not look like an ID.
func directID(top map[string]json.RawMessage) string {
	var rc struct {
		RequestID string `json:"requestId"`
	}
	if json.Unmarshal(top["requestContext"], &rc) != nil || !printableID(rc.RequestID) {
		return "direct"
	}
	return rc.RequestID
}

func printableID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// recordItem parses the on-failure record in b as the unit id.
func recordItem(id string, b []byte) Item {
	fs, err := ParseRecords(b, id)
	if err != nil {
		return Item{ID: id, Err: err}
	}
	return Item{ID: id, Failure: fs[0], Failures: fs}
}

// eventHead is what every Records[] entry says about itself. SNS spells the key
// EventSource; encoding/json matches either spelling.
type eventHead struct {
	EventSource string `json:"eventSource"`
	MessageID   string `json:"messageId"`
}

var eventKinds = map[string]Kind{eventSourceSNS: KindSNS, eventSourceSQS: KindSQS, eventSourceS3: KindS3}

// parseEvent handles {"Records":[...]}: the kind is the first known eventSource, and
// a record of any other source is an error of its own (Lambda never mixes them).
func parseEvent(raw json.RawMessage) (Input, error) {
	var records []json.RawMessage
	if err := json.Unmarshal(raw, &records); err != nil {
		return Input{}, prefixed(decodeError(err, "an array of event records"), "Records")
	}
	heads := make([]eventHead, len(records))
	in := Input{Items: make([]Item, 0, len(records))}
	for i, r := range records {
		_ = json.Unmarshal(r, &heads[i]) // a record without a usable head is reported below
		if in.Kind == "" {
			in.Kind = eventKinds[heads[i].EventSource]
		}
	}
	if in.Kind == "" {
		return Input{}, bad("Records", "no record with eventSource %s, %s or %s", eventSourceSNS, eventSourceSQS, eventSourceS3)
	}
	for i, r := range records {
		in.Items = append(in.Items, eventItem(in.Kind, i, heads[i], r))
	}
	return in, nil
}

func eventItem(kind Kind, i int, head eventHead, r json.RawMessage) Item {
	path := fmt.Sprintf("Records[%d]", i)
	if eventKinds[head.EventSource] != kind {
		perr := bad(path+".eventSource", "%.64q in an %s event", head.EventSource, kind)
		perr.MessageID = head.MessageID
		return Item{ID: head.MessageID, Err: perr}
	}
	var it Item
	switch kind {
	case KindSNS:
		it = snsItem(path, r)
	case KindSQS:
		it = sqsItem(path, r)
	default:
		it = s3Item(path, r)
	}
	return withFallbackID(it, head.MessageID)
}

// withFallbackID names an item that failed before its ID was read by the ID its head
// gave, so that an SQS message is still reported by messageId.
func withFallbackID(it Item, id string) Item {
	if it.ID != "" || id == "" {
		return it
	}
	it.ID = id
	var perr *ParseError
	if errors.As(it.Err, &perr) && perr.MessageID == "" {
		perr.MessageID = id
	}
	return it
}

func snsItem(path string, r json.RawMessage) Item {
	var rec events.SNSEventRecord
	if err := json.Unmarshal(r, &rec); err != nil {
		return Item{Err: prefixed(decodeError(err, "an SNS record"), path)}
	}
	if rec.SNS.MessageID == "" {
		return Item{Err: bad(path+".Sns.MessageId", "missing")}
	}
	return recordItem(rec.SNS.MessageID, []byte(rec.SNS.Message))
}

func sqsItem(path string, r json.RawMessage) Item {
	var msg events.SQSMessage
	if err := json.Unmarshal(r, &msg); err != nil {
		return Item{Err: prefixed(decodeError(err, "an SQS message"), path)}
	}
	if msg.MessageId == "" {
		return Item{Err: bad(path+".messageId", "missing")}
	}
	return recordItem(msg.MessageId, unwrapSNS([]byte(msg.Body)))
}

// unwrapSNS returns the Message of an SNS notification that reached SQS without raw
// message delivery (topic -> queue -> us), and any other body unchanged.
func unwrapSNS(body []byte) []byte {
	var n struct {
		Type     string  `json:"Type"`
		TopicArn string  `json:"TopicArn"`
		Message  *string `json:"Message"`
	}
	if json.Unmarshal(body, &n) != nil || n.Type != "Notification" || n.TopicArn == "" || n.Message == nil {
		return body
	}
	return []byte(*n.Message)
}
