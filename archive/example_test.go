package archive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// exampleDocument is a hydrated failure of two Kinesis records, as the hydrator
// produces it.
func exampleDocument() *archive.Document {
	h := archive.Hydration{
		Status: archive.StatusComplete, Source: "kinesis", StreamARN: "arn:aws:kinesis:us-east-2:123456789012:stream/orders",
		ShardID: "shardId-000000000001", Start: "4960118965842235937883629852182763", End: "4960118965842235937883629852182764",
		Condition: "RetryAttemptsExhausted", FirstArrival: time.Date(2026, 11, 14, 0, 38, 4, 0, time.UTC), Expected: 2, Fetched: 2, From: "stream",
	}
	return &archive.Document{
		Failure:   json.RawMessage(`{"requestContext":{"condition":"RetryAttemptsExhausted"}}`),
		Hydration: h,
		Records:   testkit.KinesisRecords(h.StreamARN, h.FirstArrival, h.Start, h.End),
	}
}

// An archive holds one object per failed range, keyed by stream, day and range. A
// second delivery of the same failure finds its object and writes nothing.
func ExampleArchive_Put() {
	ctx := context.Background()
	// A program passes s3.NewFromConfig(cfg); the example keeps the bucket in memory.
	a := archive.New(&testkit.MemS3{}, func(o *archive.Options) { o.Bucket, o.Prefix = "my-archive", "failures" })
	loc, err := a.Put(ctx, exampleDocument())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(loc.Key, loc.Created)
	again, err := a.Put(ctx, exampleDocument())
	fmt.Println("second delivery created:", again.Created, err)
	doc, err := a.Get(ctx, loc.Key)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range doc.Records {
		fmt.Println(r.SequenceNumber(), string(r.Kinesis.Kinesis.Data))
	}
	// Output:
	// failures/source=kinesis/stream=orders/dt=2026-11-14/shardId-000000000001/4960118965842235937883629852182763-4960118965842235937883629852182764.jsonl.gz true
	// second delivery created: false <nil>
	// 4960118965842235937883629852182763 {"orderId":"1","line":0}
	// 4960118965842235937883629852182764 {"orderId":"1","line":1}
}

// List finds the failures of a stream without reading them.
func ExampleArchive_List() {
	ctx := context.Background()
	a := archive.New(&testkit.MemS3{}, func(o *archive.Options) { o.Bucket = "my-archive" })
	if _, err := a.Put(ctx, exampleDocument()); err != nil {
		fmt.Println(err)
		return
	}
	for obj, err := range a.List(ctx, archive.Filter{Source: "kinesis", Stream: "orders"}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(obj.Key)
	}
	// Output:
	// source=kinesis/stream=orders/dt=2026-11-14/shardId-000000000001/4960118965842235937883629852182763-4960118965842235937883629852182764.jsonl.gz
}
