// Package onfailure builds what a Lambda event source mapping sends to its OnFailure
// destination when a batch exhausts its retries — the on-failure record, and the SNS
// and SQS events that carry it — in the shapes of the AWS Lambda developer guide. The
// demo, the tests, the chaos run and the benchmarks use it to play Lambda's part.
package onfailure

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Batch is a failed batch: the shard, the sequence numbers of its first and last
// record, and how many records the consumer was given.
type Batch struct {
	Source      string // "kinesis" or "dynamodb"
	StreamARN   string
	ShardID     string
	Start, End  string
	BatchSize   int
	FunctionARN string
	Condition   string    // default RetryAttemptsExhausted
	Time        time.Time // when Lambda gave up; default now
}

const stamp = "2006-01-02T15:04:05.000Z"

// Record returns the on-failure record for b.
func Record(b Batch) json.RawMessage {
	if b.Time.IsZero() {
		b.Time = time.Now()
	}
	if b.Condition == "" {
		b.Condition = "RetryAttemptsExhausted"
	}
	if b.FunctionARN == "" {
		b.FunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:consumer"
	}
	key := "KinesisBatchInfo"
	if b.Source == "dynamodb" {
		key = "DDBStreamBatchInfo"
	}
	rec := map[string]any{
		"requestContext": map[string]any{
			"requestId":   fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(b.Time.UnixNano()), len(b.Start)+b.BatchSize),
			"functionArn": b.FunctionARN, "condition": b.Condition, "approximateInvokeCount": 3,
		},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0",
		"timestamp":       b.Time.UTC().Format(stamp),
		key: map[string]any{
			"shardId":                         b.ShardID,
			"startSequenceNumber":             b.Start,
			"endSequenceNumber":               b.End,
			"approximateArrivalOfFirstRecord": b.Time.Add(-2 * time.Minute).UTC().Format(stamp),
			"approximateArrivalOfLastRecord":  b.Time.Add(-time.Minute).UTC().Format(stamp),
			"batchSize":                       b.BatchSize,
			"streamArn":                       b.StreamARN,
		},
	}
	out, _ := json.Marshal(rec) // maps of strings and numbers always marshal
	return out
}

// SNSEvent wraps on-failure records as the SNS event a subscribed function receives.
// Message ids are derived from the records, so the same records give the same event —
// as a repeated SNS delivery does.
func SNSEvent(topicARN string, records ...json.RawMessage) []byte {
	var ev events.SNSEvent
	for i, m := range records {
		ev.Records = append(ev.Records, events.SNSEventRecord{
			EventSource: "aws:sns", EventVersion: "1.0", EventSubscriptionArn: topicARN + ":6f2ac9f4-0000-4000-8000-000000000001",
			SNS: events.SNSEntity{
				Type: "Notification", MessageID: messageID(m, i), TopicArn: topicARN, Message: string(m),
				Timestamp: time.Now().UTC(), SignatureVersion: "1", Signature: "EXAMPLE",
				SigningCertURL:    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem",
				UnsubscribeURL:    "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topicARN,
				MessageAttributes: map[string]any{},
			},
		})
	}
	out, _ := json.Marshal(ev)
	return out
}

// SQSEvent wraps on-failure records as the SQS event a function consuming the
// OnFailure queue receives.
func SQSEvent(queueARN string, records ...json.RawMessage) []byte {
	var ev events.SQSEvent
	for i, m := range records {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: messageID(m, i), ReceiptHandle: "AQEB" + messageID(m, i), Body: string(m),
			Attributes:  map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": fmt.Sprint(time.Now().UnixMilli())},
			EventSource: "aws:sqs", EventSourceARN: queueARN, AWSRegion: "us-east-1", MessageAttributes: map[string]events.SQSMessageAttribute{},
		})
	}
	out, _ := json.Marshal(ev)
	return out
}

func messageID(m json.RawMessage, i int) string {
	var h uint64 = 14695981039346656037
	for _, c := range m {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h>>32), uint16(h>>16), i&0xfff, uint16(h)&0xfff, h&0xffffffffffff)
}
