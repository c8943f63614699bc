package envelope

import (
	"github.com/streamdlq/streamdlq/archive/batch"
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

// ObjectRef names an S3 object that an S3 event notification points at.
type ObjectRef struct {
	Bucket, Key string
	Size        int64
}

// Item is one unit of work in an input: a parsed batch.Failure, an S3 object to fetch and
// parse with ParseRecord, or the error that made the unit unusable.
type Item struct {
	// ID identifies the unit to AWS and to operators: the SNS MessageId, the SQS
	// messageId (used in batchItemFailures), "s3://bucket/key", or "direct".
	ID      string
	Failure *batch.Failure
	// Failures is every range the record names, Failure being Failures[0]: more than
	// one only for a Kafka record naming several topic-partitions (see ParseRecords).
	Failures []*batch.Failure
	Object   *ObjectRef
	Err      error // a *ParseError
}

// Input is a parsed invocation payload.
type Input struct {
	Kind  Kind
	Items []Item
}
