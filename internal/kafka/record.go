package kafka

import (
	"encoding/base64"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Timestamp types as Lambda's Kafka event spells them.
const (
	createTime    = "CREATE_TIME"
	logAppendTime = "LOG_APPEND_TIME"
	noTimestamp   = "NO_TIMESTAMP_TYPE"
)

// lambdaRecord is rec as a Kafka event source mapping delivers it: key and value in
// base64 (absent when null), headers as a list of one-key maps of bytes.
func lambdaRecord(rec *kgo.Record) *events.KafkaRecord {
	out := &events.KafkaRecord{
		Topic:         rec.Topic,
		Partition:     int64(rec.Partition),
		Offset:        rec.Offset,
		Timestamp:     events.MilliSecondsEpochTime{Time: rec.Timestamp},
		TimestampType: timestampType(rec.Attrs),
		Headers:       make([]map[string]events.JSONNumberBytes, 0, len(rec.Headers)),
	}
	if rec.Key != nil {
		out.Key = base64.StdEncoding.EncodeToString(rec.Key)
	}
	if rec.Value != nil {
		out.Value = base64.StdEncoding.EncodeToString(rec.Value)
	}
	for _, h := range rec.Headers {
		out.Headers = append(out.Headers, map[string]events.JSONNumberBytes{h.Key: events.JSONNumberBytes(h.Value)})
	}
	return out
}

func timestampType(a kgo.RecordAttrs) string {
	switch a.TimestampType() {
	case 0:
		return createTime
	case 1:
		return logAppendTime
	}
	return noTimestamp
}
