package redrive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/redrive"
)

// printTarget is a program's own target: it replays each record by printing its data,
// where a real one would write to a database or call an HTTP endpoint.
type printTarget struct{}

func (printTarget) Name() string { return "print" }

// Limits: ten records a call, one shard's records in order.
func (printTarget) Limits() redrive.Limits {
	return redrive.Limits{MaxEntries: 10, MaxBytes: 1 << 20, Ordering: redrive.PrefixOfKey,
		Capacity: redrive.Rate{Records: 1000, Bytes: 1 << 20}}
}

func (printTarget) Prepare(rec batch.Record, from redrive.Origin) (*redrive.Entry, error) {
	if rec.Kinesis == nil {
		return nil, &redrive.RejectedError{Target: "print", Reason: "not a Kinesis record"}
	}
	data := rec.Kinesis.Kinesis.Data
	return &redrive.Entry{Record: rec, Key: from.ShardID, Size: len(data), Body: data}, nil
}

func (printTarget) Send(_ context.Context, entries []*redrive.Entry) ([]redrive.Outcome, error) {
	outcomes := make([]redrive.Outcome, len(entries))
	for i, e := range entries {
		fmt.Printf("%s %s\n", e.Record.SequenceNumber(), e.Body)
		outcomes[i] = redrive.Outcome{Status: redrive.Delivered}
	}
	return outcomes, nil
}

// A program replays archived failures to a target of its own: routes name it, and
// Options.Targets provides it.
func Example_ownTarget() {
	ctx := context.Background()
	// A program passes s3.NewFromConfig(cfg); the example keeps the archive in memory
	// and puts one failure in it, as the hydrator would.
	a := archive.New(&testkit.MemS3{}, func(o *archive.Options) { o.Bucket = "my-archive" })
	if _, err := a.Put(ctx, failure()); err != nil {
		fmt.Println(err)
		return
	}
	r := redrive.New(redrive.NewArchiveSource(a, archive.Filter{}, 0), func(o *redrive.Options) {
		o.Routes = []redrive.Route{{Pattern: "orders", Target: "print"}}
		o.Targets = map[string]redrive.Target{"print": printTarget{}}
	})
	rep, err := r.Run(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("delivered %d of %d records, %d left\n", rep.Delivered, rep.Records, rep.Left)
	// Output:
	// 4960118965842235937883629852182763 {"orderId":"1","line":0}
	// 4960118965842235937883629852182764 {"orderId":"1","line":1}
	// 4960118965842235937883629852182765 {"orderId":"1","line":2}
	// delivered 3 of 3 records, 0 left
}

// failure is a hydrated failure of three Kinesis records of the stream "orders".
func failure() *archive.Document {
	seqs := []string{"4960118965842235937883629852182763", "4960118965842235937883629852182764", "4960118965842235937883629852182765"}
	arn, arrival := "arn:aws:kinesis:us-east-2:123456789012:stream/orders", time.Date(2026, 11, 14, 0, 38, 4, 0, time.UTC)
	return &archive.Document{
		Failure: json.RawMessage(`{"requestContext":{"condition":"RetryAttemptsExhausted"}}`),
		Records: testkit.KinesisRecords(arn, arrival, seqs...),
		Hydration: archive.Hydration{Status: archive.StatusComplete, Source: "kinesis", StreamARN: arn, ShardID: "shardId-000000000001",
			Start: seqs[0], End: seqs[2], FirstArrival: arrival, Expected: 3, Fetched: 3, From: "stream"},
	}
}
