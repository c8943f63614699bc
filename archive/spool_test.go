package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// spooled returns a document like doc whose records went to a spool file in dir,
// added in pages of page records.
func spooled(t testing.TB, doc *Document, dir string, page int) *Document {
	t.Helper()
	out := &Document{Failure: doc.Failure, Hydration: doc.Hydration}
	out.SpoolAbove(page/2, dir)
	for from := 0; from < len(doc.Records); from += page {
		if err := out.Add(doc.Records[from:min(from+page, len(doc.Records))]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// objectOf is the archive object New(nil) would write for doc.
func objectOf(t testing.TB, doc *Document) []byte {
	t.Helper()
	body, err := New(nil).objectBody(doc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(body.section(0, body.size))
	if err != nil || int64(len(b)) != body.size {
		t.Fatalf("read %d of %d bytes: %v", len(b), body.size, err)
	}
	return b
}

func TestSpooledDocumentEncodesAsHeld(t *testing.T) {
	for name, doc := range map[string]*Document{"kinesis with kpl": kinesisDoc(50, 300), "dynamodb": dynamoDBDoc(20)} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			sp := spooled(t, doc, dir, 9)
			if !sp.Spooled() || len(sp.Records) != 0 {
				t.Fatalf("got spooled %v with %d records held, want spooled with none", sp.Spooled(), len(sp.Records))
			}
			if sp.Len() != doc.Len() || sp.Parents() != doc.Parents() {
				t.Errorf("got Len %d Parents %d, want %d %d", sp.Len(), sp.Parents(), doc.Len(), doc.Parents())
			}
			// The DLQ body: the same bytes, its size known without reading the spool.
			want := mustJSON(t, doc)
			var got strings.Builder
			if err := encodeTo(&got, sp, false); err != nil || got.String() != want {
				t.Errorf("body: got %.80s…, %v; want %.80s…", got.String(), err, want)
			}
			if n, err := encodedSize(sp, false); err != nil || n != len(want) {
				t.Errorf("encodedSize: got %d, %v, want %d", n, err, len(want))
			}
			r := newDocReader(sp, len(want))
			for range 2 { // read, rewind, read again: as the SDK does to hash and send
				b, err := io.ReadAll(r)
				if err != nil || string(b) != want {
					t.Fatalf("docReader: got %d bytes, %v; want %d", len(b), err, len(want))
				}
				if _, err := r.Seek(0, io.SeekStart); err != nil {
					t.Fatal(err)
				}
			}
			// The archive object: two gzip members that read as the held document's.
			obj := objectOf(t, sp)
			dec, err := decodeDocument(bytes.NewReader(obj), "test")
			if err != nil {
				t.Fatal(err)
			}
			sameDocument(t, dec, doc)
			if g, w := objectLines(t, obj), objectLines(t, objectOf(t, doc)); strings.Join(g, "\n") != strings.Join(w, "\n") {
				t.Errorf("object lines differ from the held document's")
			}
			// Load brings the records back and removes the file.
			if err := sp.Load(); err != nil {
				t.Fatal(err)
			}
			sameDocument(t, sp, doc)
			if entries, _ := os.ReadDir(dir); sp.Spooled() || len(entries) != 0 {
				t.Errorf("after Load: spooled %v, %d files left", sp.Spooled(), len(entries))
			}
		})
	}
}

func TestSpoolStaysInMemoryUpToItsThreshold(t *testing.T) {
	dir := t.TempDir()
	doc := kinesisDoc(10, 50)
	sp := &Document{Failure: doc.Failure, Hydration: doc.Hydration}
	sp.SpoolAbove(10, dir)
	if err := sp.Add(doc.Records); err != nil || sp.Spooled() {
		t.Fatalf("10 records: got spooled %v, %v; want held", sp.Spooled(), err)
	}
	if err := sp.Add(kinesisDoc(11, 50).Records[10:]); err != nil || !sp.Spooled() || sp.Len() != 11 {
		t.Fatalf("11 records: got spooled %v, Len %d, %v; want spooled, 11", sp.Spooled(), sp.Len(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("got %d spool files, want 1", len(entries))
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("after Close: got %d files, want none", len(entries))
	}
}

// largeDoc is a spooled Kinesis document whose archive object is larger than
// MinPartSize: random payloads do not compress.
var largeDoc = sync.OnceValue(func() *Document {
	doc := kinesisDoc(0, 0)
	for i := range 7000 {
		data := make([]byte, 1000)
		_, _ = rand.Read(data)
		doc.Records = append(doc.Records, kinesisRecord(i, data))
	}
	doc.Hydration = testHydration("kinesis", testKinesisARN, len(doc.Records))
	doc.Failure = testFailure("c9b8fa9f-5a7f-4e8c-8bb0-2f9c5e4f0e21", "kinesis", testKinesisARN, len(doc.Records))
	return doc
})

// fakeMultipart adds multipart upload to fakeS3; unset functions fail the call.
type fakeMultipart struct {
	fakeS3
	uploads  []*s3.UploadPartInput
	sizes    []int64
	complete func(*s3.CompleteMultipartUploadInput) error
	partErr  error
	aborted  int
}

func (f *fakeMultipart) CreateMultipartUpload(_ context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("u1")}, nil
}

func (f *fakeMultipart) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if f.partErr != nil && len(f.uploads) == 1 {
		return nil, f.partErr
	}
	n, err := io.Copy(io.Discard, in.Body)
	if err != nil {
		return nil, err
	}
	f.uploads, f.sizes = append(f.uploads, in), append(f.sizes, n)
	return &s3.UploadPartOutput{ETag: aws.String("etag")}, nil
}

func (f *fakeMultipart) CompleteMultipartUpload(_ context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	if f.complete == nil {
		return nil, errUnexpected
	}
	return &s3.CompleteMultipartUploadOutput{}, f.complete(in)
}

func (f *fakeMultipart) AbortMultipartUpload(_ context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.aborted++
	return &s3.AbortMultipartUploadOutput{}, nil
}

// TestMultipartConditions shows the conditions on CompleteMultipartUpload that moto
// does not check (If-Match) or that need a failure to be injected: the request
// carries them, S3's 412 answer means what it means for a PutObject, and every
// failure aborts the upload.
func TestMultipartConditions(t *testing.T) {
	doc := spooled(t, largeDoc(), t.TempDir(), 3000)
	defer doc.Close()
	stale := errors.New("stale")
	errPart := statusError(500)
	cases := map[string]struct {
		replace  bool
		complete error
		partErr  error
		want     error // nil: success
	}{
		"create":                      {},
		"create of an existing key":   {complete: statusError(412), want: stale},
		"replace":                     {replace: true},
		"replace of a changed object": {replace: true, complete: statusError(412), want: ErrModified},
		"replace of a removed object": {replace: true, complete: statusError(404), want: ErrModified},
		"part fails":                  {partErr: errPart, want: errPart},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var got *s3.CompleteMultipartUploadInput
			fake := &fakeMultipart{partErr: c.partErr, complete: func(in *s3.CompleteMultipartUploadInput) error { got = in; return c.complete }}
			fake.headObject = func(*s3.HeadObjectInput) (*s3.HeadObjectOutput, error) { return nil, stale }
			a := New(fake, func(o *Options) { o.Bucket, o.PartSize = "b", MinPartSize })
			var err error
			if c.replace {
				_, err = a.Replace(context.Background(), doc, `"e1"`)
			} else {
				_, err = a.Put(context.Background(), doc)
			}
			switch {
			case c.want == nil && err != nil, c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("got %v, want %v", err, c.want)
			case (err != nil) != (fake.aborted == 1):
				t.Errorf("got %d aborts after %v, want one exactly when it fails", fake.aborted, err)
			}
			if got == nil {
				return
			}
			if ifMatch, ifNone := aws.ToString(got.IfMatch), aws.ToString(got.IfNoneMatch); (c.replace && (ifMatch != `"e1"` || ifNone != "")) || (!c.replace && (ifNone != "*" || ifMatch != "")) {
				t.Errorf("got If-Match %q If-None-Match %q", ifMatch, ifNone)
			}
			for i, n := range fake.sizes[:len(fake.sizes)-1] {
				if n != MinPartSize {
					t.Errorf("part %d: got %d bytes, want %d", i+1, n, MinPartSize)
				}
			}
			if len(fake.sizes) < 2 || len(got.MultipartUpload.Parts) != len(fake.sizes) {
				t.Errorf("got %d parts uploaded, %d completed; want the same, at least 2", len(fake.sizes), len(got.MultipartUpload.Parts))
			}
		})
	}
}

func TestDecodeIntoSpool(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	doc := kinesisDoc(1200, 100)
	obj := objectOf(t, doc)
	got, err := decodeDocumentSpooled(bytes.NewReader(obj), "test", 1000)
	if err != nil || !got.Spooled() || got.Len() != 1200 {
		t.Fatalf("got spooled %v, %d records, %v; want spooled, 1200", got != nil && got.Spooled(), got.Len(), err)
	}
	if err := got.Load(); err != nil {
		t.Fatal(err)
	}
	sameDocument(t, got, doc)
	// A truncated object is refused, and its spool removed.
	_, err = decodeDocumentSpooled(bytes.NewReader(objectOf(t, kinesisDoc(1200, 100))[:len(obj)*3/4]), "test", 10)
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Errorf("truncated: got %v, want a *FormatError", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("got %d files left, want none", len(entries))
	}
}
