package batch

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// Event sources as they appear in a record's eventSource.
const (
	EventSourceKinesis  = "aws:kinesis"
	EventSourceDynamoDB = "aws:dynamodb"
)

// Record is one record read back from a stream, in exactly the shape Lambda delivers it
// to the consumer function. Exactly one of Kinesis and DynamoDB is set.
type Record struct {
	Kinesis  *KinesisEventRecord
	DynamoDB *events.DynamoDBEventRecord
}

// KinesisEventRecord is events.KinesisEventRecord with the two fields KPL
// de-aggregation adds inside "kinesis". Consumers that decode into
// events.KinesisEventRecord ignore them.
type KinesisEventRecord struct {
	AwsRegion         string        `json:"awsRegion"`
	EventID           string        `json:"eventID"`
	EventName         string        `json:"eventName"`
	EventSource       string        `json:"eventSource"`
	EventSourceArn    string        `json:"eventSourceARN"`
	EventVersion      string        `json:"eventVersion"`
	InvokeIdentityArn string        `json:"invokeIdentityArn"`
	Kinesis           KinesisRecord `json:"kinesis"`
}

// KinesisRecord is events.KinesisRecord plus the KPL de-aggregation fields.
type KinesisRecord struct {
	events.KinesisRecord
	// SubSequenceNumber is the index of a KPL user record inside its aggregated
	// parent; nil for records that were not de-aggregated.
	SubSequenceNumber *uint64 `json:"subSequenceNumber,omitempty"`
	// ExplicitHashKey is the KPL user record's explicit hash key, if it had one.
	ExplicitHashKey string `json:"explicitHashKey,omitempty"`
	// AggregationError says why an aggregated record was kept whole (bad MD5, bad
	// protobuf); empty otherwise.
	AggregationError string `json:"aggregationError,omitempty"`
}

// SequenceNumber is the record's stream sequence number.
func (r Record) SequenceNumber() string {
	switch {
	case r.Kinesis != nil:
		return r.Kinesis.Kinesis.SequenceNumber
	case r.DynamoDB != nil:
		return r.DynamoDB.Change.SequenceNumber
	}
	return ""
}

// PayloadSize is the size of the record's payload in bytes: the data blob for Kinesis,
// SizeBytes for DynamoDB.
func (r Record) PayloadSize() int {
	switch {
	case r.Kinesis != nil:
		return len(r.Kinesis.Kinesis.Data)
	case r.DynamoDB != nil:
		return int(r.DynamoDB.Change.SizeBytes)
	}
	return 0
}

// MarshalJSON encodes the record in Lambda's shape.
func (r Record) MarshalJSON() ([]byte, error) {
	switch {
	case r.Kinesis != nil:
		return json.Marshal(r.Kinesis)
	case r.DynamoDB != nil:
		return json.Marshal(r.DynamoDB)
	}
	return nil, errors.New("batch: empty record")
}

// UnmarshalJSON decodes a record in Lambda's shape, choosing the kind by eventSource.
func (r *Record) UnmarshalJSON(b []byte) error {
	var probe struct {
		EventSource string `json:"eventSource"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	*r = Record{}
	switch probe.EventSource {
	case EventSourceKinesis:
		r.Kinesis = new(KinesisEventRecord)
		return json.Unmarshal(b, r.Kinesis)
	case EventSourceDynamoDB:
		r.DynamoDB = new(events.DynamoDBEventRecord)
		return json.Unmarshal(b, r.DynamoDB)
	}
	return fmt.Errorf("batch: record eventSource %q is neither %s nor %s", probe.EventSource, EventSourceKinesis, EventSourceDynamoDB)
}
