package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
)

// Event sources as they appear in a record's eventSource.
const (
	EventSourceKinesis  = "aws:kinesis"
	EventSourceDynamoDB = "aws:dynamodb"
)

// Record is one record read back from a stream, in exactly the shape Lambda delivers it
// to the consumer function. Exactly one of Kinesis, DynamoDB and Kafka is set.
type Record struct {
	Kinesis  *KinesisEventRecord
	DynamoDB *events.DynamoDBEventRecord
	// Kafka is one record of a Kafka event's "records" map: topic, partition, offset,
	// timestamp, base64 key and value, headers as byte arrays.
	Kafka *events.KafkaRecord
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

// SequenceNumber is the record's stream sequence number; a Kafka record's offset in
// decimal.
func (r Record) SequenceNumber() string {
	switch {
	case r.Kafka != nil:
		return strconv.FormatInt(r.Kafka.Offset, 10)
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
	case r.Kafka != nil:
		return base64Len(r.Kafka.Key) + base64Len(r.Kafka.Value)
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
	case r.Kafka != nil:
		return json.Marshal(r.Kafka)
	}
	return nil, errors.New("batch: empty record")
}

// UnmarshalJSON decodes a record in Lambda's shape, choosing the kind by eventSource;
// a Kafka record, which has none, by its topic and offset.
func (r *Record) UnmarshalJSON(b []byte) error {
	var probe struct {
		EventSource string           `json:"eventSource"`
		Topic       *string          `json:"topic"`
		Offset      *json.RawMessage `json:"offset"`
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
	case "":
		if probe.Topic != nil && probe.Offset != nil {
			r.Kafka = new(events.KafkaRecord)
			return json.Unmarshal(b, r.Kafka)
		}
	}
	return fmt.Errorf("batch: record eventSource %q is neither %s nor %s, and it is no Kafka record", probe.EventSource, EventSourceKinesis, EventSourceDynamoDB)
}

// base64Len is the decoded length of standard base64 s, as Lambda encodes Kafka keys
// and values.
func base64Len(s string) int {
	n := len(s) / 4 * 3
	for i := len(s) - 1; i >= 0 && i >= len(s)-2 && s[i] == '='; i-- {
		n--
	}
	return n
}
