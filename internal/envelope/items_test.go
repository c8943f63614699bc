package envelope

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// sqsEvent wraps bodies as the messages of an SQS event, messageIds m0, m1, ...
func sqsEvent(t *testing.T, bodies ...string) []byte {
	t.Helper()
	records := make([]map[string]any, len(bodies))
	for i, b := range bodies {
		records[i] = map[string]any{"messageId": "m" + string(rune('0'+i)), "body": b, "eventSource": "aws:sqs"}
	}
	b, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func s3Event(t *testing.T, edit func(rec map[string]any)) []byte {
	t.Helper()
	return mutate(t, "s3-onfailure-notification.json", func(m map[string]any) {
		edit(m["Records"].([]any)[0].(map[string]any))
	})
}

func s3Object(rec map[string]any) map[string]any {
	return obj(obj(rec, "s3"), "object")
}

func TestParseItems(t *testing.T) {
	kinesis := string(readTestdata(t, "kinesis-onfailure.json"))
	pipes := string(readTestdata(t, "pipes-kinesis-dlq.json"))
	cases := map[string]struct {
		payload []byte
		kind    Kind
		want    []wantItem // failure/object left nil: only ID and error are checked
	}{
		"SQS bodies: good, empty, record-less, Pipes": {
			payload: sqsEvent(t, kinesis, "", `{"requestContext":{}}`, pipes),
			kind:    KindSQS,
			want:    []wantItem{{id: "m0"}, {id: "m1", errField: field("")}, {id: "m2", errField: field("KinesisBatchInfo")}, {id: "m3"}},
		},
		"SQS message without messageId": {
			payload: []byte(`{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`),
			kind:    KindSQS,
			want:    []wantItem{{errField: field("Records[0].messageId")}},
		},
		"SQS message with a wrong-typed field keeps its messageId": {
			payload: []byte(`{"Records":[{"eventSource":"aws:sqs","messageId":"m0","body":5}]}`),
			kind:    KindSQS,
			want:    []wantItem{{id: "m0", errField: field("Records[0].body")}},
		},
		"mixed sources": {
			payload: []byte(`{"Records":[{"eventSource":"aws:sqs","messageId":"m0","body":"{}"},{"EventSource":"aws:sns","Sns":{}},{"eventSource":7}]}`),
			kind:    KindSQS,
			want: []wantItem{{id: "m0", errField: field("KinesisBatchInfo")}, {errField: field("Records[1].eventSource")},
				{errField: field("Records[2].eventSource")}},
		},
		"SNS without MessageId": {
			payload: []byte(`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{}"}}]}`),
			kind:    KindSNS,
			want:    []wantItem{{errField: field("Records[0].Sns.MessageId")}},
		},
		"SNS with a bad Timestamp": {
			payload: []byte(`{"Records":[{"EventSource":"aws:sns","Sns":{"MessageId":"s0","Timestamp":"soon"}}]}`),
			kind:    KindSNS,
			want:    []wantItem{{errField: field("Records[0]")}},
		},
		"S3 object removed": {
			payload: s3Event(t, func(rec map[string]any) { rec["eventName"] = "ObjectRemoved:Delete" }),
			kind:    KindS3,
			want:    []wantItem{{errField: field("Records[0].eventName")}},
		},
		"S3 key with a bad escape": {
			payload: s3Event(t, func(rec map[string]any) { s3Object(rec)["key"] = "a%zzb" }),
			kind:    KindS3,
			want:    []wantItem{{errField: field("Records[0].s3.object.key")}},
		},
		"S3 object over the cap": {
			payload: s3Event(t, func(rec map[string]any) { s3Object(rec)["size"] = MaxObjectSize + 1 }),
			kind:    KindS3,
			want:    []wantItem{{id: "s3://my-onfailure-bucket/" + s3Key(t), errField: field("Records[0].s3.object.size")}},
		},
		"S3 without bucket": {
			payload: s3Event(t, func(rec map[string]any) { obj(obj(rec, "s3"), "bucket")["name"] = "" }),
			kind:    KindS3,
			want:    []wantItem{{errField: field("Records[0].s3.bucket.name")}},
		},
		"EventBridge detail without key keeps the event id": {
			payload: mutate(t, "eventbridge-s3-object-created.json", func(m map[string]any) { delete(obj(obj(m, "detail"), "object"), "key") }),
			kind:    KindS3,
			want:    []wantItem{{id: "17793124-05d4-b198-2fde-7ededc63b103", errField: field("detail.object.key")}},
		},
		"EventBridge detail of the wrong type": {
			payload: mutate(t, "eventbridge-s3-object-created.json", func(m map[string]any) { m["detail"] = []any{} }),
			kind:    KindS3,
			want:    []wantItem{{id: "17793124-05d4-b198-2fde-7ededc63b103", errField: field("detail")}},
		},
		"bare record with a hostile requestId": {
			payload: mutate(t, "kinesis-onfailure.json", func(m map[string]any) { obj(m, "requestContext")["requestId"] = "a\nb" }),
			kind:    KindDirect,
			want:    []wantItem{{id: "direct"}},
		},
		"bare invalid record keeps its requestId": {
			payload: mutate(t, "kinesis-onfailure.json", kinesisInfo(func(b map[string]any) { b["shardId"] = "" })),
			kind:    KindDirect,
			want:    []wantItem{{id: kinesisFailure.RequestID, errField: field("KinesisBatchInfo.shardId")}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in, err := Parse(tc.payload)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if in.Kind != tc.kind || len(in.Items) != len(tc.want) {
				t.Fatalf("got kind %v with %d items, want %v with %d", in.Kind, len(in.Items), tc.kind, len(tc.want))
			}
			for i, want := range tc.want {
				got := in.Items[i]
				if want.errField == nil && (got.Err != nil || got.Failure == nil && got.Object == nil) {
					t.Errorf("item %d: got %+v, want a parsed item", i, got)
					continue
				}
				// Only IDs and errors are under test here; the fixture tests check fields.
				want.object = got.Object
				if got.Failure != nil {
					f := *got.Failure
					f.Raw, f.Payload = nil, nil
					want.failure = &f
				}
				checkItem(t, got, want)
			}
		})
	}
}

func s3Key(t *testing.T) string {
	t.Helper()
	in, err := Parse(readTestdata(t, "s3-onfailure-notification.json"))
	if err != nil {
		t.Fatal(err)
	}
	return in.Items[0].Object.Key
}

// S3 notifications URL-encode keys form-style; EventBridge events do not.
func TestParseS3KeyDecoding(t *testing.T) {
	cases := map[string]struct {
		payload []byte
		want    string
	}{
		"notification, plus and escapes": {
			payload: s3Event(t, func(rec map[string]any) { s3Object(rec)["key"] = "aws/lambda/x/my+file%3D1%2B2.json" }),
			want:    "aws/lambda/x/my file=1+2.json",
		},
		"EventBridge, as is": {
			payload: mutate(t, "eventbridge-s3-object-created.json", func(m map[string]any) { obj(obj(m, "detail"), "object")["key"] = "a b+c" }),
			want:    "a b+c",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in, err := Parse(tc.payload)
			if err != nil || len(in.Items) != 1 || in.Items[0].Object == nil {
				t.Fatalf("got %+v, %v, want one object", in, err)
			}
			if got := in.Items[0].Object.Key; got != tc.want {
				t.Errorf("got key %q, want %q", got, tc.want)
			}
			if got, want := in.Items[0].ID, "s3://my-onfailure-bucket/"+tc.want; got != want {
				t.Errorf("got ID %q, want %q", got, want)
			}
		})
	}
}

// Item errors are *ParseError all the way, so that a caller can report errorType.
func TestParseItemErrorsAreParseErrors(t *testing.T) {
	in, err := Parse(readTestdata(t, "sqs-three-messages.json"))
	if err != nil {
		t.Fatal(err)
	}
	var perr *ParseError
	if !errors.As(in.Items[1].Err, &perr) || !strings.Contains(perr.Error(), "message 2e1424d4-f796-459a-8184-9c92662be6da: not JSON") {
		t.Errorf("got %v, want a ParseError for the garbage body", in.Items[1].Err)
	}
}
