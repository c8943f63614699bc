package hydrate_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

const topic = "arn:aws:sns:us-east-1:000000000000:streamdlq-on-failure"

// failedBatch writes records and returns the on-failure record for records [from,to)
// of the busiest shard, with what the archive must then hold.
func failedBatch(t *testing.T, e *env, n, size, from, to int) ([]byte, *written) {
	t.Helper()
	shards := putRecords(t, kinesis.NewFromConfig(e.cfg), e.streamARN, n, size)
	shard, w := busiest(shards)
	if to > len(w.seqs) {
		t.Fatalf("shard %s got %d records, want at least %d", shard, len(w.seqs), to)
	}
	want := &written{seqs: w.seqs[from:to], data: w.data}
	rec := onfailure.Record(onfailure.Batch{Source: "kinesis", StreamARN: e.streamARN, ShardID: shard,
		Start: want.seqs[0], End: want.seqs[len(want.seqs)-1], BatchSize: len(want.seqs)})
	return rec, want
}

// checkRecords asserts doc holds exactly want's records, in order, with their data.
func checkRecords(t *testing.T, where string, doc *archive.Document, want *written) {
	t.Helper()
	if len(doc.Records) != len(want.seqs) {
		t.Fatalf("%s: %d records, want %d", where, len(doc.Records), len(want.seqs))
	}
	for i, r := range doc.Records {
		if r.SequenceNumber() != want.seqs[i] {
			t.Fatalf("%s: record %d sequence %s, want %s", where, i, r.SequenceNumber(), want.seqs[i])
		}
		if !bytes.Equal(r.Kinesis.Kinesis.Data, want.data[want.seqs[i]]) {
			t.Fatalf("%s: record %d data differs", where, i)
		}
	}
}

// archived returns the one archive object's document, failing if there is not one.
func archived(t *testing.T, e *env) (string, *archive.Document) {
	t.Helper()
	out, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: ptr("failures/source=")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 1 {
		t.Fatalf("archive holds %d objects, want 1", len(out.Contents))
	}
	key := *out.Contents[0].Key
	doc, err := e.archive().Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return key, doc
}

func ptr[T any](v T) *T { return &v }

func TestHandleSNSKinesisEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	rec, want := failedBatch(t, e, 400, 100, 20, 120)
	h := e.handler(t)
	ctx := context.Background()
	if _, err := h.Handle(ctx, onfailure.SNSEvent(topic, rec)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	key, doc := archived(t, e)
	checkRecords(t, "archive", doc, want)
	if doc.Hydration.Status != archive.StatusComplete || doc.Hydration.Expected != 100 || doc.Hydration.Calls < 2 {
		t.Errorf("hydration = %+v, want complete, expected 100, calls >= 2", doc.Hydration)
	}
	msgs := receiveAll(t, e.sqs, e.dlqURL, 1)
	if len(msgs) != 1 {
		t.Fatalf("DLQ holds %d messages, want 1", len(msgs))
	}
	queued, err := archive.DecodeMessage(ctx, e.s3, e.bucket, *msgs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "DLQ message", queued, want)
	evs := receiveAll(t, e.sqs, e.eventsURL, 1)
	if len(evs) != 1 {
		t.Fatalf("bus delivered %d events, want 1", len(evs))
	}
	var ev struct {
		DetailType string `json:"detail-type"`
		Source     string
		Detail     struct {
			Status  string
			Fetched int
			Archive struct{ Key string }
		}
	}
	decodeJSON(t, *evs[0].Body, &ev)
	if ev.DetailType != hydrate.DetailHydrated || ev.Source != "streamdlq" || ev.Detail.Archive.Key != key || ev.Detail.Fetched != 100 {
		t.Errorf("event = %+v, want %s from streamdlq naming %s with 100 records", ev, hydrate.DetailHydrated, key)
	}
	if strings.Contains(*evs[0].Body, `"pad"`) {
		t.Error("event carries record payloads")
	}

	// SNS delivers the same message again: nothing is archived or queued twice.
	if _, err := h.Handle(ctx, onfailure.SNSEvent(topic, rec)); err != nil {
		t.Fatalf("Handle duplicate: %v", err)
	}
	archived(t, e)
	if n := queueDepth(t, e.sqs, e.dlqURL); n != 1 {
		t.Errorf("DLQ holds %d messages after a duplicate delivery, want 1", n)
	}
}

func TestHandleClaimCheckWhenTooBigForQueue(t *testing.T) {
	e := newEnv(t, map[string]string{"MaximumMessageSize": "2048"})
	rec, want := failedBatch(t, e, 60, 200, 0, 20)
	ctx := context.Background()
	if _, err := e.handler(t).Handle(ctx, onfailure.SNSEvent(topic, rec)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	msgs := receiveAll(t, e.sqs, e.dlqURL, 1)
	if len(msgs) != 1 || !strings.Contains(*msgs[0].Body, "software.amazon.payloadoffloading.PayloadS3Pointer") {
		t.Fatalf("DLQ messages = %d, want one claim check", len(msgs))
	}
	if _, ok := msgs[0].MessageAttributes["ExtendedPayloadSize"]; !ok {
		t.Error("claim check lacks the ExtendedPayloadSize attribute")
	}
	doc, err := archive.DecodeMessage(ctx, e.s3, e.bucket, *msgs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "claim check", doc, want)
}

// A fault at any step fails the invocation; the retry that SNS/Lambda makes then
// completes it, with one archive object and one DLQ message.
func TestHandleRetryAfterFaultAtEachStep(t *testing.T) {
	for _, op := range []string{"GetRecords", "PutObject", "SendMessage", "PutObjectTagging", "PutEvents"} {
		t.Run(op, func(t *testing.T) {
			e := newEnv(t, nil)
			rec, want := failedBatch(t, e, 100, 50, 0, 30)
			h := e.handler(t)
			e.faults.FailNext(op, 10) // more than the SDK retries
			if _, err := h.Handle(context.Background(), onfailure.SNSEvent(topic, rec)); err == nil {
				t.Fatalf("Handle with %s failing = nil error, want an error so Lambda retries", op)
			}
			e.faults.FailNext(op, 0)
			if _, err := h.Handle(context.Background(), onfailure.SNSEvent(topic, rec)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			_, doc := archived(t, e)
			checkRecords(t, "archive", doc, want)
			checkQueued(t, e, op)
			if n := len(receiveAll(t, e.sqs, e.eventsURL, 1)); n != 1 {
				t.Errorf("bus delivered %d events, want 1", n)
			}
		})
	}
}

// checkQueued asserts one DLQ message per failure — except when the step that records
// "queued" failed after the message was sent: that is the documented at-least-once
// window, and the copies carry the same deduplication id.
func checkQueued(t *testing.T, e *env, failedOp string) {
	t.Helper()
	want := 1
	if failedOp == "PutObjectTagging" {
		want = 2
	}
	msgs := receiveAll(t, e.sqs, e.dlqURL, want+1)
	if len(msgs) != want {
		t.Fatalf("DLQ holds %d messages, want %d", len(msgs), want)
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		ids[*m.MessageAttributes[archive.AttrDedupID].StringValue] = true
	}
	if len(ids) != 1 {
		t.Errorf("copies carry %d distinct dedup ids, want 1", len(ids))
	}
}

func TestHandleRefusesStreamOutsideAllowlist(t *testing.T) {
	e := newEnv(t, nil)
	rec, _ := failedBatch(t, e, 20, 20, 0, 2)
	c := e.config()
	c.Allowed, _ = hydrate.ParseAllowlist("arn:aws:kinesis:us-east-1:000000000000:stream/only-this-one")
	before := e.faults.Count("GetShardIterator")
	_, err := hydrate.NewFromConfig(e.cfg, c, false).Handle(context.Background(), onfailure.SNSEvent(topic, rec))
	var na *hydrate.NotAllowedError
	if !errors.As(err, &na) {
		t.Fatalf("Handle = %v, want *hydrate.NotAllowedError", err)
	}
	if n := e.faults.Count("GetShardIterator") - before; n != 0 {
		t.Errorf("made %d GetShardIterator calls for a refused stream, want 0", n)
	}
	if n := queueDepth(t, e.sqs, e.dlqURL); n != 0 {
		t.Errorf("DLQ holds %d messages, want 0", n)
	}
}

// One bad SQS message is reported in batchItemFailures; the others are processed.
func TestHandleSQSPartialBatch(t *testing.T) {
	e := newEnv(t, nil)
	rec, want := failedBatch(t, e, 40, 20, 0, 5)
	payload := onfailure.SQSEvent("arn:aws:sqs:us-east-1:000000000000:on-failure", rec, []byte(`{"not":"an on-failure record"}`))
	resp, err := e.handler(t).Handle(context.Background(), payload)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	var body struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	decodeJSON(t, mustJSON(t, resp), &body)
	if len(body.BatchItemFailures) != 1 || !strings.Contains(string(payload), body.BatchItemFailures[0].ItemIdentifier) {
		t.Fatalf("batchItemFailures = %+v, want the bad message only", body.BatchItemFailures)
	}
	_, doc := archived(t, e)
	checkRecords(t, "archive", doc, want)
}

// Every real on-failure record shape is taken. Their streams do not exist here: a
// stream not found proves nothing about its records (it may be in another region, or
// the role may lack rights), so each fails as incomplete, so that AWS retries it and
// the retry-until-retention machinery decides at retention. Nothing is queued; the
// incomplete capture is archived with its metadata. The S3 object carries its records
// and is complete.
func TestHandleFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			e := newEnv(t, nil)
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c := e.config()
			c.Allowed, _ = hydrate.ParseAllowlist("arn:aws:kinesis:*,arn:aws:dynamodb:*")
			h := hydrate.NewFromConfig(e.cfg, c, false)
			if strings.Contains(f, "s3-object") {
				payload = putOnFailureObject(t, e, payload)
			}
			resp, err := h.Handle(context.Background(), payload)
			_, doc := archived(t, e)
			if strings.Contains(f, "s3-object") {
				if err != nil {
					t.Fatalf("Handle: %v", err)
				}
				if doc.Hydration.From != "s3-payload" || doc.Hydration.Status != archive.StatusComplete || len(doc.Records) != 1 {
					t.Errorf("hydration = %+v with %d records, want complete from the S3 payload with 1 record", doc.Hydration, len(doc.Records))
				}
				if n := queueDepth(t, e.sqs, e.dlqURL); n != 1 {
					t.Errorf("DLQ holds %d messages, want 1 (response %s)", n, mustJSON(t, resp))
				}
				return
			}
			checkIncomplete(t, strings.Contains(f, "-sqs"), resp, err)
			if g := doc.Hydration.Gaps; doc.Hydration.Status != archive.StatusIncomplete || len(g) != 1 || g[0].Reason != batch.GapUnreadable || g[0].Final() {
				t.Errorf("hydration = %+v, want incomplete with one transient unreadable gap (the stream does not exist)", doc.Hydration)
			}
			if n := queueDepth(t, e.sqs, e.dlqURL); n != 0 {
				t.Errorf("DLQ holds %d messages, want 0: an incomplete capture is never queued", n)
			}
		})
	}
}

// checkIncomplete asserts that an invocation of one item failed as incomplete: an
// *IncompleteError for direct and SNS inputs, a batch item failure for SQS.
func checkIncomplete(t *testing.T, sqsInput bool, resp any, err error) {
	t.Helper()
	if sqsInput {
		var body struct {
			BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
		}
		decodeJSON(t, mustJSON(t, resp), &body)
		if err != nil || len(body.BatchItemFailures) != 1 {
			t.Fatalf("Handle = %s, %v; want the item in batchItemFailures", mustJSON(t, resp), err)
		}
		return
	}
	var inc *hydrate.IncompleteError
	if !errors.As(err, &inc) || len(inc.Missing) == 0 {
		t.Fatalf("Handle = %v, want a *hydrate.IncompleteError naming what is missing", err)
	}
}

func putOnFailureObject(t *testing.T, e *env, body []byte) []byte {
	t.Helper()
	key := "aws/lambda/6f2ac9f4-0000-4000-8000-000000000001/shardId-000000000001/2019/11/14/2019-11-14T00.38.06-7c1b3f3e-0000-4000-8000-000000000001"
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &e.bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	return []byte(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2019-11-14T00:38:07.000Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:AROAEXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"EXAMPLE","x-amz-id-2":"EXAMPLE"},"s3":{"s3SchemaVersion":"1.0","configurationId":"on-failure","bucket":{"name":"` +
		e.bucket + `","ownerIdentity":{"principalId":"EXAMPLE"},"arn":"arn:aws:s3:::` + e.bucket + `"},"object":{"key":"` + key + `","size":` + itoa(len(body)) + `,"eTag":"0123456789abcdef0123456789abcdef","sequencer":"0A1B2C3D4E5F678901"}}}]}`)
}

func queueDepth(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	return atoi(out.Attributes["ApproximateNumberOfMessages"]) + atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
}
