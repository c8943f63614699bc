package envelope

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
)

// Kind is how an on-failure record reached us.
type Kind string

// Kinds of input.
const (
	KindSNS    Kind = "sns"    // SNS event; the record is the JSON string in Records[].Sns.Message
	KindSQS    Kind = "sqs"    // SQS event; the record is Records[].body
	KindDirect Kind = "direct" // the bare on-failure record (direct invoke, sam local invoke -e)
	KindS3     Kind = "s3"     // S3 event notification naming on-failure objects
	KindPipes  Kind = "pipes"  // EventBridge Pipes DLQ message (context.partnerResourceArn)
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
}

// ObjectRef names an S3 object that an S3 event notification points at.
type ObjectRef struct {
	Bucket, Key string
	Size        int64
}

// Item is one unit of work in an input: a parsed Failure, an S3 object to fetch and
// parse with ParseRecord, or the error that made the unit unusable.
type Item struct {
	// ID identifies the unit to AWS and to operators: the SNS MessageId, the SQS
	// messageId (used in batchItemFailures), "s3://bucket/key", or "direct".
	ID      string
	Failure *Failure
	Object  *ObjectRef
	Err     error // a *ParseError
}

// Input is a parsed invocation payload.
type Input struct {
	Kind  Kind
	Items []Item
}
