package archive

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestIntegrationMultipart writes a spooled document larger than a part to moto with
// a multipart upload, reads it back, and shows moto's answer to If-None-Match on
// CompleteMultipartUpload: a repeated delivery is found, a different failure refused,
// and neither leaves an upload behind. (moto does not check If-Match on
// CompleteMultipartUpload; TestMultipartConditions shows that side with a fake.)
func TestIntegrationMultipart(t *testing.T) {
	l := newLocalAWS(t)
	ctx := context.Background()
	bucket := l.bucket(t)
	a := New(l.s3, func(o *Options) { o.Bucket, o.PartSize = bucket, MinPartSize })
	doc := spooled(t, largeDoc(), t.TempDir(), 3000)
	defer doc.Close()
	loc, err := a.Put(ctx, doc)
	if err != nil || !loc.Created || loc.Size <= MinPartSize {
		t.Fatalf("got %+v, %v; want created, larger than a part", loc, err)
	}
	head, err := l.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &loc.Key})
	if err != nil || aws.ToInt64(head.ContentLength) != loc.Size || head.Metadata[MetaRecords] != "7000" {
		t.Fatalf("head: got %v bytes, metadata %v, %v; want %d bytes, 7000 records", aws.ToInt64(head.ContentLength), head.Metadata, err, loc.Size)
	}
	got, err := a.Get(ctx, loc.Key)
	if err != nil {
		t.Fatal(err)
	}
	sameDocument(t, got, largeDoc())

	dup, err := a.Put(ctx, spooled(t, largeDoc(), t.TempDir(), 3000))
	if err != nil || dup.Created || dup.Key != loc.Key {
		t.Errorf("duplicate: got %+v, %v; want not created at %s", dup, err, loc.Key)
	}
	other := spooled(t, largeDoc(), t.TempDir(), 3000)
	other.Failure = testFailure("a-different-invocation", "kinesis", testKinesisARN, 7000)
	var ce *ConflictError
	if _, err := a.Put(ctx, other); !errors.As(err, &ce) {
		t.Errorf("different failure: got %v, want a *ConflictError", err)
	}
	ups, err := l.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("got %d multipart uploads left, %v; want none (aborted)", len(ups.Uploads), err)
	}

	// Replace (the supersede of an incomplete capture) on the ETag just read.
	_, etag, err := a.GetForUpdate(ctx, loc.Key)
	if err != nil {
		t.Fatal(err)
	}
	next := spooled(t, largeDoc(), t.TempDir(), 3000)
	next.Hydration.Calls = 99
	if r, err := a.Replace(ctx, next, etag); err != nil || !r.Replaced {
		t.Fatalf("replace: got %+v, %v", r, err)
	}
	obj, err := l.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &loc.Key})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	doc2, err := decodeDocument(obj.Body, "replaced")
	_, _ = io.Copy(io.Discard, obj.Body)
	if err != nil || doc2.Hydration.Calls != 99 {
		t.Errorf("after replace: got calls %v, %v; want 99", doc2.Hydration.Calls, err)
	}
}
