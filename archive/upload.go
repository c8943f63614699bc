package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Part sizes of a multipart upload. S3 wants every part but the last to be at least
// 5 MiB; 8 MiB is the SDK upload manager's default.
const (
	MinPartSize     = 5 << 20
	DefaultPartSize = 8 << 20
)

// multipartAPI uploads an object in parts; *s3.Client has it. An S3API without it
// (a fake) gets every object as one PutObject.
type multipartAPI interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
}

// abortAPI ends a failed multipart upload, so its parts are not kept (and billed).
type abortAPI interface {
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

type uploadAPI interface {
	multipartAPI
	abortAPI
}

var _ uploadAPI = (*s3.Client)(nil)

// objectBody is an archive object's bytes: a gzip member with the whole document,
// or, for a spooled document, one with the header line followed by the spool's
// bytes (a second gzip member with the record lines).
type objectBody struct {
	head     *chunks
	tail     *os.File // nil when not spooled
	tailSize int64
	size     int64
}

func (o *objectBody) ReadAt(p []byte, off int64) (int, error) {
	if off < o.head.size {
		n, err := o.head.ReadAt(p, off)
		if n == len(p) || o.tail == nil {
			return n, err
		}
		m, err := o.ReadAt(p[n:], off+int64(n))
		return n + m, err
	}
	if o.tail == nil || off >= o.size {
		return 0, io.EOF
	}
	return io.NewSectionReader(o.tail, 0, o.tailSize).ReadAt(p, off-o.head.size)
}

// section is a rewindable upload body over [off, off+n).
func (o *objectBody) section(off, n int64) *io.SectionReader { return io.NewSectionReader(o, off, n) }

// objectBody compresses doc, or, when spooled, only its header: the record lines are
// compressed in the spool already.
func (a *Archive) objectBody(doc *Document) (*objectBody, error) {
	if doc.spool == nil {
		c, err := a.gz.compress(doc)
		if err != nil {
			return nil, err
		}
		return &objectBody{head: c, size: c.size}, nil
	}
	if err := doc.spool.finish(); err != nil {
		return nil, err
	}
	line, err := newPieces(doc, true).header(nil)
	if err != nil {
		return nil, err
	}
	head, err := a.gz.compressBytes(line)
	if err != nil {
		return nil, err
	}
	s := doc.spool
	return &objectBody{head: head, tail: s.f, tailSize: s.size, size: head.size + s.size}, nil
}

// upload writes body with in's conditions (If-None-Match, If-Match): one PutObject
// for an object up to the part size, a multipart upload for a larger one, whose
// CompleteMultipartUpload carries the same condition. S3's 409
// ConditionalRequestConflict (a concurrent write of the same key) is retried; for a
// multipart upload that means a new upload, as S3 asks.
func (a *Archive) upload(ctx context.Context, in *s3.PutObjectInput, body *objectBody) error {
	for attempt := 0; ; attempt++ {
		var err error
		if a.mp != nil && body.size > a.opts.PartSize {
			err = a.multipart(ctx, in, body)
		} else {
			in.Body = body.section(0, body.size)
			_, err = a.s3.PutObject(ctx, in)
		}
		if httpStatus(err) != http.StatusConflict || attempt >= conflictRetries {
			return err
		}
		if _, err := conflictBackoff.Wait(ctx, attempt); err != nil {
			return err
		}
	}
}

// multipart uploads body in parts of the configured size and completes the upload
// under in's condition. On any failure the upload is aborted; a process killed before
// that leaves parts that the bucket's AbortIncompleteMultipartUpload lifecycle rule
// removes.
func (a *Archive) multipart(ctx context.Context, in *s3.PutObjectInput, body *objectBody) (err error) {
	created, err := a.mp.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: in.Bucket, Key: in.Key, ContentType: in.ContentType, ContentEncoding: in.ContentEncoding,
		Metadata: in.Metadata, ServerSideEncryption: in.ServerSideEncryption, SSEKMSKeyId: in.SSEKMSKeyId,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, a.abort(ctx, in, created.UploadId))
		}
	}()
	var parts []types.CompletedPart
	for off, n := int64(0), int32(1); off < body.size; off, n = off+a.opts.PartSize, n+1 {
		size := min(a.opts.PartSize, body.size-off)
		out, err := a.mp.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: in.Bucket, Key: in.Key, UploadId: created.UploadId, PartNumber: aws.Int32(n),
			Body: body.section(off, size), ContentLength: aws.Int64(size), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("upload part %d: %w", n, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	_, err = a.mp.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: in.Bucket, Key: in.Key, UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfNoneMatch:     in.IfNoneMatch, IfMatch: in.IfMatch,
	})
	return err
}

// abortTimeout bounds the abort of a failed upload, which runs even when ctx ended.
const abortTimeout = 10 * time.Second

func (a *Archive) abort(ctx context.Context, in *s3.PutObjectInput, uploadID *string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := a.mp.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: in.Bucket, Key: in.Key, UploadId: uploadID})
	if err != nil {
		return fmt.Errorf("abort multipart upload %s: %w", aws.ToString(uploadID), err)
	}
	return nil
}
