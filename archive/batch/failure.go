package batch

import (
	"encoding/json"
	"time"
)

// Source is the kind of stream an on-failure record names.
type Source string

// Sources.
const (
	SourceKinesis  Source = "kinesis"
	SourceDynamoDB Source = "dynamodb"
	SourceKafka    Source = "kafka" // Amazon MSK or self-managed Apache Kafka; see Failure.Kafka
)

// Failure is one on-failure record, parsed and validated.
type Failure struct {
	// Raw is the on-failure record exactly as received (for S3 objects: without
	// "payload", which is carried in Payload).
	Raw json.RawMessage

	Source    Source
	Condition string // e.g. RetryAttemptsExhausted, RecordAgeExceeded; any value accepted
	RequestID string
	// FunctionARN is the consumer function (may carry a :qualifier); for Pipes, the
	// pipe ARN (context.partnerResourceArn).
	FunctionARN string
	Timestamp   time.Time

	StreamARN  string
	Region     string // from StreamARN
	AccountID  string // from StreamARN
	StreamName string // Kinesis stream name, or DynamoDB table name
	ShardID    string
	// Start and End are the inclusive sequence range, validated as decimal numbers
	// with Start <= End.
	Start, End   string
	BatchSize    int
	FirstArrival time.Time // approximateArrivalOfFirstRecord; zero when absent
	LastArrival  time.Time

	// Payload is the original invocation event ({"Records":[...]}) that an S3
	// on-failure destination object carries; nil for every other input.
	Payload json.RawMessage

	// Kafka is set for SourceKafka only.
	Kafka *Kafka
}
