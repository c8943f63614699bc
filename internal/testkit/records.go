package testkit

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// KinesisRecords returns one record per sequence number of a stream's shard, as the
// hydrator reads them back, with small JSON payloads numbered from 0.
func KinesisRecords(streamARN string, arrival time.Time, seqs ...string) []batch.Record {
	var recs []batch.Record
	for i, seq := range seqs {
		r := &batch.KinesisEventRecord{EventSource: batch.EventSourceKinesis, EventSourceArn: streamARN, EventName: "aws:kinesis:record", EventVersion: "1.0"}
		r.Kinesis.SequenceNumber, r.Kinesis.PartitionKey, r.Kinesis.KinesisSchemaVersion = seq, "order-1", "1.0"
		r.Kinesis.Data = fmt.Appendf(nil, `{"orderId":"1","line":%d}`, i)
		r.Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{Time: arrival}
		recs = append(recs, batch.Record{Kinesis: r})
	}
	return recs
}
