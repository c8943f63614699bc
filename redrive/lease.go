package redrive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Lease keeps two redrives (the CLI and the scheduled function, or two CLIs) from
// draining one source together. It is an S3 object in the archive bucket, one per
// source (PREFIX/leases/HASH.json), created with If-None-Match and taken over or
// renewed only with If-Match on the ETag its holder last saw, holding who holds it
// and until when; an expired lease (its holder crashed) can be taken over.
type Lease struct {
	api            jobAPI
	bucket, key    string
	source, holder string
	ttl            time.Duration
	now            func() time.Time
	etag           string
	expires        time.Time
}

// LeaseHeldError: another redrive holds the source's lease.
type LeaseHeldError struct {
	Source  string
	Holder  string
	Expires time.Time
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("redrive: %s is being redriven by %s (lease until %s); try again later", e.Source, e.Holder, e.Expires.Format(time.RFC3339))
}

type leaseBody struct {
	Source  string    `json:"source"`
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
}

// NewLease returns the lease of source (a queue URL or archive location) in the
// archive at bucket/prefix, held as holder for ttl at a time (renewed while held).
func NewLease(api jobAPI, bucket, prefix, source, holder string, ttl time.Duration) *Lease {
	sum := sha256.Sum256([]byte(source))
	root := "leases/"
	if prefix != "" {
		root = strings.TrimSuffix(prefix, "/") + "/leases/"
	}
	return &Lease{api: api, bucket: bucket, key: root + hex.EncodeToString(sum[:16]) + ".json",
		source: source, holder: holder, ttl: ttl, now: time.Now}
}

// DefaultHolder names this process: host and pid, and what it is.
func DefaultHolder(what string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s on %s (pid %d)", what, host, os.Getpid())
}

// acquire takes the lease, or says who holds it.
func (l *Lease) acquire(ctx context.Context) error {
	err := l.put(ctx, "")
	if !isConditionFailed(err) {
		return err
	}
	held, etag, err := l.read(ctx)
	if err != nil {
		return err
	}
	if l.now().Before(held.Expires) && held.Holder != l.holder {
		return &LeaseHeldError{Source: l.source, Holder: held.Holder, Expires: held.Expires}
	}
	if err := l.put(ctx, etag); isConditionFailed(err) {
		held, _, _ = l.read(ctx)
		return &LeaseHeldError{Source: l.source, Holder: held.Holder, Expires: held.Expires}
	} else if err != nil {
		return err
	}
	return nil
}

// renew extends the lease when half its time is gone.
func (l *Lease) renew(ctx context.Context) error {
	if l.now().Before(l.expires.Add(-l.ttl / 2)) {
		return nil
	}
	if err := l.put(ctx, l.etag); isConditionFailed(err) {
		return fmt.Errorf("redrive: lost the lease of %s", l.source)
	} else if err != nil {
		return err
	}
	return nil
}

// release ends the lease at once, if it is still ours.
func (l *Lease) release(ctx context.Context) error {
	l.ttl = 0
	if err := l.put(ctx, l.etag); err != nil && !isConditionFailed(err) {
		return err
	}
	return nil
}

// put writes the lease until now+ttl: a creation when ifMatch is empty, else a
// replacement of the version with that ETag.
func (l *Lease) put(ctx context.Context, ifMatch string) error {
	expires := l.now().Add(l.ttl).UTC()
	b, _ := json.Marshal(leaseBody{Source: l.source, Holder: l.holder, Expires: expires})
	in := &s3.PutObjectInput{Bucket: &l.bucket, Key: &l.key, Body: bytes.NewReader(b), ContentType: aws.String("application/json")}
	if ifMatch == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(ifMatch)
	}
	out, err := l.api.PutObject(ctx, in)
	if err != nil {
		if isConditionFailed(err) {
			return err
		}
		return fmt.Errorf("lease s3://%s/%s: %w", l.bucket, l.key, err)
	}
	l.etag, l.expires = aws.ToString(out.ETag), expires
	return nil
}

func (l *Lease) read(ctx context.Context) (leaseBody, string, error) {
	var b leaseBody
	out, err := l.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &l.bucket, Key: &l.key})
	if err != nil {
		return b, "", fmt.Errorf("read lease s3://%s/%s: %w", l.bucket, l.key, err)
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(&b); err != nil {
		return b, "", fmt.Errorf("read lease s3://%s/%s: %w", l.bucket, l.key, err)
	}
	return b, aws.ToString(out.ETag), nil
}
