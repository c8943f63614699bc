package redrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/streamdlq/streamdlq/archive"
)

type jobAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ jobAPI = (*s3.Client)(nil)

// Job is a resumable replay from the archive. Its progress lives in the archive
// bucket under PREFIX/jobs/NAME/: job.json says what it replays, and one marker per
// archive object fully redriven (done/KEY), each written once (If-None-Match), so a
// run cut by its budget, a crash, or a second run goes on where the last stopped
// without sending an object twice.
type Job struct {
	api                  jobAPI
	bucket, prefix, name string
	done                 map[string]bool
}

// JobStatus is a job as `streamdlq jobs` lists it.
type JobStatus struct {
	Name    string         `json:"name"`
	Filter  archive.Filter `json:"filter"`
	Started time.Time      `json:"started"`
	Done    int            `json:"done"` // archive objects fully redriven
}

var jobName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// NewJob returns the job NAME of the archive at bucket/prefix; a bad name fails the
// run that uses it (CheckJobName says so first).
func NewJob(api jobAPI, bucket, prefix, name string) *Job {
	return &Job{api: api, bucket: bucket, prefix: prefix, name: name, done: map[string]bool{}}
}

// CheckJobName reports a name a job cannot have.
func CheckJobName(name string) error {
	if !jobName.MatchString(name) {
		return fmt.Errorf("job name %q: want 1 to 64 of A-Z a-z 0-9 . _ -", name)
	}
	return nil
}

func jobsPrefix(prefix string) string {
	if prefix == "" {
		return "jobs/"
	}
	return strings.TrimSuffix(prefix, "/") + "/jobs/"
}

func (j *Job) base() string { return jobsPrefix(j.prefix) + j.name + "/" }

// start records what the job replays, or checks a resumed job replays the same, and
// loads its progress.
func (j *Job) start(ctx context.Context, f archive.Filter) error {
	if err := CheckJobName(j.name); err != nil {
		return err
	}
	st := JobStatus{Name: j.name, Filter: f, Started: time.Now().UTC()}
	b, _ := json.Marshal(st)
	key := j.base() + "job.json"
	_, err := j.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &j.bucket, Key: &key, Body: bytes.NewReader(b), IfNoneMatch: aws.String("*")})
	switch {
	case isConditionFailed(err):
		old, err := readJob(ctx, j.api, j.bucket, key)
		if err != nil {
			return err
		}
		if !sameFilter(old.Filter, f) {
			return fmt.Errorf("job %s replays another selection (started %s); name a new job", j.name, old.Started.Format(time.RFC3339))
		}
	case err != nil:
		return fmt.Errorf("start job %s: %w", j.name, err)
	}
	return j.load(ctx)
}

func sameFilter(a, b archive.Filter) bool {
	return a.Source == b.Source && a.Stream == b.Stream && a.Shard == b.Shard && a.Since.Equal(b.Since) && a.Until.Equal(b.Until)
}

func (j *Job) load(ctx context.Context) error {
	prefix := j.base() + "done/"
	p := s3.NewListObjectsV2Paginator(j.api, &s3.ListObjectsV2Input{Bucket: &j.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("read progress of job %s: %w", j.name, err)
		}
		for _, o := range page.Contents {
			j.done[strings.TrimPrefix(aws.ToString(o.Key), prefix)] = true
		}
	}
	return nil
}

// markDone records an archive object as fully redriven. A marker already there
// (another run's) is as good.
func (j *Job) markDone(ctx context.Context, objectKey string) error {
	key := j.base() + "done/" + objectKey
	_, err := j.api.PutObject(ctx, &s3.PutObjectInput{Bucket: &j.bucket, Key: &key, Body: bytes.NewReader(nil), IfNoneMatch: aws.String("*")})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("job %s: mark %s done: %w", j.name, objectKey, err)
	}
	j.done[objectKey] = true
	return nil
}

func isConditionFailed(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "PreconditionFailed" || api.ErrorCode() == "ConditionalRequestConflict")
}

func readJob(ctx context.Context, api jobAPI, bucket, key string) (JobStatus, error) {
	var st JobStatus
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return st, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return st, nil
}

// ListJobs lists the jobs of the archive at bucket/prefix with their progress.
func ListJobs(ctx context.Context, api jobAPI, bucket, prefix string) ([]JobStatus, error) {
	root := jobsPrefix(prefix)
	var out []JobStatus
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &root, Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list jobs in s3://%s/%s: %w", bucket, root, err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), root), "/")
			if CheckJobName(name) != nil {
				continue
			}
			j := NewJob(api, bucket, prefix, name)
			st, err := readJob(ctx, api, bucket, j.base()+"job.json")
			if err != nil {
				return nil, err
			}
			if err := j.load(ctx); err != nil {
				return nil, err
			}
			st.Done = len(j.done)
			out = append(out, st)
		}
	}
	return out, nil
}
