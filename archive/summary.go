package archive

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Summary is what an archive object's metadata says about its failure, read without
// fetching the object.
type Summary struct {
	Key          string    `json:"key"`
	Source       string    `json:"source"`
	StreamARN    string    `json:"streamArn"`
	ShardID      string    `json:"shardId"`
	Start        string    `json:"startSequenceNumber"`
	End          string    `json:"endSequenceNumber"`
	Records      int       `json:"records"`
	Expected     int       `json:"expected"`
	Gaps         int       `json:"gaps"`
	Status       string    `json:"status"`
	Condition    string    `json:"condition,omitempty"`
	FirstArrival time.Time `json:"firstArrival"`
	Size         int64     `json:"size"`
}

// Summarize reads an archive object's summary with one HeadObject call.
func (a *Archive) Summarize(ctx context.Context, key string) (Summary, error) {
	head, err := a.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &a.opts.Bucket, Key: &key})
	if err != nil {
		return Summary{}, fmt.Errorf("head s3://%s/%s: %w", a.opts.Bucket, key, err)
	}
	m := head.Metadata
	s := Summary{
		Key: key, Source: m[MetaSource], StreamARN: m[MetaStreamARN], ShardID: m[MetaShardID],
		Start: m[MetaStart], End: m[MetaEnd], Status: m[MetaStatus], Condition: m[MetaCondition],
	}
	if head.ContentLength != nil {
		s.Size = *head.ContentLength
	}
	s.Records, _ = strconv.Atoi(m[MetaRecords])
	s.Expected, _ = strconv.Atoi(m[MetaBatchSize])
	s.Gaps, _ = strconv.Atoi(m[MetaGaps])
	s.FirstArrival, _ = time.Parse(time.RFC3339Nano, m[MetaFirstArrival])
	return s, nil
}
