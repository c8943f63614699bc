package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/envelope"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

const topic = "arn:aws:sns:us-east-1:000000000000:streamdlq-on-failure"

// TestHostileInputRefused sends hostile on-failure inputs through the real hydrate
// handler on the local AWS: each must be refused with its specific error, and cause no
// stream read, no archive object and no DLQ message.
func TestHostileInputRefused(t *testing.T) {
	e := newSideEffects(t)
	spoil := func(f func(batch map[string]any)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			rec := e.record(t)
			f(rec["KinesisBatchInfo"].(map[string]any))
			return onfailure.SNSEvent(topic, mustJSON(t, rec))
		}
	}
	tests := map[string]struct {
		payload func(t *testing.T) []byte
		want    func(error) bool
	}{
		"7 MiB message": {func(*testing.T) []byte {
			return []byte(`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"` + strings.Repeat("A", 7<<20) + `"}}]}`)
		}, isParseError},
		"JSON nested 100,000 deep":  {func(*testing.T) []byte { return []byte(strings.Repeat(`{"a":[`, 100_000)) }, isParseError},
		"batchSize is a string":     {spoil(func(b map[string]any) { b["batchSize"] = "2" }), isParseError},
		"shardId is a number":       {spoil(func(b map[string]any) { b["shardId"] = 7 }), isParseError},
		"negative batchSize":        {spoil(func(b map[string]any) { b["batchSize"] = -2 }), isParseError},
		"200-digit sequence number": {spoil(func(b map[string]any) { b["endSequenceNumber"] = strings.Repeat("9", 200) }), isParseError},
		"start after end": {spoil(func(b map[string]any) {
			b["startSequenceNumber"], b["endSequenceNumber"] = b["endSequenceNumber"], b["startSequenceNumber"]
		}), isParseError},
		"SQS queue ARN as the stream": {spoil(func(b map[string]any) { b["streamArn"] = "arn:aws:sqs:us-east-1:000000000000:orders" }), isParseError},
		"Lambda function ARN":         {spoil(func(b map[string]any) { b["streamArn"] = "arn:aws:lambda:us-east-1:000000000000:function:orders" }), isParseError},
		"DynamoDB stream in KinesisInfo": {spoil(func(b map[string]any) {
			b["streamArn"] = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
		}), isParseError},
		"stream of another account": {spoil(func(b map[string]any) { b["streamArn"] = otherARN(b, "000000000000", "111122223333") }), isNotAllowed},
		"stream in another partition": {spoil(func(b map[string]any) {
			b["streamArn"] = strings.Replace(strings.Replace(b["streamArn"].(string), "arn:aws:", "arn:aws-cn:", 1), "us-east-1", "cn-north-1", 1)
		}), isNotAllowed},
		"stream in another region":   {spoil(func(b map[string]any) { b["streamArn"] = otherARN(b, "us-east-1", "eu-west-1") }), isNotAllowed},
		"name extended past a match": {spoil(func(b map[string]any) { b["streamArn"] = b["streamArn"].(string) + "-evil" }), isNotAllowed},
		"invalid UTF-8 in shardId": {func(t *testing.T) []byte {
			rec := mustJSON(t, e.record(t))
			return onfailure.SNSEvent(topic, bytes.Replace(rec, []byte(e.shard), []byte("shardId-\xff\xfe000001"), 1))
		}, isParseError},
		"not an on-failure record": {func(*testing.T) []byte { return onfailure.SNSEvent(topic, []byte(`{"Records":"surprise"}`)) }, isParseError},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e.calls.Reset()
			_, err := e.handler().Handle(context.Background(), tt.payload(t))
			if !tt.want(err) {
				t.Errorf("got error %v (%T), want a specific refusal", err, err)
			}
			e.checkNone(t)
		})
	}
}

// TestHostileDLQMessageRefused feeds hostile DLQ bodies to the archive decoder the
// redrive uses: a claim check naming another bucket is refused before any request,
// and bodies that are not streamdlq's format are format errors.
func TestHostileDLQMessageRefused(t *testing.T) {
	e := newSideEffects(t)
	pointer := func(bucket string) string {
		return `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"` + bucket + `","s3Key":"failures/claim-check/x.json"}]`
	}
	tests := map[string]struct {
		body string
		want func(error) bool
	}{
		"claim check in another bucket":      {pointer("someone-elses-bucket"), isPointerError},
		"claim check in a look-alike bucket": {pointer(e.bucket + "-evil"), isPointerError},
		"claim check with no bucket":         {pointer(""), isFormatError},
		"1 MiB of garbage":                   {strings.Repeat("\x00garbage", 1<<17), isFormatError},
		"JSON of another shape":              {`{"Records":[{"eventSource":"aws:sqs"}]}`, isFormatError},
		"invalid UTF-8":                      {"{\"failure\":\"\xff\xfe\"}", isFormatError},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e.calls.Reset()
			_, err := archive.DecodeMessage(context.Background(), awsenvS3(e), e.bucket, tt.body)
			if !tt.want(err) {
				t.Errorf("got error %v (%T), want a specific refusal", err, err)
			}
			if n := e.calls.Count("GetObject"); n != 0 {
				t.Errorf("got %d GetObject calls, want 0", n)
			}
		})
	}
}

func isParseError(err error) bool   { var pe *envelope.ParseError; return errors.As(err, &pe) }
func isNotAllowed(err error) bool   { var na *hydrate.NotAllowedError; return errors.As(err, &na) }
func isPointerError(err error) bool { var pe *archive.PointerError; return errors.As(err, &pe) }
func isFormatError(err error) bool  { var fe *archive.FormatError; return errors.As(err, &fe) }

func otherARN(b map[string]any, from, to string) string {
	return strings.Replace(b["streamArn"].(string), from, to, 1)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
