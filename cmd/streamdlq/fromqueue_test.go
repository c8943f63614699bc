package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// An operator drains the hydrator's failure queue by hand: a message whose hydration
// now completes is captured and deleted; one that is refused for good is parked with
// the reason; the run exits 4 saying so.
func TestHydrateFromQueue(t *testing.T) {
	cfg := testkit.Config(t, testkit.Moto)
	ctx := context.Background()
	q := sqs.NewFromConfig(cfg)
	urls := map[string]string{}
	for _, name := range []string{"failures", "dlq", "parking"} {
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testkit.Name(t, name))})
		if err != nil {
			t.Fatal(err)
		}
		urls[name] = *out.QueueUrl
	}
	bucket := testkit.Name(t, "b")
	if _, err := awsenv.S3(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	record, err := os.ReadFile("../../internal/envelope/testdata/kinesis-onfailure-s3-object.json")
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(map[string]any{"version": "1.0", "requestContext": map[string]any{"requestId": "r1", "condition": "RetriesExhausted"},
		"requestPayload": json.RawMessage(record)})
	refused := strings.ReplaceAll(string(good), "stream/mystream", "stream/elsewhere")
	for _, body := range []string{string(good), refused} {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(urls["failures"]), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{"STREAMDLQ_ALLOWED_STREAMS": "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
		"STREAMDLQ_ARCHIVE_BUCKET": bucket, "STREAMDLQ_ARCHIVE_PREFIX": "", "STREAMDLQ_DLQ_URL": urls["dlq"],
		"STREAMDLQ_PARKING_QUEUE_URL": urls["parking"], "STREAMDLQ_CHECK_MAPPINGS": "false"} {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"hydrate", "--from-queue", urls["failures"]}, &stdout, &stderr)
	var rep hydrate.RehydrateReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || code != exitIncomplete || rep.Hydrated != 1 || rep.Parked != 1 {
		t.Fatalf("exit %d, report %+v (%v), want 4 with one hydrated and one parked\n%s", code, rep, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "not in the allowlist") {
		t.Errorf("stderr does not say why the message was parked:\n%s", stderr.String())
	}
	for name, want := range map[string]int{"failures": 0, "dlq": 1, "parking": 1} {
		if got := depth(t, q, urls[name]); got != want {
			t.Errorf("%s queue holds %d messages, want %d", name, got, want)
		}
	}
}

func depth(t *testing.T, q *sqs.Client, url string) int {
	t.Helper()
	out, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range out.Attributes {
		var i int
		_, _ = fmt.Sscan(v, &i)
		n += i
	}
	return n
}
