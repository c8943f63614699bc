package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// fakeS3 stands in for *s3.Client at the SDK edge; unset functions fail the call.
type fakeS3 struct {
	putObject  func(*s3.PutObjectInput) (*s3.PutObjectOutput, error)
	headObject func(*s3.HeadObjectInput) (*s3.HeadObjectOutput, error)
	getObject  func(*s3.GetObjectInput) (*s3.GetObjectOutput, error)
}

var errUnexpected = errors.New("unexpected call")

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if f.putObject == nil {
		return nil, errUnexpected
	}
	return f.putObject(in)
}

func (f *fakeS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	if f.headObject == nil {
		return nil, errUnexpected
	}
	return f.headObject(in)
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if f.getObject == nil {
		return nil, errUnexpected
	}
	return f.getObject(in)
}

func (f *fakeS3) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return nil, errUnexpected
}

// statusError is a failed AWS call as the SDK reports it, with its HTTP status.
func statusError(code int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}},
		Err:      errors.New(http.StatusText(code)),
	}}
}

func TestPutConditionalCreate(t *testing.T) {
	doc := kinesisDoc(3, 20)
	same := objectMetadata(doc)
	other := objectMetadata(dynamoDBDoc(1))
	cases := map[string]struct {
		puts     []error // PutObject answers, in order
		existing map[string]string
		created  bool
		conflict bool
		fails    bool
	}{
		"created":                       {puts: []error{nil}, created: true},
		"duplicate delivery":            {puts: []error{statusError(412)}, existing: same},
		"different failure":             {puts: []error{statusError(412)}, existing: other, conflict: true},
		"foreign object":                {puts: []error{statusError(412)}, existing: map[string]string{}, conflict: true},
		"concurrent write then created": {puts: []error{statusError(409), nil}, created: true},
		"concurrent write then exists":  {puts: []error{statusError(409), statusError(409), statusError(412)}, existing: same},
		"other error":                   {puts: []error{statusError(403)}, fails: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			calls := 0
			fake := &fakeS3{
				putObject: func(in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
					if aws.ToString(in.IfNoneMatch) != "*" {
						t.Errorf("got IfNoneMatch %q, want *", aws.ToString(in.IfNoneMatch))
					}
					calls++
					return &s3.PutObjectOutput{}, c.puts[calls-1]
				},
				headObject: func(*s3.HeadObjectInput) (*s3.HeadObjectOutput, error) {
					return &s3.HeadObjectOutput{Metadata: c.existing, ContentLength: aws.Int64(42)}, nil
				},
			}
			loc, err := New(fake, func(o *Options) { o.Bucket = "b" }).Put(context.Background(), doc)
			var ce *ConflictError
			switch {
			case c.conflict != errors.As(err, &ce):
				t.Fatalf("got %v, want conflict %v", err, c.conflict)
			case c.fails != (err != nil && !c.conflict):
				t.Fatalf("got %v, want failure %v", err, c.fails)
			case loc.Created != c.created:
				t.Errorf("got Created %v, want %v", loc.Created, c.created)
			case calls != len(c.puts):
				t.Errorf("got %d PutObject calls, want %d", calls, len(c.puts))
			}
		})
	}
}

func TestPutRequest(t *testing.T) {
	doc := kinesisDoc(3, 20)
	cases := map[string]struct {
		kms     string
		wantSSE string
	}{
		"sse-s3":  {"", "AES256"},
		"sse-kms": {"alias/streamdlq", "aws:kms"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var got *s3.PutObjectInput
			var body []byte
			fake := &fakeS3{putObject: func(in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
				got = in
				body, _ = io.ReadAll(in.Body)
				return &s3.PutObjectOutput{}, nil
			}}
			a := New(fake, func(o *Options) { o.Bucket, o.Prefix, o.KMSKeyID = "b", "p/", c.kms })
			loc, err := a.Put(context.Background(), doc)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.ServerSideEncryption) != c.wantSSE || aws.ToString(got.SSEKMSKeyId) != c.kms {
				t.Errorf("got SSE %v %v, want %v %v", got.ServerSideEncryption, aws.ToString(got.SSEKMSKeyId), c.wantSSE, c.kms)
			}
			if aws.ToString(got.ContentEncoding) != "gzip" || aws.ToString(got.ContentType) != ContentTypeObject {
				t.Errorf("got %v %v, want gzip %v", aws.ToString(got.ContentEncoding), aws.ToString(got.ContentType), ContentTypeObject)
			}
			if loc.Key != Key(doc.Hydration, "p") || loc.Size != int64(len(body)) || aws.ToInt64(got.ContentLength) != loc.Size {
				t.Errorf("got %+v (content length %d), want key %v size %d", loc, aws.ToInt64(got.ContentLength), Key(doc.Hydration, "p"), len(body))
			}
			back, err := decodeDocument(bytes.NewReader(body), "body")
			if err != nil {
				t.Fatal(err)
			}
			sameDocument(t, back, doc)
		})
	}
}

func TestMetadataIdentity(t *testing.T) {
	doc := kinesisDoc(3, 20)
	rehydrated := kinesisDoc(3, 20)
	rehydrated.Records = rehydrated.Records[:1]
	rehydrated.Hydration.Status, rehydrated.Hydration.Fetched = StatusPartial, 1
	respaced := kinesisDoc(3, 20)
	respaced.Failure = append([]byte("  \n"), respaced.Failure...)
	redelivered := kinesisDoc(3, 20)
	redelivered.Failure = testFailure("another-request", "kinesis", testKinesisARN, 3)
	cases := map[string]struct {
		doc  *Document
		same bool
	}{
		"same failure hydrated again": {rehydrated, true},
		"same failure other spacing":  {respaced, true},
		"other request":               {redelivered, false},
		"other stream":                {dynamoDBDoc(3), false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			differs := metadataDiffers(objectMetadata(doc), objectMetadata(c.doc))
			if got := len(differs) == 0; got != c.same {
				t.Errorf("got same %v (%v), want %v", got, differs, c.same)
			}
		})
	}
}

func TestHeaderSafe(t *testing.T) {
	for in, want := range map[string]string{
		"RetryAttemptsExhausted": "RetryAttemptsExhausted",
		"a\nb\x00é":              "a?b???",
		"":                       "",
	} {
		if got := headerSafe(in); got != want {
			t.Errorf("headerSafe(%q): got %q, want %q", in, got, want)
		}
	}
}
