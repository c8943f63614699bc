package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// Range is the part of one topic-partition that an on-failure record names.
type Range struct {
	Topic     string
	Partition int32
	// First and Last are inclusive offsets, 0 <= First <= Last.
	First, Last int64
}

func (r Range) String() string {
	return fmt.Sprintf("%s/%d %d..%d", r.Topic, r.Partition, r.First, r.Last)
}

// Result is what a Reader got for a Range.
type Result struct {
	// Records in offset order, each with First <= offset <= Last.
	Records []batch.Record
	// Gaps are the parts of the range that could not be read, in order.
	Gaps []batch.Gap
	// Aborted counts the records of aborted transactions in the range, which are not
	// returned (read committed); Markers the transaction markers (control records),
	// which hold an offset each and are no records.
	Aborted, Markers int
	// Fetches counts Fetch requests; Calls every request (Metadata, Fetch, ListOffsets).
	Fetches, Calls int
}

// UnreadableError reports a range of which nothing could be read because the cluster
// refused it for good: topic or partition not found, authorization failed.
type UnreadableError struct {
	Range  Range
	Reason string
	Err    error
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("read %s: %s: %v", e.Range, e.Reason, e.Err)
}

func (e *UnreadableError) Unwrap() error { return e.Err }

// Options tune a Reader.
type Options struct {
	// PartitionMaxBytes caps one Fetch's data for the partition; 8 MiB by default,
	// more than one Lambda batch (6 MB), so a failed batch is usually one Fetch.
	PartitionMaxBytes int32
	// MaxWait is how long the broker may hold a Fetch that finds no data; 500 ms.
	MaxWait time.Duration
	// MaxRetries bounds metadata refreshes after leadership errors and fetches that
	// make no progress, in a row; 3.
	MaxRetries int
}

// Reader reads ranges with a franz-go client that has no consumer group and consumes
// nothing: only its request path is used. It is safe for concurrent use.
type Reader struct {
	cl   *kgo.Client
	opts Options
	dec  kgo.Decompressor
}

// NewReader returns a Reader that sends its requests through cl.
func NewReader(cl *kgo.Client, optFns ...func(*Options)) *Reader {
	o := Options{PartitionMaxBytes: 8 << 20, MaxWait: 500 * time.Millisecond, MaxRetries: 3}
	for _, fn := range optFns {
		fn(&o)
	}
	return &Reader{cl: cl, opts: o, dec: kgo.DefaultDecompressor()}
}

// Read reads r; see the package documentation for gaps and the error contract.
func (rd *Reader) Read(ctx context.Context, r Range) (Result, error) {
	if r.First < 0 || r.First > r.Last {
		return Result{}, fmt.Errorf("read %s: not a range", r)
	}
	s := &scan{rd: rd, r: r, next: r.First, expect: r.First}
	err := s.run(ctx)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		s.gap(s.expect, r.Last, batch.GapUnreadable, "deadline")
		err = nil
	}
	return s.res, err
}

// scan is one Read in progress.
type scan struct {
	rd      *Reader
	r       Range
	res     Result
	topicID [16]byte
	leader  *kgo.Broker
	// next is the offset to fetch from; expect the lowest offset not yet accounted
	// for as a record, a skipped record or a gap.
	next, expect int64
	retries      int
}

func (s *scan) run(ctx context.Context) error {
	if err := s.locate(ctx); err != nil {
		return err
	}
	for s.next <= s.r.Last {
		done, err := s.fetch(ctx)
		if err != nil || done {
			return err
		}
	}
	return nil
}

// locate finds the partition's leader and the topic's ID (Fetch v13+ names topics
// by ID). It never creates the topic.
func (s *scan) locate(ctx context.Context) error {
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(s.r.Topic)
	req.Topics = append(req.Topics, t)
	req.AllowAutoTopicCreation = false
	s.res.Calls++
	resp, err := req.RequestWith(ctx, s.rd.cl)
	if err != nil {
		return fmt.Errorf("metadata %s: %w", s.r, err)
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("metadata %s: %d topics in the response", s.r, len(resp.Topics))
	}
	rt := resp.Topics[0]
	if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
		return s.refused("topic", err)
	}
	for _, p := range rt.Partitions {
		if p.Partition != s.r.Partition {
			continue
		}
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil && !errors.Is(err, kerr.ReplicaNotAvailable) {
			return s.refused("partition", err)
		}
		s.topicID, s.leader = rt.TopicID, s.rd.cl.Broker(int(p.Leader))
		return nil
	}
	return &UnreadableError{Range: s.r, Reason: "partition not found", Err: kerr.UnknownTopicOrPartition}
}

// refused classifies a metadata error: permanent ones make the range unreadable.
func (s *scan) refused(what string, err error) error {
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return &UnreadableError{Range: s.r, Reason: what + " not found", Err: err}
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		return &UnreadableError{Range: s.r, Reason: "access denied", Err: err}
	}
	return fmt.Errorf("metadata %s: %w", s.r, err)
}

// gap records [from, to] (clipped to the range) as missing, merging it into the
// previous gap when they touch and agree.
func (s *scan) gap(from, to int64, reason, detail string) {
	from, to = max(from, s.r.First), min(to, s.r.Last)
	if from > to {
		return
	}
	if n := len(s.res.Gaps); n > 0 {
		g := &s.res.Gaps[n-1]
		if g.Reason == reason && g.Detail == detail && g.To == strconv.FormatInt(from-1, 10) {
			g.To = strconv.FormatInt(to, 10)
			return
		}
	}
	s.res.Gaps = append(s.res.Gaps, batch.Gap{
		From: strconv.FormatInt(from, 10), To: strconv.FormatInt(to, 10), Reason: reason, Detail: detail,
	})
}
