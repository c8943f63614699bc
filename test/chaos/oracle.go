package chaos

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/envelope"
	"github.com/streamdlq/streamdlq/internal/stream"
	"github.com/streamdlq/streamdlq/redrive"
)

// Tally counts a run's records by what became of them. Every record is exactly one of
// Delivered, Queued, Parked, Gapped or Lost.
type Tally struct {
	Records   int
	Delivered int // on the target stream
	Queued    int // archived and on the DLQ or redrive's parking queue
	// Parked records were trimmed before any attempt, and their failure is still on
	// the hydrator's failure queue or was parked by the rehydration: nothing of them
	// was readable, so nothing is lost, but no archive names them as a gap yet. A
	// record still readable that ends there is lost.
	Parked int
	Gapped int // trimmed before any attempt, inside a final gap of an archived failure
	Lost   int
	// Duplicates are extra copies on the target; Unexplained ones came in a run with
	// no crash and no after-send fault, where none may.
	Duplicates, Unexplained int
	OutOfOrder              int // records first delivered before an earlier one of their key and failure
}

func (t *Tally) add(o Tally) {
	t.Records += o.Records
	t.Delivered += o.Delivered
	t.Queued += o.Queued
	t.Parked += o.Parked
	t.Gapped += o.Gapped
	t.Lost += o.Lost
	t.Duplicates += o.Duplicates
	t.Unexplained += o.Unexplained
	t.OutOfOrder += o.OutOfOrder
}

// found is everything the oracle read back after a run.
type found struct {
	delivered map[string]int  // record data → copies on the target
	order     []string        // record data in target order, first copies only
	queued    map[string]bool // sequence numbers in DLQ and parking messages
	archived  map[string]bool // sequence numbers in archive objects
	gaps      []batch.Gap     // gaps of archived failures
	parked    []parkedFailure
	// trimmed are the records trimmed before any attempt could read them: the only
	// ones a gap may account for.
	trimmed map[string]bool
	// consumers is how many consumers failed on each range: each record is due once
	// per consumer on the target.
	consumers int
	// parkReason is the reason of each record on redrive's parking queue.
	parkReason map[string]string
	poison     *written
	// acrossFailures checks each key's order across failures, not only within one.
	acrossFailures bool
	// Hostile: the inputs sent, those found parked, and what of them got through.
	hostile              *hostile
	refused              []refusal
	forgedDocs, baitSeen int
}

// check reads back the target stream, the queues and the archive with clean clients
// and classifies each record the run wrote.
func (w *World) check(ctx context.Context, e *runEnv, recs []written) error {
	f := found{delivered: map[string]int{}, queued: map[string]bool{}, archived: map[string]bool{}, trimmed: e.trimmed, consumers: e.consumers,
		parkReason: map[string]string{}, poison: e.poison, acrossFailures: e.acrossFailures, hostile: e.hostile}
	steps := []func() error{
		func() error {
			switch {
			case e.con != nil:
				w.readConsumer(e.con, recs, &f)
				return nil
			case e.from.queue != "":
				return w.readTargetQueue(ctx, e.from.queue, &f)
			case e.from.kafka != nil:
				return e.from.kafka.readTarget(ctx, &f)
			}
			return w.readTarget(ctx, &f)
		},
		func() error { return w.settled(ctx, e.q.dlq, e.q.parking) },
		func() error { return w.readQueue(ctx, e.q.dlq, &f, nil) },
		func() error { return w.readQueue(ctx, e.q.parking, &f, f.parkReason) },
		func() error { return w.readParked(ctx, e.q.parked, &f) },
		func() error { return w.readArchive(ctx, e.prefix, &f) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	classify(e.run, recs, f)
	return nil
}

// parkedFailure is a failure named by an on-failure event that was not hydrated: left
// on the hydrator's failure queue or parked by the rehydration.
type parkedFailure struct {
	batch.Failure
	where string
}

func classify(r *Run, recs []written, f found) {
	explained := r.AfterSend > 0 || r.Injected[Crash] > 0
	due := max(f.consumers, 1)
	for _, rec := range recs {
		r.Records++
		n := f.delivered[string(rec.data)]
		switch {
		case n >= due:
			r.Delivered++
			if n > due {
				r.Duplicates += n - due
				if !explained {
					r.Unexplained += n - due
					r.Problems = append(r.Problems, fmt.Sprintf("record %d (%s) delivered %d times (%d consumers) with no crash or after-send fault", rec.index, rec.seq, n, due))
				}
			}
		case f.queued[rec.seq]:
			r.Queued++
			if !f.archived[rec.seq] {
				r.Problems = append(r.Problems, fmt.Sprintf("record %d (%s) queued but not archived", rec.index, rec.seq))
			}
		case f.trimmed[rec.seq] && finalGapHas(f.gaps, rec.seq):
			r.Gapped++
		case f.trimmed[rec.seq] && parkedHas(f.parked, rec.seq) != nil:
			r.Parked++
		case parkedHas(f.parked, rec.seq) != nil:
			r.Lost++ // the rehydration had until the records leave the stream
			r.Problems = append(r.Problems, fmt.Sprintf("record %d (%s) lost: its failure is %s, though the record is still in the stream", rec.index, rec.seq, parkedHas(f.parked, rec.seq).where))
		case gapHas(f.gaps, rec.seq) != nil:
			r.Lost++ // it was in the stream when the first attempt ran: no gap excuses it
			g := gapHas(f.gaps, rec.seq)
			r.Problems = append(r.Problems, fmt.Sprintf("record %d (%s) lost: in a %s gap (%s) though it was in the stream at the first attempt", rec.index, rec.seq, g.Reason, g.Detail))
		case f.archived[rec.seq]:
			r.Lost++ // the redrive reads the DLQ: a record only in the archive is never redriven
			r.Problems = append(r.Problems, fmt.Sprintf("record %d (%s) lost: archived, but neither queued nor delivered", rec.index, rec.seq))
		default:
			r.Lost++
			r.Problems = append(r.Problems, fmt.Sprintf("record %d (%s) lost: delivered %d of %d times, not queued, parked or in a gap", rec.index, rec.seq, n, due))
		}
	}
	if f.poison != nil {
		checkPoison(r, *f.poison, f)
	}
	if f.hostile != nil {
		checkHostile(r, f)
	}
	r.OutOfOrder = outOfOrder(recs, f.order, f.acrossFailures)
	if r.OutOfOrder > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d records delivered ahead of an earlier record of their key", r.OutOfOrder))
	}
}

// parkedHas returns the parked failure whose range holds seq, or nil.
func parkedHas(parked []parkedFailure, seq string) *parkedFailure {
	for i, p := range parked {
		if stream.CompareSequence(p.Start, seq) <= 0 && stream.CompareSequence(seq, p.End) <= 0 {
			return &parked[i]
		}
	}
	return nil
}

// gapHas returns the archived gap holding seq, or nil.
func gapHas(gaps []batch.Gap, seq string) *batch.Gap {
	for i, g := range gaps {
		if stream.CompareSequence(g.From, seq) <= 0 && stream.CompareSequence(seq, g.To) <= 0 {
			return &gaps[i]
		}
	}
	return nil
}

// finalGapHas reports whether a final gap (records proven gone) holds seq.
func finalGapHas(gaps []batch.Gap, seq string) bool {
	for _, g := range gaps {
		if g.Final() && stream.CompareSequence(g.From, seq) <= 0 && stream.CompareSequence(seq, g.To) <= 0 {
			return true
		}
	}
	return false
}

// outOfOrder counts first deliveries that overtook an earlier record of the same
// partition key and failure: redrive keeps each key's order within a failure, and,
// with across, across the failures of the shard too (they are replayed in sequence
// order whatever order they were received in).
func outOfOrder(recs []written, order []string, across bool) int {
	byData := map[string]written{}
	for _, r := range recs {
		byData[string(r.data)] = r
	}
	last := map[string]int{}
	n := 0
	for _, d := range order {
		r, ok := byData[d]
		if !ok {
			continue
		}
		k := fmt.Sprint(r.failure, "/", r.key)
		if across {
			k = r.key
		}
		if prev, seen := last[k]; seen && r.index < prev {
			n++
			continue
		}
		last[k] = r.index
	}
	return n
}

// readTarget reads what the target stream got since the last run.
func (w *World) readTarget(ctx context.Context, f *found) error {
	for _, shard := range []string{"shardId-000000000000", "shardId-000000000001"} {
		if err := w.readShard(ctx, shard, f); err != nil {
			return fmt.Errorf("read target %s: %w", shard, err)
		}
	}
	return nil
}

func (w *World) readShard(ctx context.Context, shard string, f *found) error {
	in := &kinesis.GetShardIteratorInput{StreamARN: &w.target, ShardId: &shard, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon}
	if c := w.cursor[shard]; c != "" {
		in.ShardIteratorType, in.StartingSequenceNumber = ktypes.ShardIteratorTypeAfterSequenceNumber, &c
	}
	it, err := w.k.GetShardIterator(ctx, in)
	if err != nil {
		return err
	}
	for next := it.ShardIterator; next != nil; {
		out, err := w.k.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: next, StreamARN: &w.target})
		if err != nil {
			return err
		}
		for _, r := range out.Records {
			d := string(r.Data)
			if f.delivered[d]++; f.delivered[d] == 1 {
				f.order = append(f.order, d)
			}
			w.cursor[shard] = aws.ToString(r.SequenceNumber)
		}
		if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
			break
		}
		next = out.NextShardIterator
	}
	return nil
}

// settled waits until no message of the queues is in flight, so that a receive sees
// them all: a crashed redrive's messages return when their visibility timeout ends.
func (w *World) settled(ctx context.Context, urls ...string) error {
	deadline := time.Now().Add(3 * visibility)
	for _, url := range urls {
		for {
			out, err := w.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
			if err != nil {
				return err
			}
			if out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)] == "0" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("queue %s still has messages in flight", url)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// receiveAll takes every message off a queue (the run is over; nothing else reads it).
func (w *World) receiveAll(ctx context.Context, url string) ([]sqstypes.Message, error) {
	var msgs []sqstypes.Message
	for empty := 0; empty < 2; {
		out, err := w.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10,
			VisibilityTimeout: 300, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return nil, err
		}
		if len(out.Messages) == 0 {
			empty++
		}
		msgs = append(msgs, out.Messages...)
	}
	return msgs, nil
}

// readQueue notes the records of a queue's messages and, with reasons, the reason
// each was parked for.
func (w *World) readQueue(ctx context.Context, url string, f *found, reasons map[string]string) error {
	msgs, err := w.receiveAll(ctx, url)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		why := aws.ToString(m.MessageAttributes[redrive.AttrLastError].StringValue)
		if failures, object, ok := parkedInput(aws.ToString(m.Body)); ok {
			// The rehydration parks here an input it cannot hydrate.
			f.noteParked(failures, object, "parked by the rehydration ("+why+")", why)
			continue
		}
		doc, err := archive.DecodeMessage(ctx, w.s3, w.bucket, aws.ToString(m.Body))
		if err != nil {
			return fmt.Errorf("decode message %s of %s: %w", aws.ToString(m.MessageId), url, err)
		}
		f.noteHostile(doc)
		for _, r := range doc.Records {
			f.queued[r.SequenceNumber()] = true
			if reasons != nil {
				reasons[r.SequenceNumber()] = why
			}
		}
	}
	return nil
}

// readParked reads the events left in the hydrate function's OnFailure destination
// (its failure queue) after the rehydration and keeps the failures they name.
func (w *World) readParked(ctx context.Context, url string, f *found) error {
	msgs, err := w.receiveAll(ctx, url)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		failures, object, ok := parkedInput(aws.ToString(m.Body))
		if !ok {
			return fmt.Errorf("parked event %s: not an input of the hydrate function", aws.ToString(m.MessageId))
		}
		f.noteParked(failures, object, "still on the hydrator's failure queue after the rehydration", "")
	}
	return nil
}

// noteParked notes a parked input: a hostile one as refused with why, else the
// failures it names as parked (where).
func (f *found) noteParked(failures []batch.Failure, object bool, where, why string) {
	if what := hostileInput(failures, object); f.hostile != nil && what != "" {
		f.refused = append(f.refused, refusal{what, why})
		return
	}
	for _, fl := range failures {
		f.parked = append(f.parked, parkedFailure{fl, where})
	}
}

// parkedInput parses a parked input of the hydrate function (a Lambda invocation
// record's payload included): the failures it names and whether it names S3 objects;
// ok is false when body is no such input.
func parkedInput(body string) (failures []batch.Failure, object, ok bool) {
	in, err := envelope.Parse([]byte(body))
	if err != nil {
		return nil, false, false
	}
	for _, it := range in.Items {
		if it.Failure != nil {
			failures = append(failures, *it.Failure)
		}
		object = object || it.Object != nil
	}
	return failures, object, true
}

// readArchive reads every archived failure of the run.
func (w *World) readArchive(ctx context.Context, prefix string, f *found) error {
	a := archive.New(w.s3, func(o *archive.Options) { o.Bucket, o.Prefix = w.bucket, prefix })
	p := s3.NewListObjectsV2Paginator(w.s3, &s3.ListObjectsV2Input{Bucket: &w.bucket, Prefix: aws.String(prefix + "/source=")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list archive: %w", err)
		}
		for _, o := range page.Contents {
			if !strings.HasSuffix(aws.ToString(o.Key), ".jsonl.gz") {
				continue
			}
			doc, err := a.Get(ctx, aws.ToString(o.Key))
			if err != nil {
				return fmt.Errorf("archive %s: %w", aws.ToString(o.Key), err)
			}
			f.noteHostile(doc)
			f.gaps = append(f.gaps, doc.Hydration.Gaps...)
			for _, r := range doc.Records {
				f.archived[r.SequenceNumber()] = true
			}
		}
	}
	return nil
}
