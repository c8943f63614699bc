package archive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// Object content types.
const (
	ContentTypeObject = "application/x-ndjson"
	ContentTypeBody   = "application/json"
)

type writeAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

type getObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3API is what an Archive needs from S3; *s3.Client has it.
type S3API interface {
	writeAPI
	getObjectAPI
	s3.ListObjectsV2APIClient
}

var _ S3API = (*s3.Client)(nil)

// Options configure an Archive.
type Options struct {
	Bucket string
	// Prefix is prepended to every key ("" for none); slashes around it are ignored.
	Prefix string
	// KMSKeyID selects SSE-KMS with that key (ID, ARN or alias); empty means SSE-S3.
	KMSKeyID string
	// PartSize: an archive object larger than this is written with a multipart
	// upload in parts of this size, one up to it with a single PutObject. 0 means
	// DefaultPartSize; less than MinPartSize (S3's minimum) means MinPartSize.
	PartSize int64
}

// Archive writes and reads hydrated failures in one S3 bucket.
type Archive struct {
	s3   S3API
	mp   uploadAPI // nil when the client has no multipart upload
	opts Options
	gz   *gzipper
}

// New returns an Archive over the bucket in the options.
func New(client S3API, optFns ...func(*Options)) *Archive {
	a := &Archive{s3: client, gz: defaultGzip}
	for _, fn := range optFns {
		fn(&a.opts)
	}
	a.opts.Prefix = cleanPrefix(a.opts.Prefix)
	if a.opts.PartSize == 0 {
		a.opts.PartSize = DefaultPartSize
	}
	a.opts.PartSize = max(a.opts.PartSize, MinPartSize)
	a.mp, _ = client.(uploadAPI)
	return a
}

// Bucket is the archive bucket.
func (a *Archive) Bucket() string { return a.opts.Bucket }

// Prefix is the archive prefix, without surrounding slashes.
func (a *Archive) Prefix() string { return a.opts.Prefix }

// Location is where a hydrated failure was archived.
type Location struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size"` // bytes of the (compressed) object
	// Created is false when the object already existed with the same failure: a
	// duplicate delivery, which is not written again, or a superseded incomplete
	// capture (Replaced).
	Created bool `json:"created"`
	// Replaced is true when an incomplete capture at the key was overwritten by
	// Replace.
	Replaced bool `json:"replaced,omitempty"`
	// Status is the hydration status of the object now at the key: doc's when written,
	// the existing object's (from its metadata) when not.
	Status string `json:"status,omitempty"`
}

// ErrModified reports that a Replace found the object changed (or gone) since its
// ETag was read: another attempt superseded it first. Read it again and merge.
var ErrModified = errors.New("archive object changed since it was read")

// conflictRetries bounds the retries of a 409 ConditionalRequestConflict, which S3
// returns while another conditional write of the same key is in flight.
const conflictRetries = 4

// conflictBackoff spreads out writers of the same key: full jitter from 50ms.
var conflictBackoff = clock.Backoff{}.Defaults(50*time.Millisecond, time.Second)

// Put archives doc with a conditional create (If-None-Match: *, on the PutObject or
// on the CompleteMultipartUpload of a large object). An object that already exists with the
// same failure is left as it is (Created false, nil error); one with a different
// failure is a *ConflictError.
func (a *Archive) Put(ctx context.Context, doc *Document) (Location, error) {
	key := Key(doc.Hydration, a.opts.Prefix)
	body, err := a.objectBody(doc)
	if err != nil {
		return Location{}, fmt.Errorf("encode s3://%s/%s: %w", a.opts.Bucket, key, err)
	}
	in := &s3.PutObjectInput{
		Bucket: &a.opts.Bucket, Key: &key, IfNoneMatch: aws.String("*"),
		ContentType: aws.String(ContentTypeObject), ContentEncoding: aws.String("gzip"),
		ContentLength: aws.Int64(body.size), Metadata: objectMetadata(doc),
	}
	a.encryption(in)
	err = a.upload(ctx, in, body)
	switch status := httpStatus(err); {
	case err == nil:
		return Location{Bucket: a.opts.Bucket, Key: key, Size: body.size, Created: true, Status: doc.Hydration.Status}, nil
	case status == http.StatusPreconditionFailed:
		return a.existing(ctx, key, in.Metadata)
	}
	return Location{}, fmt.Errorf("put s3://%s/%s: %w", a.opts.Bucket, key, err)
}

// Replace overwrites the incomplete capture at doc's key with doc, only if the object
// still has etag (S3's conditional write If-Match): an attempt that read more
// supersedes the one before, and two attempts merging at once cannot undo each
// other. It returns ErrModified when the object changed or vanished since etag was
// read. Callers never replace a complete capture. A large object is written with a
// multipart upload whose CompleteMultipartUpload carries the If-Match.
func (a *Archive) Replace(ctx context.Context, doc *Document, etag string) (Location, error) {
	key := Key(doc.Hydration, a.opts.Prefix)
	body, err := a.objectBody(doc)
	if err != nil {
		return Location{}, fmt.Errorf("encode s3://%s/%s: %w", a.opts.Bucket, key, err)
	}
	in := &s3.PutObjectInput{
		Bucket: &a.opts.Bucket, Key: &key, IfMatch: aws.String(etag),
		ContentType: aws.String(ContentTypeObject), ContentEncoding: aws.String("gzip"),
		ContentLength: aws.Int64(body.size), Metadata: objectMetadata(doc),
	}
	a.encryption(in)
	err = a.upload(ctx, in, body)
	var noKey *types.NoSuchKey
	switch status := httpStatus(err); {
	case err == nil:
		return Location{Bucket: a.opts.Bucket, Key: key, Size: body.size, Replaced: true, Status: doc.Hydration.Status}, nil
	case status == http.StatusPreconditionFailed || status == http.StatusNotFound || errors.As(err, &noKey):
		return Location{}, fmt.Errorf("replace s3://%s/%s: %w", a.opts.Bucket, key, ErrModified)
	}
	return Location{}, fmt.Errorf("replace s3://%s/%s: %w", a.opts.Bucket, key, err)
}

func (a *Archive) encryption(in *s3.PutObjectInput) {
	if a.opts.KMSKeyID != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String(a.opts.KMSKeyID)
		return
	}
	in.ServerSideEncryption = types.ServerSideEncryptionAes256
}

// existing decides between a duplicate delivery and a conflict by the metadata of
// the object that won the conditional create.
func (a *Archive) existing(ctx context.Context, key string, want map[string]string) (Location, error) {
	head, err := a.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &a.opts.Bucket, Key: &key})
	if err != nil {
		return Location{}, fmt.Errorf("head existing s3://%s/%s: %w", a.opts.Bucket, key, err)
	}
	if differs := metadataDiffers(head.Metadata, want); len(differs) > 0 {
		return Location{}, &ConflictError{Bucket: a.opts.Bucket, Key: key, Differs: differs}
	}
	return Location{Bucket: a.opts.Bucket, Key: key, Size: aws.ToInt64(head.ContentLength), Status: head.Metadata[MetaStatus]}, nil
}

// putBody writes a DLQ claim-check body: doc's JSON, produced again on each read so
// the whole text is never held. An existing object is kept (a repeated send of the
// same failure); its content is the same failure.
func (a *Archive) putBody(ctx context.Context, key string, doc *Document, size int) error {
	in := &s3.PutObjectInput{
		Bucket: &a.opts.Bucket, Key: &key, IfNoneMatch: aws.String("*"),
		Body: newDocReader(doc, size), ContentLength: aws.Int64(int64(size)),
		ContentType: aws.String(ContentTypeBody),
	}
	a.encryption(in)
	_, err := a.s3.PutObject(ctx, in)
	if err != nil && httpStatus(err) != http.StatusPreconditionFailed {
		return fmt.Errorf("put claim check s3://%s/%s: %w", a.opts.Bucket, key, err)
	}
	return nil
}

// httpStatus is the HTTP status of a failed AWS call, 0 when there was no response.
// S3 answers a failed If-None-Match with 412 PreconditionFailed and a concurrent
// conditional write with 409 ConditionalRequestConflict; neither is a modelled type.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
