package hydrate

import (
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/envelope"
	"github.com/streamdlq/streamdlq/internal/stream"
)

// checkPayload refuses an S3 on-failure object whose records do not all belong to the
// failure it describes. Whoever can write to the destination bucket could otherwise
// have any records archived, queued and redriven into an allowlisted stream. Each
// record must come from the failure's source and stream, carry a sequence number in
// its range and, for Kinesis, name its shard in eventID (a DynamoDB record does not
// say its shard). A Kafka record must name the failure's topic and partition and an
// offset in its range: the envelope keeps the records under the failure's
// <topic>-<partition> key, but what a record says of itself is what the archive
// keeps and the redrive routes by. The error is a *envelope.ParseError naming the
// first offending record and field.
func checkPayload(f *batch.Failure, recs []batch.Record) error {
	list, where := "payload.Records", fmt.Sprintf("%s %s", f.StreamARN, f.ShardID)
	if kf := f.Kafka; kf != nil {
		list, where = fmt.Sprintf("payload.records[%.256q]", f.StreamName+"-"+f.ShardID), fmt.Sprintf("%.256s-%d", kf.Topic, kf.Partition)
	}
	for i, r := range recs {
		if field, why := payloadMismatch(f, r); field != "" {
			return &envelope.ParseError{Field: fmt.Sprintf("%s[%d].%s", list, i, field),
				Err: fmt.Errorf("record does not belong to the failure (%s %s..%s): %s", where, f.Start, f.End, why)}
		}
	}
	return nil
}

// kafkaMismatch returns the JSON field of r that contradicts f's topic-partition
// range, and why.
func kafkaMismatch(kf *batch.Kafka, r *events.KafkaRecord) (field, why string) {
	switch {
	case r.Topic != kf.Topic:
		return "topic", fmt.Sprintf("%.256q is another topic", r.Topic)
	case r.Partition != int64(kf.Partition):
		return "partition", fmt.Sprintf("%d is another partition", r.Partition)
	case r.Offset < kf.FirstOffset || r.Offset > kf.LastOffset:
		return "offset", fmt.Sprintf("%d is outside the range", r.Offset)
	}
	return "", ""
}

// payloadMismatch returns the JSON field of r that contradicts f, and why.
func payloadMismatch(f *batch.Failure, r batch.Record) (field, why string) {
	var arn, seq, seqField string
	switch {
	case f.Source == batch.SourceKafka && f.Kafka != nil && r.Kafka != nil:
		return kafkaMismatch(f.Kafka, r.Kafka)
	case f.Source == batch.SourceKinesis && r.Kinesis != nil:
		arn, seq, seqField = r.Kinesis.EventSourceArn, r.Kinesis.Kinesis.SequenceNumber, "kinesis.sequenceNumber"
		shard, idSeq, _ := strings.Cut(r.Kinesis.EventID, ":")
		if shard != f.ShardID || idSeq != seq {
			return "eventID", fmt.Sprintf("%.140q is not %s:<its sequence number>", r.Kinesis.EventID, f.ShardID)
		}
	case f.Source == batch.SourceDynamoDB && r.DynamoDB != nil:
		arn, seq, seqField = r.DynamoDB.EventSourceArn, r.DynamoDB.Change.SequenceNumber, "dynamodb.SequenceNumber"
	default:
		return "eventSource", fmt.Sprintf("not a %s record", f.Source)
	}
	if arn != f.StreamARN {
		return "eventSourceARN", fmt.Sprintf("%.140q is another stream", arn)
	}
	if !stream.ValidSequence(seq) || stream.CompareSequence(seq, f.Start) < 0 || stream.CompareSequence(seq, f.End) > 0 {
		return seqField, fmt.Sprintf("%.64q is outside the range", seq)
	}
	return "", ""
}

// deaggregatePayload splits KPL aggregates in an S3 payload as the stream reader does.
func deaggregatePayload(recs []batch.Record) []batch.Record {
	out := make([]batch.Record, 0, len(recs))
	for _, r := range recs {
		if r.Kinesis == nil {
			out = append(out, r)
			continue
		}
		users := stream.Deaggregate(*r.Kinesis)
		for j := range users {
			out = append(out, batch.Record{Kinesis: &users[j]})
		}
	}
	return out
}
