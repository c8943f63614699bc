package hydrate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// memShard serves one Kinesis shard from memory; a program passes
// kinesis.NewFromConfig(cfg) instead.
type memShard []ktypes.Record

func (s memShard) GetShardIterator(context.Context, *kinesis.GetShardIteratorInput, ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String("iterator")}, nil
}

func (s memShard) GetRecords(context.Context, *kinesis.GetRecordsInput, ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	return &kinesis.GetRecordsOutput{Records: s, MillisBehindLatest: aws.Int64(0)}, nil
}

// onFailureRecord is what Lambda sends an on-failure destination when a Kinesis
// consumer gives up on a batch of three records.
const onFailureRecord = `{
  "requestContext": {"requestId": "c9b8fa9f-5a7f-4e8c-8bb0-2f9c5e4f0e21", "condition": "RetryAttemptsExhausted",
    "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:orders-consumer", "approximateInvokeCount": 1},
  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
  "version": "1.0", "timestamp": "2026-11-14T00:38:06.021Z",
  "KinesisBatchInfo": {"shardId": "shardId-000000000001", "batchSize": 3,
    "startSequenceNumber": "4960118965842235937883629852182763", "endSequenceNumber": "4960118965842235937883629852182765",
    "approximateArrivalOfFirstRecord": "2026-11-14T00:38:04.835Z", "approximateArrivalOfLastRecord": "2026-11-14T00:38:05.580Z",
    "streamArn": "arn:aws:kinesis:us-east-2:123456789012:stream/orders"}
}`

// A program outside streamdlq hydrates an on-failure record: the handler reads the
// failed range back through the program's Kinesis client and hands over the document.
// This one is a dry run; without it, the document is archived, queued and announced
// through the S3, SQS and EventBridge clients in HandlerOptions.Clients.
func Example() {
	var shard memShard
	for i, seq := range []string{"4960118965842235937883629852182763", "4960118965842235937883629852182764", "4960118965842235937883629852182765"} {
		shard = append(shard, ktypes.Record{SequenceNumber: aws.String(seq), PartitionKey: aws.String("order-1"),
			Data: fmt.Appendf(nil, `{"orderId":"1","line":%d}`, i)})
	}
	allowed, err := hydrate.ParseAllowlist("arn:aws:kinesis:us-east-2:123456789012:stream/orders")
	if err != nil {
		fmt.Println(err)
		return
	}
	dryRun := true
	h := hydrate.NewFromConfig(aws.Config{Region: "us-east-2"}, hydrate.Config{Allowed: allowed}, dryRun, func(o *hydrate.HandlerOptions) {
		o.Clients.Kinesis = shard
		o.Clock = testkit.NewSimClock(time.Date(2026, 11, 14, 1, 0, 0, 0, time.UTC)) // fixed, for the output below
		o.Emit = func(doc *archive.Document, _ *hydrate.Captured) {
			hy := doc.Hydration
			fmt.Println(hy.Status, hy.Fetched, "of", hy.Expected, "records, hydrated at", hy.HydratedAt.Format(time.RFC3339))
			for _, r := range doc.Records {
				fmt.Println(r.SequenceNumber(), string(r.Kinesis.Kinesis.Data))
			}
		}
	})
	if _, err := h.Handle(context.Background(), []byte(onFailureRecord)); err != nil {
		fmt.Println(err)
	}
	// Output:
	// complete 3 of 3 records, hydrated at 2026-11-14T01:00:00Z
	// 4960118965842235937883629852182763 {"orderId":"1","line":0}
	// 4960118965842235937883629852182764 {"orderId":"1","line":1}
	// 4960118965842235937883629852182765 {"orderId":"1","line":2}
}
