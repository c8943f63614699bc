package archive

import (
	"encoding/json"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// Hydration statuses.
const (
	// StatusComplete: every record of the range was read and the count matches batchSize.
	StatusComplete = "complete"
	// StatusPartial: part of the range is proven gone from the stream (only final
	// gaps: trimmed, compacted, shard-ended); Gaps say which. The capture is complete.
	StatusPartial = "partial"
	// StatusIncomplete: part of the range could not be read but may still be in the
	// stream (a transient gap). Such an object is never queued; a later attempt
	// merges what it reads into it and overwrites it (If-Match on its ETag).
	StatusIncomplete = "incomplete"
	// StatusMoreThanBatch: the range held more records than the consumer was given
	// (filter criteria, bisected batches); all of them are kept.
	StatusMoreThanBatch = "more-than-batch"
	// StatusUnreadable: nothing is left to read: the whole range is proven gone; the
	// failure is kept for its metadata.
	StatusUnreadable = "unreadable"
)

// Document is one hydrated failure: the on-failure record as received, the records
// read back in Lambda's shape, and what hydration found. It is the unit that is
// archived, queued on the DLQ and redriven.
type Document struct {
	Failure   json.RawMessage `json:"failure"`
	Records   []batch.Record  `json:"Records"`
	Hydration Hydration       `json:"hydration"`
}

// Hydration summarises how the records were read back.
type Hydration struct {
	Status string `json:"status"`
	// Source is "kinesis", "dynamodb" or "kafka"; StreamARN, ShardID, Start and End repeat the
	// failure's range so readers need not parse Failure.
	Source    string `json:"source"`
	StreamARN string `json:"streamArn"`
	ShardID   string `json:"shardId"`
	Start     string `json:"startSequenceNumber"`
	End       string `json:"endSequenceNumber"`
	// FunctionARN is the consumer (function ARN without qualifier, or pipe ARN) whose
	// batch failed; it names the consumer in the archive key.
	FunctionARN string `json:"functionArn,omitempty"`
	// Condition is the on-failure record's requestContext.condition.
	Condition string `json:"condition,omitempty"`
	// FirstArrival is the failure's approximateArrivalOfFirstRecord (or the time it was
	// received when absent); it dates the archive key.
	FirstArrival time.Time `json:"firstArrival"`

	Expected   int         `json:"expected"` // batchSize
	Fetched    int         `json:"fetched"`
	Gaps       []batch.Gap `json:"gaps,omitempty"`
	Calls      int         `json:"apiCalls"`
	HydratedAt time.Time   `json:"hydratedAt"`
	// From says where the records came from: "stream" (read back by shard iterator)
	// or "s3-payload" (carried by an S3 on-failure destination object).
	From string `json:"from"`
	// Kafka is set for source kafka: ShardID is then the partition, Start and End the
	// offsets, StreamARN the MSK cluster ARN (empty for self-managed Kafka).
	Kafka *KafkaHydration `json:"kafka,omitempty"`
}

// Complete reports whether the capture is complete: no gap is left whose records may
// still be in the stream (final gaps allowed). Only a complete capture is queued.
func (h Hydration) Complete() bool { return len(batch.Transient(h.Gaps)) == 0 }
