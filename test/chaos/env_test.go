package chaos_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// sideEffects is a stream with records, an archive bucket and a DLQ, reached through
// clients that count every call, so a test can show that an input caused none.
type sideEffects struct {
	cfg       aws.Config // counted
	calls     *testkit.Calls
	streamARN string
	shard     string
	seqs      []string
	bucket    string
	dlqURL    string
	s3        *s3.Client
	sqs       *sqs.Client
}

func newSideEffects(t *testing.T) *sideEffects {
	t.Helper()
	clean := testkit.Config(t, testkit.Kinesis, testkit.Moto)
	e := &sideEffects{cfg: clean.Copy(), calls: &testkit.Calls{}, s3: awsenv.S3(clean), sqs: sqs.NewFromConfig(clean)}
	e.cfg.APIOptions = append(e.cfg.APIOptions, e.calls.Add)
	ctx := context.Background()
	k := kinesis.NewFromConfig(clean)
	e.streamARN = testkit.Stream(t, k, 1)
	out, err := k.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: &e.streamARN, Records: []ktypes.PutRecordsRequestEntry{
		{Data: []byte(`{"secret":"hostile-1"}`), PartitionKey: aws.String("k")}, {Data: []byte(`{"secret":"hostile-2"}`), PartitionKey: aws.String("k")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Records {
		e.shard = aws.ToString(r.ShardId)
		e.seqs = append(e.seqs, aws.ToString(r.SequenceNumber))
	}
	e.bucket = testkit.Bucket(t, e.s3, "b")
	e.dlqURL = testkit.Queue(t, e.sqs, "dlq", nil)
	return e
}

// handler is the hydrate handler allowed to read only the test's stream.
func (e *sideEffects) handler() *hydrate.Handler {
	c := hydrate.Config{ArchiveBucket: e.bucket, ArchivePrefix: "failures", DLQURL: e.dlqURL}
	c.Allowed, _ = hydrate.ParseAllowlist(e.streamARN)
	return hydrate.NewFromConfig(e.cfg, c, false)
}

// record is a valid on-failure record for the stream's two records, as a JSON map a
// case can spoil.
func (e *sideEffects) record(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	raw := onfailure.Record(onfailure.Batch{Source: "kinesis", StreamARN: e.streamARN, ShardID: e.shard, Start: e.seqs[0], End: e.seqs[1], BatchSize: 2})
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkNone fails unless nothing was read from a stream, written to S3, sent to SQS
// or put on a bus, and the bucket and the DLQ are empty.
func (e *sideEffects) checkNone(t *testing.T) {
	t.Helper()
	for _, op := range []string{"GetShardIterator", "GetRecords", "PutObject", "SendMessage", "PutEvents", "PutRecords"} {
		if n := e.calls.Count(op); n != 0 {
			t.Errorf("got %d %s calls, want 0", n, op)
		}
	}
	ctx := context.Background()
	objs, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &e.bucket})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(objs.Contents); n != 0 {
		t.Errorf("got %d objects in the archive, want 0", n)
	}
	attrs, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &e.dlqURL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	if n := attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)]; n != "0" {
		t.Errorf("got %s messages on the DLQ, want 0", n)
	}
}

// awsenvS3 is an S3 client that counts its calls.
func awsenvS3(e *sideEffects) *s3.Client { return awsenv.S3(e.cfg) }
