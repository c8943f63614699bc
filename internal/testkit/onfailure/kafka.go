package onfailure

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// KafkaBatch is a failed batch of a Kafka event source mapping: the offsets of its
// first and last record in each topic-partition it spanned.
type KafkaBatch struct {
	// ClusterARN is the MSK cluster (eventSourceArn); empty for self-managed Kafka.
	ClusterARN string
	// BootstrapServers are the mapping's servers; may be empty for MSK.
	BootstrapServers []string
	Topic            string
	// Ranges are first and last offsets per partition.
	Ranges      map[int32][2]int64
	BatchSize   int
	FunctionARN string
	Time        time.Time // when Lambda gave up; default now
}

// KafkaRecord returns the on-failure record for b, in the recordsInfo shape (one entry
// per <topic>-<partition>) of the AWS Lambda developer guide.
func KafkaRecord(b KafkaBatch) json.RawMessage {
	if b.Time.IsZero() {
		b.Time = time.Now()
	}
	if b.FunctionARN == "" {
		b.FunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:consumer"
	}
	info := map[string]any{}
	var first int64 // in the request id: two batches of a run differ there
	for p, r := range b.Ranges {
		first += r[0]
		info[fmt.Sprintf("%s-%d", b.Topic, p)] = map[string]string{
			"firstRecordOffset": fmt.Sprint(r[0]), "lastRecordOffset": fmt.Sprint(r[1]),
			"firstRecordTimestamp": b.Time.Add(-2 * time.Minute).UTC().Format(stamp),
			"lastRecordTimestamp":  b.Time.Add(-time.Minute).UTC().Format(stamp),
		}
	}
	batch := map[string]any{"batchSize": b.BatchSize, "payloadSize": 100 * b.BatchSize, "recordsInfo": info}
	if len(b.BootstrapServers) > 0 {
		batch["bootstrapServers"] = strings.Join(b.BootstrapServers, ",")
	}
	if b.ClusterARN != "" {
		batch["eventSourceArn"] = b.ClusterARN
	}
	rec := map[string]any{
		"requestContext": map[string]any{
			"requestId":   fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(b.Time.UnixNano()), first<<16+int64(b.BatchSize)),
			"functionArn": b.FunctionARN, "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3,
		},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0",
		"timestamp":       b.Time.UTC().Format(stamp),
		"KafkaBatchInfo":  batch,
	}
	out, _ := json.Marshal(rec) // maps of strings and numbers always marshal
	return out
}
