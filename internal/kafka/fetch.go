package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// fetch sends one Fetch from s.next and accounts for what it returned. done reports
// that nothing more of the range can be read.
func (s *scan) fetch(ctx context.Context) (done bool, err error) {
	rp, err := s.fetchPartition(ctx)
	if err != nil {
		return false, err
	}
	switch perr := kerr.ErrorForCode(rp.ErrorCode); {
	case perr == nil:
	case errors.Is(perr, kerr.OffsetOutOfRange):
		return s.outOfRange(ctx)
	case leadershipMoved(perr) && s.retries < s.rd.opts.MaxRetries:
		s.retries++
		return false, s.locate(ctx)
	default:
		return false, fmt.Errorf("fetch %s at %d: %w", s.r, s.next, perr)
	}
	next := s.account(rp)
	if next > s.next {
		s.next, s.retries = next, 0
		return false, nil
	}
	return s.stalled(rp)
}

func leadershipMoved(err error) bool {
	return errors.Is(err, kerr.NotLeaderForPartition) || errors.Is(err, kerr.FencedLeaderEpoch) ||
		errors.Is(err, kerr.UnknownLeaderEpoch) || errors.Is(err, kerr.LeaderNotAvailable) ||
		errors.Is(err, kerr.UnknownTopicID) || errors.Is(err, kerr.InconsistentTopicID)
}

// fetchPartition sends a sessionless, read-committed Fetch for the one partition to
// its leader and returns the partition's part of the response.
func (s *scan) fetchPartition(ctx context.Context) (*kmsg.FetchResponseTopicPartition, error) {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = int32(s.rd.opts.MaxWait.Milliseconds())
	req.MinBytes = 1
	req.MaxBytes = s.rd.opts.PartitionMaxBytes
	req.IsolationLevel = 1
	req.SessionEpoch = -1
	t := kmsg.NewFetchRequestTopic()
	t.Topic, t.TopicID = s.r.Topic, s.topicID
	p := kmsg.NewFetchRequestTopicPartition()
	p.Partition, p.FetchOffset, p.PartitionMaxBytes = s.r.Partition, s.next, s.rd.opts.PartitionMaxBytes
	p.CurrentLeaderEpoch, p.LastFetchedEpoch, p.LogStartOffset = -1, -1, -1
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	s.res.Calls++
	s.res.Fetches++
	raw, err := s.leader.Request(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s at %d: %w", s.r, s.next, err)
	}
	resp := raw.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("fetch %s at %d: %w", s.r, s.next, err)
	}
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			if rp := &resp.Topics[i].Partitions[j]; rp.Partition == s.r.Partition {
				return rp, nil
			}
		}
	}
	return nil, fmt.Errorf("fetch %s at %d: partition missing from the response", s.r, s.next)
}

// account walks every offset the response holds from s.next on: committed records
// are kept, aborted ones counted, markers passed over, and the offsets between them
// that the log no longer holds become compacted gaps. It returns the offset to fetch
// next.
func (s *scan) account(rp *kmsg.FetchResponseTopicPartition) int64 {
	opts := kgo.ProcessFetchPartitionOpts{
		KeepControlRecords: true, Offset: s.next, Topic: s.r.Topic, Partition: s.r.Partition,
		IsolationLevel: kgo.ReadUncommitted(),
	}
	all, next := kgo.ProcessFetchPartition(opts, rp, s.rd.dec, nil)
	opts.KeepControlRecords, opts.IsolationLevel = false, kgo.ReadCommitted()
	committed, _ := kgo.ProcessFetchPartition(opts, rp, s.rd.dec, nil)
	kept, k := committed.Records, 0
	for _, rec := range all.Records {
		if rec.Offset > s.r.Last {
			break
		}
		s.gap(s.expect, rec.Offset-1, batch.GapCompacted, "")
		s.expect = rec.Offset + 1
		for k < len(kept) && kept[k].Offset < rec.Offset {
			k++
		}
		switch {
		case rec.Attrs.IsControl():
			s.res.Markers++
		case k < len(kept) && kept[k].Offset == rec.Offset:
			s.res.Records = append(s.res.Records, batch.Record{Kafka: lambdaRecord(kept[k])})
		default:
			s.res.Aborted++
		}
	}
	// A batch whose records were all compacted away still moves next past them.
	if next > s.expect {
		s.gap(s.expect, next-1, batch.GapCompacted, "")
		s.expect = next
	}
	return next
}

// stalled handles a Fetch that moved nothing: the range runs past what can be read
// committed. The rest is unreadable: past the partition's end (a recreated topic, or
// a record naming offsets never written), or inside a transaction still open.
func (s *scan) stalled(rp *kmsg.FetchResponseTopicPartition) (bool, error) {
	switch {
	case rp.HighWatermark >= 0 && s.next >= rp.HighWatermark:
		s.gap(s.next, s.r.Last, batch.GapUnreadable, fmt.Sprintf("past the partition's end offset %d", rp.HighWatermark))
		return true, nil
	case rp.LastStableOffset >= 0 && s.next >= rp.LastStableOffset:
		s.gap(s.next, s.r.Last, batch.GapUnreadable, fmt.Sprintf("in an open transaction (last stable offset %d)", rp.LastStableOffset))
		return true, nil
	}
	s.retries++
	if s.retries > s.rd.opts.MaxRetries {
		s.gap(s.next, s.r.Last, batch.GapUnreadable, "no progress")
		return true, nil
	}
	return false, nil
}

// outOfRange finds the log start offset after the broker refused s.next: below it,
// the offsets are trimmed and the read goes on from there; at or above it, s.next is
// past the end.
func (s *scan) outOfRange(ctx context.Context) (bool, error) {
	s.res.Calls++
	offs, err := kadm.NewClient(s.rd.cl).ListStartOffsets(ctx, s.r.Topic)
	if err == nil {
		err = offs.Error()
	}
	if err != nil {
		return false, fmt.Errorf("list start offsets %s: %w", s.r, err)
	}
	o, ok := offs.Lookup(s.r.Topic, s.r.Partition)
	if !ok {
		return false, fmt.Errorf("list start offsets %s: partition missing from the response", s.r)
	}
	if s.next >= o.Offset {
		s.gap(s.next, s.r.Last, batch.GapUnreadable, "past the partition's end offset")
		return true, nil
	}
	s.gap(s.next, o.Offset-1, batch.GapTrimmed, "")
	s.next, s.expect = o.Offset, o.Offset
	return false, nil
}
