package redrive

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// onShardOf moves the docs' failures to the shard of the first one, keeping their
// sequence ranges.
func onShardOf(docs []*archive.Document) []*archive.Document {
	shard := docs[0].Hydration.ShardID
	for _, d := range docs {
		d.Hydration.ShardID = shard
		var m map[string]any
		_ = json.Unmarshal(d.Failure, &m)
		m["KinesisBatchInfo"].(map[string]any)["shardId"] = shard
		d.Failure, _ = json.Marshal(m)
	}
	return docs
}

// TestShardFailuresInSequenceOrder: two failures of one shard queued newest first
// reach the consumer oldest first.
func TestShardFailuresInSequenceOrder(t *testing.T) {
	e := newEnv(t)
	docs := onShardOf(kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/src", 3, 4, 2))
	e.enqueue(t, docs[2], docs[1], docs[0])
	fn := &lambdafn.Function{}
	rep, err := New(e.source(), func(o *Options) {
		o.Lambda = startFunction(t, fn, e.cfg)
		o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range docs {
		for _, r := range d.Records {
			want = append(want, recordID(r))
		}
	}
	if got := fn.Got(); !slices.Equal(got, want) || rep.Removed != 3 {
		t.Errorf("got %v (removed %d), want %v in sequence order (removed 3)", got, rep.Removed, want)
	}
}

// TestLaterFailureWaitsForEarlier: while an earlier failure of a shard cannot be
// delivered, a later one of the same shard is not sent in that run, even to a
// Kinesis stream whose partition keys would let it through, and waiting never
// brings it closer to parking.
func TestLaterFailureWaitsForEarlier(t *testing.T) {
	e := newEnv(t)
	arn := e.createStream(t, 1)
	docs := onShardOf(kinesisDocs(arn, 2, 3, 3))
	for _, r := range docs[1].Records {
		r.Kinesis.Kinesis.PartitionKey += "-later" // keys the first failure does not use
	}
	first := strings.Split(recordID(docs[0].Records[0]), "/")[0] + "/"
	client, _ := e.limited(t, arn, func(_ string, data []byte) string {
		if strings.HasPrefix(string(data), first) {
			return "InternalFailure"
		}
		return ""
	}, false)
	e.enqueue(t, docs[1], docs[0])
	rep, err := New(e.source(func(o *SQSSourceOptions) { o.MaxReceiveCount = 1 }), func(o *Options) {
		o.Kinesis, o.MaxAttempts = client, 2
		o.Routes = []Route{{Pattern: "*", Target: SpecSource}}
	}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := e.readStream(t, arn); len(got) != 0 {
		t.Errorf("got %d records on the stream, want none: the later failure must wait", len(got))
	}
	// The earlier failure has used its one receive and is parked; the later one
	// only waited, which never counts towards parking.
	if rep.Kept != 1 || rep.Parked != 1 || rep.Left != 6 {
		t.Errorf("got kept %d, parked %d, left %d, want 1, 1, 6", rep.Kept, rep.Parked, rep.Left)
	}
	parked := e.drain(t, e.park)
	if len(parked) != 1 {
		t.Fatalf("got %d parked messages, want the earlier failure's only", len(parked))
	}
	doc, err := archive.DecodeMessage(context.Background(), e.s3, e.bucket, *parked[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Hydration.Start != docs[0].Hydration.Start {
		t.Errorf("got the failure from %s parked, want the earlier one from %s", doc.Hydration.Start, docs[0].Hydration.Start)
	}
}
