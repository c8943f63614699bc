package archive

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// localAWS is the moto-backed S3 and SQS of `make test`.
type localAWS struct {
	s3  *s3.Client
	sqs *sqs.Client
}

func newLocalAWS(t *testing.T) localAWS {
	cfg := testkit.Config(t, testkit.Moto)
	return localAWS{
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		sqs: sqs.NewFromConfig(cfg),
	}
}

func (l localAWS) bucket(t *testing.T) string {
	return testkit.Bucket(t, l.s3, "arch")
}

func (l localAWS) queue(t *testing.T, maxSize string) string {
	var attrs map[string]string
	if maxSize != "" {
		attrs = map[string]string{"MaximumMessageSize": maxSize}
	}
	return testkit.Queue(t, l.sqs, "dlq", attrs)
}

func (l localAWS) receive(t *testing.T, url string) sqstypes.Message {
	t.Helper()
	out, err := l.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: &url, MessageAttributeNames: []string{"All"}, MaxNumberOfMessages: 1, WaitTimeSeconds: 1,
	})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: got %d messages, %v; want 1", len(out.Messages), err)
	}
	return out.Messages[0]
}

func TestIntegrationPutGet(t *testing.T) {
	l := newLocalAWS(t)
	ctx := context.Background()
	a := New(l.s3, func(o *Options) { o.Bucket, o.Prefix = l.bucket(t), "streamdlq/archive" })
	for name, doc := range map[string]*Document{"kinesis": kinesisDoc(300, 400), "dynamodb": dynamoDBDoc(50)} {
		t.Run(name, func(t *testing.T) {
			loc, err := a.Put(ctx, doc)
			if err != nil || !loc.Created || loc.Key != Key(doc.Hydration, "streamdlq/archive") {
				t.Fatalf("got %+v, %v; want created at %s", loc, err, Key(doc.Hydration, "streamdlq/archive"))
			}
			got, err := a.Get(ctx, loc.Key)
			if err != nil {
				t.Fatal(err)
			}
			sameDocument(t, got, doc)
			raw, err := l.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &loc.Bucket, Key: &loc.Key})
			if err != nil {
				t.Fatal(err)
			}
			obj, _ := io.ReadAll(raw.Body)
			raw.Body.Close()
			if lines := objectLines(t, obj); len(lines) != len(doc.Records)+1 || int64(len(obj)) != loc.Size {
				t.Errorf("got %d lines in %d bytes, want %d in %d", len(lines), len(obj), len(doc.Records)+1, loc.Size)
			}
		})
	}
}

func TestIntegrationDuplicateAndConflict(t *testing.T) {
	l := newLocalAWS(t)
	ctx := context.Background()
	bucket := l.bucket(t)
	a := New(l.s3, func(o *Options) { o.Bucket = bucket })
	doc := kinesisDoc(10, 100)
	first, err := a.Put(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	again := kinesisDoc(10, 100)
	again.Hydration.HydratedAt = time.Now() // hydrated again: same failure
	dup, err := a.Put(ctx, again)
	if err != nil || dup.Created || dup.Key != first.Key || dup.Size != first.Size {
		t.Errorf("duplicate: got %+v, %v; want %+v not created", dup, err, first)
	}
	other := kinesisDoc(10, 100)
	other.Failure = testFailure("a-different-invocation", "kinesis", testKinesisARN, 10)
	_, err = a.Put(ctx, other)
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Key != first.Key {
		t.Errorf("conflict: got %v, want a *ConflictError for %s", err, first.Key)
	}
	n := 0
	for _, err := range a.List(ctx, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("got %d objects, want 1", n)
	}
}

func TestIntegrationEncryptionAndMetadata(t *testing.T) {
	l := newLocalAWS(t)
	ctx := context.Background()
	bucket := l.bucket(t)
	cases := map[string]struct{ kms, wantSSE string }{
		"sse-s3":  {"", "AES256"},
		"sse-kms": {"alias/streamdlq-archive", "aws:kms"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a := New(l.s3, func(o *Options) { o.Bucket, o.Prefix, o.KMSKeyID = bucket, name, c.kms })
			doc := kinesisDoc(4, 50)
			doc.Hydration.Status, doc.Hydration.Gaps = StatusPartial, []batch.Gap{{From: seq(4), To: seq(6), Reason: batch.GapTrimmed}}
			loc, err := a.Put(ctx, doc)
			if err != nil {
				t.Fatal(err)
			}
			head, err := l.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &loc.Bucket, Key: &loc.Key})
			if err != nil {
				t.Fatal(err)
			}
			if string(head.ServerSideEncryption) != c.wantSSE || aws.ToString(head.SSEKMSKeyId) != c.kms {
				t.Errorf("got SSE %v %v, want %v %v", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId), c.wantSSE, c.kms)
			}
			if aws.ToString(head.ContentEncoding) != "gzip" || aws.ToString(head.ContentType) != ContentTypeObject {
				t.Errorf("got %v %v, want gzip %v", aws.ToString(head.ContentEncoding), aws.ToString(head.ContentType), ContentTypeObject)
			}
			want := map[string]string{MetaRecords: "4", MetaGaps: "1", MetaStatus: StatusPartial, MetaSource: "kinesis",
				MetaStreamARN: testKinesisARN, MetaShardID: doc.Hydration.ShardID, MetaStart: testStart, MetaEnd: seq(4),
				MetaRequestID: "c9b8fa9f-5a7f-4e8c-8bb0-2f9c5e4f0e21", MetaBatchSize: "4", MetaCondition: "RetryAttemptsExhausted"}
			for k, v := range want {
				if head.Metadata[k] != v {
					t.Errorf("metadata %s: got %q, want %q", k, head.Metadata[k], v)
				}
			}
		})
	}
}

func TestIntegrationList(t *testing.T) {
	l := newLocalAWS(t)
	ctx := context.Background()
	a := New(l.s3, func(o *Options) { o.Bucket, o.Prefix = l.bucket(t), "arch" })
	day := func(d int) time.Time { return time.Date(2024, 2, 27+d, 12, 0, 0, 0, time.UTC) } // crosses a month end
	put := func(doc *Document, arrival time.Time, shard, stream string) {
		doc.Hydration.FirstArrival, doc.Hydration.ShardID = arrival, shard
		if stream != "" {
			doc.Hydration.StreamARN = "arn:aws:kinesis:us-east-2:123456789012:stream/" + stream
		}
		if _, err := a.Put(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	for d := range 4 {
		put(kinesisDoc(2, 10), day(d), "shardId-000000000001", "")
		put(kinesisDoc(2, 10), day(d), "shardId-000000000002", "")
	}
	put(kinesisDoc(2, 10), day(1), "shardId-000000000001", "other")
	put(dynamoDBDoc(2), day(1), "shardId-00000001573689847184-864758bb", "")
	if _, err := l.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(a.Bucket()), Key: aws.String("arch/readme.txt"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		f    Filter
		want int
	}{
		"everything":            {Filter{}, 10},
		"source":                {Filter{Source: "kinesis"}, 9},
		"stream":                {Filter{Source: "kinesis", Stream: "mystream"}, 8},
		"stream without source": {Filter{Stream: "mystream"}, 8},
		"shard":                 {Filter{Source: "kinesis", Stream: "mystream", Shard: "shardId-000000000002"}, 4},
		"one day":               {Filter{Source: "kinesis", Stream: "mystream", Since: day(1), Until: day(1)}, 2},
		"one day and shard":     {Filter{Source: "kinesis", Stream: "mystream", Shard: "shardId-000000000001", Since: day(2), Until: day(2)}, 1},
		"range over month end":  {Filter{Source: "kinesis", Stream: "mystream", Since: day(1), Until: day(2)}, 4},
		"since":                 {Filter{Source: "kinesis", Stream: "mystream", Since: day(3)}, 2},
		"until":                 {Filter{Source: "kinesis", Stream: "mystream", Until: day(0)}, 2},
		"dates across streams":  {Filter{Since: day(1), Until: day(1)}, 4},
		"dynamodb table":        {Filter{Source: "dynamodb", Stream: "mytable"}, 1},
		"nothing":               {Filter{Source: "kinesis", Stream: "absent"}, 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			n := 0
			for o, err := range a.List(ctx, c.f) {
				if err != nil {
					t.Fatal(err)
				}
				if !c.f.matches(o.KeyInfo) || o.Size == 0 {
					t.Errorf("listed %s (%d bytes), which %+v does not match", o.Key, o.Size, c.f)
				}
				n++
			}
			if n != c.want {
				t.Errorf("got %d objects, want %d", n, c.want)
			}
		})
	}
}

// TestIntegrationReplace: an incomplete capture is overwritten only by a writer that
// read its current version (S3 If-Match on the ETag); a stale ETag, or an object gone,
// is ErrModified and nothing is written.
func TestIntegrationReplace(t *testing.T) {
	l := newLocalAWS(t)
	ctx := context.Background()
	bucket := l.bucket(t)
	a := New(l.s3, func(o *Options) { o.Bucket = bucket })
	partial := kinesisDoc(10, 100)
	partial.Records, partial.Hydration.Fetched, partial.Hydration.Status = partial.Records[:4], 4, StatusIncomplete
	partial.Hydration.Gaps = []batch.Gap{{From: seq(4), To: seq(9), Reason: batch.GapUnreadable, Detail: "deadline"}}
	loc, err := a.Put(ctx, partial)
	if err != nil || !loc.Created || loc.Status != StatusIncomplete {
		t.Fatalf("put partial: got %+v, %v", loc, err)
	}
	again, err := a.Put(ctx, partial)
	if err != nil || again.Created || again.Status != StatusIncomplete {
		t.Fatalf("put again: got %+v, %v; want existing, status %s", again, err, StatusIncomplete)
	}
	got, etag, err := a.GetForUpdate(ctx, loc.Key)
	if err != nil || etag == "" {
		t.Fatalf("get for update: %v, etag %q", err, etag)
	}
	sameDocument(t, got, partial)
	full := kinesisDoc(10, 100)
	if loc, err = a.Replace(ctx, full, etag); err != nil || !loc.Replaced || loc.Status != StatusComplete {
		t.Fatalf("replace: got %+v, %v", loc, err)
	}
	if _, err := a.Replace(ctx, partial, etag); !errors.Is(err, ErrModified) {
		t.Errorf("replace with a stale etag: got %v, want ErrModified", err)
	}
	kept, err := a.Get(ctx, loc.Key)
	if err != nil {
		t.Fatal(err)
	}
	sameDocument(t, kept, full)
	gone := kinesisDoc(3, 100)
	gone.Hydration.Start = seq(1000)
	if _, err := a.Replace(ctx, gone, etag); !errors.Is(err, ErrModified) {
		t.Errorf("replace of a missing object: got %v, want ErrModified", err)
	}
}
