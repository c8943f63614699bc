package testkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// MemS3 is an in-memory S3 bucket space with what the archive and the hydrator call
// (PutObject with If-None-Match, HeadObject, GetObject, ListObjectsV2, object tags),
// for examples and unit tests that need no emulator. It is safe for concurrent use.
type MemS3 struct {
	mu      sync.Mutex
	objects map[string]memObject // "bucket/key"
}

type memObject struct {
	body     []byte
	metadata map[string]string
	encoding *string
	modified time.Time
	tags     []types.Tag
}

// PutObject stores the body; with IfNoneMatch "*" an existing key answers 412.
func (m *MemS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objects == nil {
		m.objects = map[string]memObject{}
	}
	id := aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key)
	if _, ok := m.objects[id]; ok && aws.ToString(in.IfNoneMatch) == "*" {
		return nil, statusError(http.StatusPreconditionFailed, "PreconditionFailed")
	}
	m.objects[id] = memObject{body: body, metadata: in.Metadata, encoding: in.ContentEncoding, modified: time.Unix(0, 0).UTC()}
	return &s3.PutObjectOutput{}, nil
}

// HeadObject returns an object's size and metadata.
func (m *MemS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	o, err := m.get(aws.ToString(in.Bucket), aws.ToString(in.Key))
	if err != nil {
		// A HEAD response has no body to name the error: the SDK says NotFound.
		return nil, responseError(http.StatusNotFound, &types.NotFound{Message: aws.String("in memory")})
	}
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(int64(len(o.body))), Metadata: o.metadata, ContentEncoding: o.encoding}, nil
}

// GetObject returns an object.
func (m *MemS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	o, err := m.get(aws.ToString(in.Bucket), aws.ToString(in.Key))
	if err != nil {
		return nil, err
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(o.body)), ContentLength: aws.Int64(int64(len(o.body))),
		Metadata: o.metadata, ContentEncoding: o.encoding}, nil
}

// GetObjectTagging returns an object's tags.
func (m *MemS3) GetObjectTagging(_ context.Context, in *s3.GetObjectTaggingInput, _ ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	o, err := m.get(aws.ToString(in.Bucket), aws.ToString(in.Key))
	if err != nil {
		return nil, err
	}
	return &s3.GetObjectTaggingOutput{TagSet: o.tags}, nil
}

// PutObjectTagging replaces an object's tags.
func (m *MemS3) PutObjectTagging(_ context.Context, in *s3.PutObjectTaggingInput, _ ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error) {
	id := aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key)
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[id]
	if !ok {
		return nil, statusError(http.StatusNotFound, "NoSuchKey")
	}
	o.tags = slices.Clone(in.Tagging.TagSet)
	m.objects[id] = o
	return &s3.PutObjectTaggingOutput{}, nil
}

// ListObjectsV2 lists a bucket's keys under Prefix after StartAfter, in one page.
func (m *MemS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	bucket := aws.ToString(in.Bucket) + "/"
	var keys []string
	for id := range m.objects {
		key, ok := strings.CutPrefix(id, bucket)
		if ok && strings.HasPrefix(key, aws.ToString(in.Prefix)) && key > aws.ToString(in.StartAfter) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	out := &s3.ListObjectsV2Output{KeyCount: aws.Int32(int32(len(keys))), IsTruncated: aws.Bool(false)}
	for _, k := range keys {
		o := m.objects[bucket+k]
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(o.body))), LastModified: aws.Time(o.modified)})
	}
	return out, nil
}

func (m *MemS3) get(bucket, key string) (memObject, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[bucket+"/"+key]
	if !ok {
		return memObject{}, responseError(http.StatusNotFound, &types.NoSuchKey{Message: aws.String("in memory")})
	}
	return o, nil
}

// statusError is an S3 error as the SDK returns it: an HTTP status under an API error.
func statusError(status int, code string) error {
	return responseError(status, fmt.Errorf("%s (in memory)", code))
}

// responseError wraps err, a modelled error or a plain one, in the HTTP response
// error the SDK returns, so errors.As finds both the status and the type.
func responseError(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      err,
	}}
}
