package hydrate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/envelope"
	"github.com/streamdlq/streamdlq/internal/stream"
)

const (
	payloadStream = "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"
	payloadSeq    = "49601189658422359378836298521827638475320189012309704722"
)

// s3Failure parses the S3-destination fixture after edit changes its first payload
// record (decoded as a generic map).
func s3Failure(t *testing.T, edit func(rec map[string]any)) *batch.Failure {
	t.Helper()
	b, err := os.ReadFile("testdata/kinesis-onfailure-s3-object.json")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	var event map[string][]map[string]any
	if err := json.Unmarshal([]byte(obj["payload"].(string)), &event); err != nil {
		t.Fatal(err)
	}
	edit(event["Records"][0])
	p, _ := json.Marshal(event)
	obj["payload"] = string(p)
	b, _ = json.Marshal(obj)
	f, err := envelope.ParseRecord(b, "s3://bucket/key")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func hydratePayload(t *testing.T, f *batch.Failure, deaggregate bool) (int, error) {
	t.Helper()
	h := New(aws.Config{}, Config{Deaggregate: deaggregate, Allowed: mustAllow(t, "arn:aws:kinesis:*")})
	doc, err := h.Hydrate(context.Background(), f, Allowlist{})
	if err != nil {
		return 0, err
	}
	return len(doc.Records), nil
}

func TestPayloadRecordsMustBelongToTheFailure(t *testing.T) {
	kinesis := func(rec map[string]any) map[string]any { return rec["kinesis"].(map[string]any) }
	cases := map[string]struct {
		edit      func(rec map[string]any)
		wantField string
	}{
		"another stream": {func(rec map[string]any) {
			rec["eventSourceARN"] = "arn:aws:kinesis:us-east-2:123456789012:stream/orders"
		},
			"payload.Records[0].eventSourceARN"},
		"another shard": {func(rec map[string]any) { rec["eventID"] = "shardId-000000000007:" + payloadSeq }, "payload.Records[0].eventID"},
		"eventID of another record": {func(rec map[string]any) { rec["eventID"] = "shardId-000000000001:1" },
			"payload.Records[0].eventID"},
		"before the range": {func(rec map[string]any) {
			kinesis(rec)["sequenceNumber"] = "49601189658422359378836298521827638475320189012309704721"
			rec["eventID"] = "shardId-000000000001:49601189658422359378836298521827638475320189012309704721"
		}, "payload.Records[0].kinesis.sequenceNumber"},
		"after the range": {func(rec map[string]any) {
			kinesis(rec)["sequenceNumber"] = "49601189658422359378836298521827638475320189012309704723"
			rec["eventID"] = "shardId-000000000001:49601189658422359378836298521827638475320189012309704723"
		}, "payload.Records[0].kinesis.sequenceNumber"},
		"DynamoDB record in a Kinesis failure": {func(rec map[string]any) {
			clear(rec)
			rec["eventSource"], rec["eventSourceARN"] = "aws:dynamodb", payloadStream
			rec["dynamodb"] = map[string]any{"SequenceNumber": payloadSeq}
		}, "payload.Records[0].eventSource"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := hydratePayload(t, s3Failure(t, tc.edit), false)
			var perr *envelope.ParseError
			if !errors.As(err, &perr) || perr.Field != tc.wantField {
				t.Fatalf("got %v, want a *ParseError on %s", err, tc.wantField)
			}
			if !strings.Contains(err.Error(), "does not belong to the failure") {
				t.Errorf("got %q, want it to say the record does not belong", err)
			}
		})
	}
}

func TestPayloadOfTheFailureIsTaken(t *testing.T) {
	n, err := hydratePayload(t, s3Failure(t, func(map[string]any) {}), false)
	if err != nil || n != 1 {
		t.Fatalf("got %d records, %v; want 1, no error", n, err)
	}
}

// An S3 payload is de-aggregated like a stream read when the setting is on.
func TestPayloadIsDeaggregated(t *testing.T) {
	agg := stream.Aggregate([]stream.UserRecord{{PartitionKey: "a", Data: []byte("x")}, {PartitionKey: "b", Data: []byte("y")}, {PartitionKey: "c"}})
	f := s3Failure(t, func(rec map[string]any) { rec["kinesis"].(map[string]any)["data"] = agg })
	for deaggregate, want := range map[bool]int{false: 1, true: 3} {
		n, err := hydratePayload(t, f, deaggregate)
		if err != nil || n != want {
			t.Errorf("deaggregate %t: got %d records, %v; want %d", deaggregate, n, err, want)
		}
	}
}

// A DynamoDB record does not name its shard; its stream and sequence number are checked.
func TestDynamoDBPayloadChecked(t *testing.T) {
	const ddbStream = "arn:aws:dynamodb:us-east-2:123456789012:table/t/stream/2026-01-01T00:00:00.000"
	f := &batch.Failure{Source: batch.SourceDynamoDB, StreamARN: ddbStream, ShardID: "shardId-1", Start: "100", End: "200"}
	rec := func(arn, seq string) batch.Record {
		var r events.DynamoDBEventRecord
		r.EventSource, r.EventSourceArn, r.Change.SequenceNumber = "aws:dynamodb", arn, seq
		return batch.Record{DynamoDB: &r}
	}
	if err := checkPayload(f, []batch.Record{rec(ddbStream, "100"), rec(ddbStream, "200")}); err != nil {
		t.Errorf("records of the range: got %v", err)
	}
	for field, recs := range map[string][]batch.Record{
		"payload.Records[1].eventSourceARN":          {rec(ddbStream, "150"), rec(ddbStream+"x", "150")},
		"payload.Records[0].dynamodb.SequenceNumber": {rec(ddbStream, "201")},
	} {
		var perr *envelope.ParseError
		if err := checkPayload(f, recs); !errors.As(err, &perr) || perr.Field != field {
			t.Errorf("got %v, want a *ParseError on %s", err, field)
		}
	}
}

// kafkaS3Failure parses the Kafka S3-destination fixture after edit changes the
// second record of its my-topic-0 payload, and returns that partition's failure.
func kafkaS3Failure(t *testing.T, edit func(rec map[string]any)) *batch.Failure {
	t.Helper()
	b, err := os.ReadFile("../internal/envelope/testdata/kafka/kafka-onfailure-s3-object.json")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	var event map[string]any
	if err := json.Unmarshal([]byte(obj["payload"].(string)), &event); err != nil {
		t.Fatal(err)
	}
	edit(event["records"].(map[string]any)["my-topic-0"].([]any)[1].(map[string]any))
	p, _ := json.Marshal(event)
	obj["payload"] = string(p)
	b, _ = json.Marshal(obj)
	fs, err := envelope.ParseRecords(b, "s3://bucket/key")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Kafka.Partition == 0 {
			return f
		}
	}
	t.Fatalf("no failure of my-topic-0 in %d", len(fs))
	return nil
}

// A Kafka S3 payload's records are kept under the failure's <topic>-<partition>
// key; each must still say that topic-partition and an offset of the range.
func TestKafkaPayloadRecordsMustBelongToTheFailure(t *testing.T) {
	h := New(aws.Config{}, Config{Allowed: mustAllow(t, "arn:aws:kafka:us-east-1:123456789012:cluster/*")})
	doc, err := h.Hydrate(context.Background(), kafkaS3Failure(t, func(map[string]any) {}), Allowlist{})
	if err != nil || len(doc.Records) != 2 {
		t.Fatalf("the fixture: got %v; want 2 records, no error", err)
	}
	cases := map[string]struct {
		edit      func(rec map[string]any)
		wantField string
	}{
		"another topic":     {func(rec map[string]any) { rec["topic"] = "orders" }, "topic"},
		"another partition": {func(rec map[string]any) { rec["partition"] = 1 }, "partition"},
		"before the range":  {func(rec map[string]any) { rec["offset"] = 14 }, "offset"},
		"after the range":   {func(rec map[string]any) { rec["offset"] = 17 }, "offset"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := h.Hydrate(context.Background(), kafkaS3Failure(t, tc.edit), Allowlist{})
			var perr *envelope.ParseError
			if want := `payload.records["my-topic-0"][1].` + tc.wantField; !errors.As(err, &perr) || perr.Field != want {
				t.Fatalf("got %v, want a *ParseError on %s", err, want)
			}
			if !strings.Contains(err.Error(), "does not belong to the failure") {
				t.Errorf("got %q, want it to say the record does not belong", err)
			}
		})
	}
}
