package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The records the fixtures carry, without Raw and Payload (checked separately).
var (
	kinesisFailure = batch.Failure{
		Source: batch.SourceKinesis, Condition: "RetryAttemptsExhausted",
		RequestID:   "c9b8fa9f-5a7f-4e8c-8bb0-2f9c5e4f0e21",
		FunctionARN: "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
		Timestamp:   mustTime("2019-11-14T00:38:06.021Z"),
		StreamARN:   "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
		Region:      "us-east-2", AccountID: "123456789012", StreamName: "mystream",
		ShardID:      "shardId-000000000001",
		Start:        "49601189658422359378836298521827638475320189012309704722",
		End:          "49601189658422359378836298522902373528957594348623495186",
		BatchSize:    500,
		FirstArrival: mustTime("2019-11-14T00:38:04.835Z"),
		LastArrival:  mustTime("2019-11-14T00:38:05.580Z"),
	}
	kafkaFailure = batch.Failure{
		Source: batch.SourceKafka, Condition: "RetryAttemptsExhausted",
		RequestID:   "316aa6d0-8154-4d56-9af7-85d5f4a6bc81",
		FunctionARN: "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
		Timestamp:   mustTime("2019-11-14T00:38:06.021Z"),
		StreamARN:   "arn:aws:kafka:us-east-2:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2",
		Region:      "us-east-2", AccountID: "123456789012", StreamName: "mytopic",
		ShardID: "0", Start: "1043", End: "1542", BatchSize: 500,
		FirstArrival: mustTime("2019-11-14T00:38:04.835Z"),
		LastArrival:  mustTime("2019-11-14T00:38:05.580Z"),
		Kafka: &batch.Kafka{
			ClusterARN:       "arn:aws:kafka:us-east-2:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2",
			BootstrapServers: []string{"b-1.example.kafka.us-east-2.amazonaws.com:9098"},
			Topic:            "mytopic", FirstOffset: 1043, LastOffset: 1542, PayloadSize: 2039086,
		},
	}
	ddbFailure = batch.Failure{
		Source: batch.SourceDynamoDB, Condition: "RetryAttemptsExhausted",
		RequestID:   "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
		FunctionARN: "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
		Timestamp:   mustTime("2019-11-14T00:13:49.717Z"),
		StreamARN:   "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388",
		Region:      "us-east-2", AccountID: "123456789012", StreamName: "mytable",
		ShardID:      "shardId-00000001573689847184-864758bb",
		Start:        "800000000003126276362",
		End:          "800000000003126276362",
		BatchSize:    1,
		FirstArrival: mustTime("2019-11-14T00:13:19Z"),
		LastArrival:  mustTime("2019-11-14T00:13:19Z"),
	}
	pipesKinesisFailure = batch.Failure{
		Source: batch.SourceKinesis, Condition: "RetryAttemptsExhausted",
		FunctionARN: "arn:aws:pipes:us-east-2:123456789012:pipe/orders-to-enricher",
		Timestamp:   mustTime("2023-06-19T15:03:51.498Z"),
		StreamARN:   "arn:aws:kinesis:us-east-2:123456789012:stream/orders",
		Region:      "us-east-2", AccountID: "123456789012", StreamName: "orders",
		ShardID:      "shardId-000000000000",
		Start:        "49642130658823521356789012345678901234567890123456789010",
		End:          "49642130658823521356789012345679025047239185738962436098",
		BatchSize:    3,
		FirstArrival: mustTime("2023-06-19T15:03:46.620Z"),
		LastArrival:  mustTime("2023-06-19T15:03:47.105Z"),
	}
)

// with returns a copy of f changed by edit.
func with(f batch.Failure, edit func(*batch.Failure)) batch.Failure {
	edit(&f)
	return f
}

type wantItem struct {
	id       string
	failure  *batch.Failure // without Raw and Payload
	payload  bool           // batch.Failure.Payload set (S3 destination shape)
	object   *ObjectRef
	errField *string // a *ParseError with this Field is expected
}

func field(s string) *string { return &s }

func fixtureCases() map[string]struct {
	kind  Kind
	items []wantItem
} {
	qualified := with(kinesisFailure, func(f *batch.Failure) { f.FunctionARN += ":live" })
	s3Object := with(kinesisFailure, func(f *batch.Failure) { f.End, f.BatchSize = f.Start, 1 })
	captured := batch.Failure{
		Source: batch.SourceKinesis, Condition: "RetryAttemptsExhausted",
		RequestID:   "5577e27b-a674-48cc-9fcb-aa6cf675e939",
		FunctionARN: "arn:aws:lambda:us-east-1:374852340823:function:hydrate-kinesis-dlq-dev-kinesis",
		Timestamp:   mustTime("2023-12-10T22:43:49.459Z"),
		StreamARN:   "arn:aws:kinesis:us-east-1:374852340823:stream/hydrate-kinesis-dlq-dev-KinesisStream-nrH7Hk48mKe2",
		Region:      "us-east-1", AccountID: "374852340823", StreamName: "hydrate-kinesis-dlq-dev-KinesisStream-nrH7Hk48mKe2",
		ShardID:      "shardId-000000000000",
		Start:        "49647238774018758449143791361301066723689190929215782914",
		End:          "49647238774018758449143791361304693501148036740885250050",
		BatchSize:    4,
		FirstArrival: mustTime("2023-12-10T22:42:50.398Z"),
		LastArrival:  mustTime("2023-12-10T22:43:20.392Z"),
	}
	noMS := with(ddbFailure, func(f *batch.Failure) { f.Timestamp = mustTime("2019-11-14T00:13:49Z") })
	pipesDDB := batch.Failure{
		Source: batch.SourceDynamoDB, Condition: "RecordAgeExceeded",
		FunctionARN: "arn:aws:pipes:eu-west-2:123456789012:pipe/table-changes",
		Timestamp:   mustTime("2024-03-08T00:00:05Z"),
		StreamARN:   "arn:aws:dynamodb:eu-west-2:123456789012:table/application-domain/stream/2024-01-01T00:00:00.000",
		Region:      "eu-west-2", AccountID: "123456789012", StreamName: "application-domain",
		ShardID:      "shardId-00000001709856000000-aaa1abcd",
		Start:        "1234567800000000001234567891",
		End:          "1234567800000000001234567899",
		BatchSize:    2,
		FirstArrival: mustTime("2024-03-08T00:00:00Z"),
		LastArrival:  mustTime("2024-03-08T00:00:01Z"),
	}
	onFailureKey := "aws/lambda/8f3c1e2a-5b7d-4c9e-a1f2-3d4e5f6a7b8c/shardId-000000000001/2019/11/14/2019-11-14T00.38.06-0d2c7f4e-9a1b-4c3d-8e5f-6a7b8c9d0e1f"
	object := &ObjectRef{Bucket: "my-onfailure-bucket", Key: onFailureKey, Size: 1529}
	return map[string]struct {
		kind  Kind
		items []wantItem
	}{
		"kinesis-onfailure.json":              {KindDirect, []wantItem{{id: kinesisFailure.RequestID, failure: &kinesisFailure}}},
		"kinesis-onfailure-qualified.json":    {KindDirect, []wantItem{{id: qualified.RequestID, failure: &qualified}}},
		"kinesis-onfailure-s3-object.json":    {KindDirect, []wantItem{{id: s3Object.RequestID, failure: &s3Object, payload: true}}},
		"kinesis-onfailure-sns-captured.json": {KindSNS, []wantItem{{id: "002d4204-3a47-5737-b1b5-1ff47b22a32b", failure: &captured}}},
		"kinesis-onfailure-sqs.json":          {KindSQS, []wantItem{{id: "059f36b4-87a3-44ab-83d2-661975830a7d", failure: &kinesisFailure}}},
		"ddb-onfailure.json":                  {KindDirect, []wantItem{{id: ddbFailure.RequestID, failure: &ddbFailure}}},
		"ddb-onfailure-no-ms.json":            {KindDirect, []wantItem{{id: ddbFailure.RequestID, failure: &noMS}}},
		"sns-ddb-onfailure.json":              {KindSNS, []wantItem{{id: "8d1a5e0c-3f2b-5c47-9e61-0b7a2d4c6e81", failure: &ddbFailure}}},
		"sqs-three-messages.json": {KindSQS, []wantItem{
			{id: "059f36b4-87a3-44ab-83d2-661975830a7d", failure: &kinesisFailure},
			{id: "2e1424d4-f796-459a-8184-9c92662be6da", errField: field("")},
			{id: "7b0e2f1c-4d3a-4e5b-9c8d-1f2e3d4c5b6a", failure: &ddbFailure},
		}},
		"sqs-s3-destination-shaped.json":      {KindSQS, []wantItem{{id: "a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e1b", failure: &s3Object, payload: true}}},
		"sqs-sns-notification.json":           {KindSQS, []wantItem{{id: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", failure: &kinesisFailure}}},
		"s3-onfailure-notification.json":      {KindS3, []wantItem{{id: "s3://my-onfailure-bucket/" + onFailureKey, object: object}}},
		"eventbridge-s3-object-created.json":  {KindS3, []wantItem{{id: "s3://my-onfailure-bucket/" + onFailureKey, object: object}}},
		"pipes-kinesis-dlq.json":              {KindPipes, []wantItem{{id: "direct", failure: &pipesKinesisFailure}}},
		"pipes-ddb-dlq.json":                  {KindPipes, []wantItem{{id: "direct", failure: &pipesDDB}}},
		"hydrate-async-failure.json":          {KindSNS, []wantItem{{id: "95df01b4-ee98-5cb9-9903-4c221d41eb5e", failure: &kinesisFailure}}},
		"sns-undeliverable-notification.json": {KindSNS, []wantItem{{id: "95df01b4-ee98-5cb9-9903-4c221d41eb5e", failure: &kinesisFailure}}},
		"kafka-onfailure.json":                {KindDirect, []wantItem{{id: kafkaFailure.RequestID, failure: &kafkaFailure}}},
		"pipes-kinesis-dlq-sqs.json":          {KindSQS, []wantItem{{id: "0adcdb8d-7987-41a6-bde9-6bfde28d6d9d", failure: &pipesKinesisFailure}}},
	}
}

func TestParseFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := fixtureCases()
	if len(files) != len(cases) {
		t.Errorf("got %d testdata files, want %d cases: every file needs a case", len(files), len(cases))
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in, err := Parse(readTestdata(t, name))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if in.Kind != tc.kind {
				t.Errorf("got kind %v, want %v", in.Kind, tc.kind)
			}
			if len(in.Items) != len(tc.items) {
				t.Fatalf("got %d items, want %d", len(in.Items), len(tc.items))
			}
			for i, want := range tc.items {
				checkItem(t, in.Items[i], want)
			}
		})
	}
}

func checkItem(t *testing.T, got Item, want wantItem) {
	t.Helper()
	if got.ID != want.id {
		t.Errorf("got ID %v, want %v", got.ID, want.id)
	}
	if want.errField != nil {
		var perr *ParseError
		if !errors.As(got.Err, &perr) {
			t.Fatalf("got error %v, want a *ParseError", got.Err)
		}
		if perr.Field != *want.errField || perr.MessageID != want.id {
			t.Errorf("got field %q message %q, want %q %q", perr.Field, perr.MessageID, *want.errField, want.id)
		}
		return
	}
	if got.Err != nil {
		t.Fatalf("got error %v, want none", got.Err)
	}
	if !reflect.DeepEqual(got.Object, want.object) {
		t.Errorf("got object %+v, want %+v", got.Object, want.object)
	}
	if want.failure == nil {
		if got.Failure != nil {
			t.Errorf("got failure %+v, want none", got.Failure)
		}
		return
	}
	if got.Failure == nil {
		t.Fatal("got no failure, want one")
	}
	checkRawPayload(t, got.Failure, want.payload)
	f := *got.Failure
	f.Raw, f.Payload = nil, nil
	if !reflect.DeepEqual(f, *want.failure) {
		t.Errorf("got failure\n%+v\nwant\n%+v", f, *want.failure)
	}
}

func checkRawPayload(t *testing.T, f *batch.Failure, wantPayload bool) {
	t.Helper()
	if !json.Valid(f.Raw) || !bytes.Contains(f.Raw, []byte(f.StreamARN)) {
		t.Errorf("got Raw %s, want the record", f.Raw)
	}
	if got := bytes.Contains(f.Raw, []byte(`"payload"`)); got {
		t.Errorf("got payload in Raw %s, want it moved to Payload", f.Raw)
	}
	if got := f.Payload != nil; got != wantPayload {
		t.Fatalf("got Payload set %v, want %v", got, wantPayload)
	}
	if wantPayload && !bytes.HasPrefix(f.Payload, []byte(`{"Records":[{"kinesis"`)) {
		t.Errorf("got Payload %.60s, want the decoded invocation event", f.Payload)
	}
}

// A bare record's Raw is the payload exactly as received.
func TestParseRawIsVerbatim(t *testing.T) {
	b := readTestdata(t, "kinesis-onfailure.json")
	in, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Items[0].Failure.Raw; !bytes.Equal(got, b) {
		t.Errorf("got Raw %s, want %s", got, b)
	}
	b[0] = ' ' // Raw must not alias the caller's buffer
	if got := in.Items[0].Failure.Raw[0]; got != '{' {
		t.Errorf("got Raw[0] %q after the caller reused its buffer, want '{'", got)
	}
}

func TestParseWholePayloadErrors(t *testing.T) {
	cases := map[string]struct {
		payload   []byte
		wantField string
		wantText  string
	}{
		"not JSON":                 {[]byte(`{"Records": [`), "", "not JSON"},
		"empty":                    {nil, "", "not JSON"},
		"JSON array":               {[]byte(`[1,2]`), "", "JSON array"},
		"JSON string":              {[]byte(`"hello"`), "", "JSON string"},
		"null":                     {[]byte(`null`), "", "no recognizable input"},
		"unrelated object":         {[]byte(`{"hello":"world"}`), "", "no recognizable input"},
		"Records not an array":     {[]byte(`{"Records":{"eventSource":"aws:sqs"}}`), "Records", "JSON object"},
		"Records empty":            {[]byte(`{"Records":[]}`), "Records", "no record with eventSource"},
		"Records of Kinesis":       {[]byte(`{"Records":[{"eventSource":"aws:kinesis"}]}`), "Records", "no record with eventSource"},
		"EventBridge other":        {[]byte(`{"detail-type":"Object Deleted","source":"aws.s3","detail":{}}`), "detail-type", "not an S3 Object Created"},
		"EventBridge bad time":     {[]byte(`{"detail-type":"Object Created","source":"aws.s3","time":"yesterday"}`), "", "EventBridge"},
		"over the size cap":        {append(append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), MaxPayloadSize)...), `"}`...), "", "cap"},
		"deeply nested":            {[]byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)), "", "not JSON"},
		"invocation in invocation": {[]byte(`{"requestContext":{},"requestPayload":{"requestContext":{},"requestPayload":{}}}`), "requestPayload.requestPayload", "inside another"},
		"invocation of garbage":    {[]byte(`{"requestContext":{},"requestPayload":"x"}`), "requestPayload", "JSON string"},
		"deeply nested records":    {[]byte(`{"Records":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), "", "not JSON"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in, err := Parse(tc.payload)
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("got %v, %v, want a *ParseError", in, err)
			}
			if perr.Field != tc.wantField || perr.MessageID != "" {
				t.Errorf("got field %q message %q, want %q and none", perr.Field, perr.MessageID, tc.wantField)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("got %q, want it to mention %q", err, tc.wantText)
			}
		})
	}
}
