package envelope

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/streamdlq/streamdlq/internal/stream"
)

// MaxObjectSize caps one on-failure record given to ParseRecord: 8 MiB. The largest
// legitimate one is an S3 on-failure destination object, which carries the failed
// invocation event (at most 6 MB, Lambda's synchronous payload limit) escaped into
// the "payload" string; escaping adds a byte per quote, well under 2 MiB for any
// batch. Callers reading S3 objects should stop reading past this size.
const MaxObjectSize = 8 << 20

// Batch-info keys, which are also the field-path prefixes in ParseErrors.
const (
	keyKinesis  = "KinesisBatchInfo"
	keyDynamoDB = "DDBStreamBatchInfo"
)

// wireRecord is an on-failure record as Lambda (requestContext) or EventBridge Pipes
// (context) writes it. Times are strings so that a bad one can be named in the error.
type wireRecord struct {
	RequestContext *struct {
		RequestID   string `json:"requestId"`
		FunctionARN string `json:"functionArn"`
		Condition   string `json:"condition"`
	} `json:"requestContext"`
	Context *struct {
		PartnerResourceARN string `json:"partnerResourceArn"`
		Condition          string `json:"condition"`
	} `json:"context"`
	Timestamp string     `json:"timestamp"`
	Kinesis   *wireBatch `json:"KinesisBatchInfo"`
	DynamoDB  *wireBatch `json:"DDBStreamBatchInfo"`
	// Payload is set only in objects written by an S3 on-failure destination.
	Payload *string `json:"payload"`
	// unsupported is the first *BatchInfo key of a source this package cannot read,
	// found only when no supported key is present (KafkaBatchInfo never gets here:
	// ParseRecords reads it).
	unsupported string
}

// wireBatch is KinesisBatchInfo or DDBStreamBatchInfo; both have the same fields.
type wireBatch struct {
	ShardID   string `json:"shardId"`
	Start     string `json:"startSequenceNumber"`
	End       string `json:"endSequenceNumber"`
	First     string `json:"approximateArrivalOfFirstRecord"`
	Last      string `json:"approximateArrivalOfLastRecord"`
	BatchSize int    `json:"batchSize"`
	StreamARN string `json:"streamArn"`
}

// ParseRecord parses and validates one on-failure record: Lambda's, EventBridge
// Pipes', or the body of an S3 on-failure destination object (whose "payload" ends up
// decoded in batch.Failure.Payload). id is the unit's Item.ID, copied into errors. Every
// error is a *ParseError.
//
// A Kafka record (KafkaBatchInfo) may name several topic-partitions, one Failure each:
// ParseRecord returns it only when it names one, and ParseRecords reads every record.
func ParseRecord(b []byte, id string) (*batch.Failure, error) {
	if hasKafkaBatchInfo(b) {
		fs, perr := parseKafkaRecord(b)
		if perr == nil && len(fs) != 1 {
			perr = bad(keyKafka+".recordsInfo", "names %d topic-partitions; ParseRecords gives a failure for each", len(fs))
		}
		if perr != nil {
			perr.MessageID = id
			return nil, perr
		}
		return fs[0], nil
	}
	f, err := parseRecord(b)
	if err != nil {
		err.MessageID = id
		return nil, err
	}
	return f, nil
}

func parseRecord(b []byte) (*batch.Failure, *ParseError) {
	if len(b) > MaxObjectSize {
		return nil, bad("", "record of %d bytes is over the %d-byte cap", len(b), MaxObjectSize)
	}
	var w wireRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, decodeError(err, "an on-failure record")
	}
	if w.Kinesis == nil && w.DynamoDB == nil {
		w.unsupported = otherBatchInfo(b)
	}
	f, perr := w.failure()
	if perr != nil {
		return nil, perr
	}
	f.Raw = bytes.Clone(b)
	if w.Payload != nil {
		f.Raw = withoutPayload(b)
	}
	return f, nil
}

// failure validates w and builds the batch.Failure from it, all but Raw.
func (w *wireRecord) failure() (*batch.Failure, *ParseError) {
	wb, key, perr := w.batch()
	if perr != nil {
		return nil, perr
	}
	f := &batch.Failure{}
	if perr := wb.fill(f, key); perr != nil {
		return nil, prefixed(perr, key)
	}
	w.fillContext(f)
	var err error
	if f.Timestamp, err = parseTime(w.Timestamp); err != nil {
		return nil, bad("timestamp", "%w", err)
	}
	if f.Payload, perr = decodePayload(w.Payload); perr != nil {
		return nil, perr
	}
	return f, nil
}

// batch returns the one batch-info object present, with its key.
func (w *wireRecord) batch() (*wireBatch, string, *ParseError) {
	switch {
	case w.Kinesis != nil && w.DynamoDB != nil:
		return nil, "", bad(keyDynamoDB, "present together with %s; a record names one stream", keyKinesis)
	case w.Kinesis != nil:
		return w.Kinesis, keyKinesis, nil
	case w.DynamoDB != nil:
		return w.DynamoDB, keyDynamoDB, nil
	case w.unsupported != "":
		return nil, "", bad(w.unsupported, "source not supported: %.64s (only %s, %s and %s can be read back)", w.unsupported, keyKinesis, keyDynamoDB, keyKafka)
	}
	return nil, "", bad(keyKinesis, "missing, and so is %s: not an on-failure record", keyDynamoDB)
}

// otherBatchInfo returns the first key of the JSON object b, in sorted order, that
// names another source's batch info (whatever AWS adds), so that such a record is
// refused for what it is rather than for what it lacks.
func otherBatchInfo(b []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return ""
	}
	keys := slices.Sorted(maps.Keys(top))
	for _, k := range keys {
		if isBatchInfoKey(k) && k != keyKinesis && k != keyDynamoDB && k != keyKafka {
			return k
		}
	}
	return ""
}

// isBatchInfoKey reports whether k looks like an on-failure record's batch-info key.
func isBatchInfoKey(k string) bool {
	return len(k) > len("BatchInfo") && strings.HasSuffix(k, "BatchInfo") && printableID(k)
}

// fillContext copies who failed and why. Lambda writes requestContext; Pipes writes
// context, naming the pipe instead of a function. Neither is validated: AWS documents
// no full list of conditions, and the ARNs are only reported, never called.
func (w *wireRecord) fillContext(f *batch.Failure) {
	if c := w.Context; c != nil {
		f.FunctionARN, f.Condition = c.PartnerResourceARN, c.Condition
	}
	if c := w.RequestContext; c != nil {
		f.RequestID, f.FunctionARN, f.Condition = c.RequestID, c.FunctionARN, c.Condition
	}
}

// fill validates the batch info found under key and copies it into f. Field names in
// errors are relative to key.
func (b *wireBatch) fill(f *batch.Failure, key string) *ParseError {
	if perr := b.fillStream(f, key); perr != nil {
		return perr
	}
	if perr := b.fillRange(f); perr != nil {
		return perr
	}
	var err error
	if f.FirstArrival, err = parseTime(b.First); err != nil {
		return bad("approximateArrivalOfFirstRecord", "%w", err)
	}
	if f.LastArrival, err = parseTime(b.Last); err != nil {
		return bad("approximateArrivalOfLastRecord", "%w", err)
	}
	return nil
}

func (b *wireBatch) fillStream(f *batch.Failure, key string) *ParseError {
	if b.StreamARN == "" {
		return bad("streamArn", "missing")
	}
	arn, err := parseStreamARN(b.StreamARN)
	if err != nil {
		return bad("streamArn", "%w", err)
	}
	if want := sourceOf(key); arn.source != want {
		return bad("streamArn", "names a %s stream, but the record is %s", arn.source, key)
	}
	if !validShardID(b.ShardID) {
		return bad("shardId", "missing or not a shard ID: %.64q", b.ShardID)
	}
	f.Source, f.StreamARN, f.ShardID = arn.source, b.StreamARN, b.ShardID
	f.Region, f.AccountID, f.StreamName = arn.region, arn.account, arn.name
	return nil
}

func (b *wireBatch) fillRange(f *batch.Failure) *ParseError {
	if !stream.ValidSequence(b.Start) {
		return bad("startSequenceNumber", "not a decimal sequence number %.64q", b.Start)
	}
	if !stream.ValidSequence(b.End) {
		return bad("endSequenceNumber", "not a decimal sequence number %.64q", b.End)
	}
	if stream.CompareSequence(b.Start, b.End) > 0 {
		return bad("startSequenceNumber", "%s is after endSequenceNumber %s", b.Start, b.End)
	}
	if b.BatchSize < 0 {
		return bad("batchSize", "negative: %d", b.BatchSize)
	}
	f.Start, f.End, f.BatchSize = b.Start, b.End, b.BatchSize
	return nil
}

func sourceOf(key string) batch.Source {
	if key == keyDynamoDB {
		return batch.SourceDynamoDB
	}
	return batch.SourceKinesis
}

// validShardID follows the Kinesis API's ShardId rule (1-128 of [A-Za-z0-9_.-]),
// which DynamoDB Streams' shard IDs also satisfy. The ID ends up in S3 keys and log
// fields, so nothing else gets through.
func validShardID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')
	}) < 0
}

// parseTime accepts RFC 3339 with or without fractional seconds (Lambda writes
// milliseconds for Kinesis, often none for DynamoDB); absent means zero.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("not an RFC 3339 time: %.64q", s)
	}
	return t, nil
}

// decodePayload checks the "payload" of an S3 destination object: a JSON string
// holding the failed invocation event, {"Records":[...]}.
func decodePayload(p *string) (json.RawMessage, *ParseError) {
	if p == nil {
		return nil, nil
	}
	var event struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal([]byte(*p), &event); err != nil {
		return nil, prefixed(decodeError(err, "an invocation event"), "payload")
	}
	if event.Records == nil {
		return nil, bad("payload.Records", "missing")
	}
	return json.RawMessage(*p), nil
}

// withoutPayload returns the record minus "payload": the metadata alone, so that what
// is archived or logged as the record does not carry the records' data a second time.
// b is known to be a JSON object.
func withoutPayload(b []byte) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return bytes.Clone(b) // unreachable: b decoded into wireRecord already
	}
	for k := range m {
		// encoding/json matched "payload" case-insensitively; drop what it matched.
		if strings.EqualFold(k, "payload") {
			delete(m, k)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return bytes.Clone(b)
	}
	return out
}
