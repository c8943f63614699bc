package chaos_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/redrive"
)

// TestRedriveRefusesForeignClaimCheck puts a claim check naming an object in another
// bucket — one that exists and holds a well-formed failure — on the DLQ and runs the
// redrive: the object must never be fetched, nothing may reach the target, and the
// message must be parked with the reason.
func TestRedriveRefusesForeignClaimCheck(t *testing.T) {
	e := newSideEffects(t)
	ctx := context.Background()
	other, key := testkit.Bucket(t, e.s3, "other"), "failures/claim-check/x.json"
	doc := `{"failure":{},"Records":[{"eventSource":"aws:kinesis","eventSourceARN":"` + e.streamARN + `","kinesis":{"partitionKey":"k","sequenceNumber":"1","data":"c2VjcmV0"}}],"hydration":{"status":"complete","source":"kinesis","streamArn":"` + e.streamARN + `"}}`
	if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &other, Key: &key, Body: strings.NewReader(doc)}); err != nil {
		t.Fatal(err)
	}
	body := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"` + other + `","s3Key":"` + key + `"}]`
	if _, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &e.dlqURL, MessageBody: &body}); err != nil {
		t.Fatal(err)
	}
	parking := testkit.Queue(t, e.sqs, "parking", nil)
	e.calls.Reset()
	rep, err := e.redriver(parking).Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := e.calls.Count("GetObject"); n != 0 {
		t.Errorf("got %d GetObject calls, want 0: the pointer must be refused before any request", n)
	}
	if rep.Delivered != 0 || e.calls.Count("PutRecords") != 0 {
		t.Errorf("got %d delivered, %d PutRecords calls; want 0", rep.Delivered, e.calls.Count("PutRecords"))
	}
	parked, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &parking, MessageAttributeNames: []string{"All"}, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(parked.Messages) != 1 {
		t.Fatalf("got %d parked messages, want 1 (report %+v)", len(parked.Messages), rep)
	}
	reason := aws.ToString(parked.Messages[0].MessageAttributes[redrive.AttrLastError].StringValue)
	if !strings.Contains(reason, other) {
		t.Errorf("got park reason %q, want it to name the foreign bucket %s", reason, other)
	}
}

// redriver redrives the DLQ back to the test's stream through the counted clients.
func (e *sideEffects) redriver(parkingURL string) *redrive.Redriver {
	sqsc, s3c := sqs.NewFromConfig(e.cfg), awsenv.S3(e.cfg)
	arc := archive.New(s3c, func(o *archive.Options) { o.Bucket, o.Prefix = e.bucket, "failures" })
	queue := archive.NewQueue(sqsc, func(o *archive.QueueOptions) { o.URL, o.Archive = e.dlqURL, arc })
	src := redrive.NewSQSSource(sqsc, s3c, queue, func(o *redrive.SQSSourceOptions) {
		o.URL, o.ParkURL, o.Bucket, o.Prefix, o.WaitTime = e.dlqURL, parkingURL, e.bucket, "failures", 0
	})
	return redrive.New(src, func(o *redrive.Options) {
		o.Kinesis = kinesis.NewFromConfig(e.cfg)
		o.Budget, o.SafetyMargin = 10*time.Second, 0
	})
}
