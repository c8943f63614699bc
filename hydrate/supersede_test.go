package hydrate_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// A refusal that clears later (a KMS grant added, a policy fixed) loses nothing: the
// first attempt fails as incomplete and queues nothing; the retry captures every
// record, queues it once and announces it once; a further delivery is a duplicate.
func TestHandleTransientRefusalThenComplete(t *testing.T) {
	e := newEnv(t, nil)
	rec, want := failedBatch(t, e, 100, 50, 10, 40)
	h := e.handler(t)
	ctx := context.Background()
	e.faults.FailNextWith("GetShardIterator", 50, &ktypes.KMSAccessDeniedException{Message: aws.String("not allowed to decrypt")})
	_, err := h.Handle(ctx, onfailure.SNSEvent(topic, rec))
	var inc *hydrate.IncompleteError
	if !errors.As(err, &inc) || len(inc.Missing) != 1 || inc.Missing[0].From != want.seqs[0] || inc.Missing[0].To != want.seqs[len(want.seqs)-1] {
		t.Fatalf("Handle while denied = %v, want an *IncompleteError missing the whole range", err)
	}
	if n := queueDepth(t, e.sqs, e.dlqURL); n != 0 {
		t.Fatalf("DLQ holds %d messages after a denied read, want 0", n)
	}
	e.faults.FailNextWith("GetShardIterator", 0, nil)
	for i := range 2 {
		if _, err := h.Handle(ctx, onfailure.SNSEvent(topic, rec)); err != nil {
			t.Fatalf("delivery %d after the refusal cleared: %v", i+2, err)
		}
	}
	_, doc := archived(t, e)
	checkRecords(t, "archive", doc, want)
	if doc.Hydration.Status != archive.StatusComplete {
		t.Errorf("status %s, want %s", doc.Hydration.Status, archive.StatusComplete)
	}
	msgs := receiveAll(t, e.sqs, e.dlqURL, 2)
	if len(msgs) != 1 {
		t.Fatalf("DLQ holds %d messages, want 1", len(msgs))
	}
	queued, err := archive.DecodeMessage(ctx, e.s3, e.bucket, *msgs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "DLQ", queued, want)
	if n := len(receiveAll(t, e.sqs, e.eventsURL, 3)); n != 2 {
		t.Errorf("bus delivered %d events, want 2 (the completing capture and the duplicate)", n)
	}
}

// A capture cut short (the deadline, or a process that died after archiving it) is
// superseded by the next attempt: the archive ends with the union of both reads, in
// order, and the DLQ with one message holding every record.
func TestHandleSupersedesPartialCapture(t *testing.T) {
	e := newEnv(t, nil)
	rec, want := failedBatch(t, e, 100, 50, 0, 30)
	ctx := context.Background()
	var full *archive.Document
	dry := hydrate.NewFromConfig(e.cfg, e.config(), true, func(o *hydrate.HandlerOptions) {
		o.Emit = func(d *archive.Document, _ *hydrate.Captured) { full = d }
	})
	if _, err := dry.Handle(ctx, onfailure.SNSEvent(topic, rec)); err != nil || full == nil {
		t.Fatalf("dry run: %v", err)
	}
	partial := *full
	partial.Records = append([]batch.Record(nil), full.Records[5:12]...)
	partial.Hydration.Gaps = []batch.Gap{
		{From: want.seqs[0], To: want.seqs[4], Reason: batch.GapUnreadable, Detail: "throttled"},
		{From: want.seqs[12], To: want.seqs[29], Reason: batch.GapUnreadable, Detail: "deadline"},
	}
	partial.Hydration.Status, partial.Hydration.Fetched = archive.StatusIncomplete, len(partial.Records)
	_, err := e.capture().Run(ctx, &partial)
	var inc *hydrate.IncompleteError
	if !errors.As(err, &inc) || inc.Archive == "" || len(inc.Missing) != 2 || inc.Records != 7 {
		t.Fatalf("Run of a partial capture = %v, want an *IncompleteError with the archive key and 2 missing ranges", err)
	}
	if _, doc := archived(t, e); len(doc.Records) != 7 || doc.Hydration.Status != archive.StatusIncomplete {
		t.Fatalf("archive holds %d records, status %s; want the 7 read, incomplete", len(doc.Records), doc.Hydration.Status)
	}
	iterators := e.faults.Count("GetShardIterator")
	if _, err := e.handler(t).Handle(ctx, onfailure.SNSEvent(topic, rec)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := e.faults.Count("GetShardIterator") - iterators; n != 2 {
		t.Errorf("retry made %d GetShardIterator calls, want 2: one per missing part, not the whole range again", n)
	}
	_, doc := archived(t, e)
	checkRecords(t, "archive", doc, want)
	if len(doc.Hydration.Gaps) != 0 || doc.Hydration.Status != archive.StatusComplete {
		t.Errorf("hydration %+v, want complete with no gap", doc.Hydration)
	}
	msgs := receiveAll(t, e.sqs, e.dlqURL, 2)
	if len(msgs) != 1 {
		t.Fatalf("DLQ holds %d messages, want 1", len(msgs))
	}
	queued, err := archive.DecodeMessage(ctx, e.s3, e.bucket, *msgs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "DLQ", queued, want)
}

// Two consumers failing on one range are two failures: two archive objects, two DLQ
// messages. A repeated delivery of either is still a duplicate.
func TestHandleTwoConsumersOneRange(t *testing.T) {
	e := newEnv(t, nil)
	first, want := failedBatch(t, e, 60, 20, 0, 10)
	shard := shardOf(t, first)
	recs := make([][]byte, 2)
	for i, fn := range []string{"arn:aws:lambda:us-east-1:000000000000:function:billing", "arn:aws:lambda:us-east-1:000000000000:function:search:live"} {
		recs[i] = onfailure.Record(onfailure.Batch{Source: "kinesis", StreamARN: e.streamARN, ShardID: shard,
			Start: want.seqs[0], End: want.seqs[len(want.seqs)-1], BatchSize: len(want.seqs), FunctionARN: fn})
	}
	h := e.handler(t)
	for range 2 {
		for _, rec := range recs {
			if _, err := h.Handle(context.Background(), onfailure.SNSEvent(topic, rec)); err != nil {
				t.Fatalf("Handle: %v", err)
			}
		}
	}
	out, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: aws.String("failures/source=")})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, o := range out.Contents {
		keys[*o.Key] = true
	}
	if len(keys) != 2 || !anyContains(keys, ".billing-") || !anyContains(keys, ".search-") {
		t.Errorf("archive keys %v, want one per consumer", keys)
	}
	if n := len(receiveAll(t, e.sqs, e.dlqURL, 3)); n != 2 {
		t.Errorf("DLQ holds %d messages, want 2", n)
	}
}

func anyContains(keys map[string]bool, sub string) bool {
	for k := range keys {
		if strings.Contains(k, sub) {
			return true
		}
	}
	return false
}

// shardOf is the shard an on-failure record names.
func shardOf(t *testing.T, rec []byte) string {
	t.Helper()
	var r struct {
		KinesisBatchInfo struct {
			ShardID string `json:"shardId"`
		}
	}
	decodeJSON(t, string(rec), &r)
	return r.KinesisBatchInfo.ShardID
}

// The items of an SQS batch are taken in turn, each with the time it needs: those
// that cannot finish in the time left are handed back unstarted (batch item
// failures), not all cut short by one shared deadline.
func TestHandleSQSHandsBackWhatCannotFinish(t *testing.T) {
	e := newEnv(t, nil)
	var recs []json.RawMessage
	for range 3 {
		rec, _ := failedBatch(t, e, 20, 20, 0, 5)
		recs = append(recs, rec)
	}
	h := hydrate.NewFromConfig(e.cfg, e.config(), false, func(o *hydrate.HandlerOptions) { o.ItemTime = time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	payload := onfailure.SQSEvent("arn:aws:sqs:us-east-1:000000000000:on-failure", recs...)
	resp, err := h.Handle(ctx, payload)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	var body struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	decodeJSON(t, mustJSON(t, resp), &body)
	if len(body.BatchItemFailures) != 2 {
		t.Fatalf("batchItemFailures = %+v, want the 2 items that could not finish", body.BatchItemFailures)
	}
	archived(t, e) // exactly one failure was taken
	if n := queueDepth(t, e.sqs, e.dlqURL); n != 1 {
		t.Errorf("DLQ holds %d messages, want 1", n)
	}
}

// capture is the Capture the handler builds, for driving one step by hand.
func (e *env) capture() *hydrate.Capture {
	a := e.archive()
	q := archive.NewQueue(sqs.NewFromConfig(e.cfg), func(o *archive.QueueOptions) { o.URL, o.Archive = e.dlqURL, a })
	return hydrate.NewCapture(a, q, e.s3, eventbridge.NewFromConfig(e.cfg), e.bus)
}
