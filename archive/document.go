package archive

import (
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// Hydration statuses.
const (
	// StatusComplete: every record of the range was read and the count matches batchSize.
	StatusComplete = "complete"
	// StatusPartial: part of the range is proven gone from the stream (only final
	// gaps: trimmed, compacted, shard-ended); Gaps say which. The capture is complete.
	StatusPartial = "partial"
	// StatusIncomplete: part of the range could not be read but may still be in the
	// stream (a transient gap). Such an object is never queued; a later attempt
	// merges what it reads into it and overwrites it (If-Match on its ETag).
	StatusIncomplete = "incomplete"
	// StatusMoreThanBatch: the range held more records than the consumer was given
	// (filter criteria, bisected batches); all of them are kept.
	StatusMoreThanBatch = "more-than-batch"
	// StatusUnreadable: nothing is left to read: the whole range is proven gone; the
	// failure is kept for its metadata.
	StatusUnreadable = "unreadable"
)

// Document is one hydrated failure: the on-failure record as received, the records
// read back in Lambda's shape, and what hydration found. It is the unit that is
// archived, queued on the DLQ and redriven.
type Document struct {
	Failure   json.RawMessage `json:"failure"`
	Records   []batch.Record  `json:"Records"`
	Hydration Hydration       `json:"hydration"`

	// spool, once records are spooled, holds them instead of Records (SpoolAbove).
	spool      *spool
	spoolDir   string
	spoolAbove int
}

// SpoolAbove makes Add move the records to a temporary file in dir (os.TempDir when
// empty) once the document holds more than above of them, and send every later
// record there: a range of any length then costs memory for one page. Records stays
// empty from then on; Len, Parents, the archive object and the DLQ body read the
// file. Close removes it. An above of 0 or less turns spooling off.
func (d *Document) SpoolAbove(above int, dir string) { d.spoolAbove, d.spoolDir = max(above, 0), dir }

// Add appends records, in stream order, to Records or to the spool.
func (d *Document) Add(recs []batch.Record) error {
	if d.spool == nil && (d.spoolAbove == 0 || len(d.Records)+len(recs) <= d.spoolAbove) {
		d.Records = append(d.Records, recs...)
		return nil
	}
	if d.spool == nil {
		s, err := newSpool(d.spoolDir)
		if err != nil {
			return err
		}
		d.spool = s
		held := d.Records
		d.Records = nil
		if err := s.add(held); err != nil {
			return err
		}
	}
	return d.spool.add(recs)
}

// Spooled reports whether the records are in a spool file rather than in Records.
func (d *Document) Spooled() bool { return d.spool != nil }

// Len is the number of records, held or spooled.
func (d *Document) Len() int {
	if d.spool != nil {
		return d.spool.count
	}
	return len(d.Records)
}

// Parents counts stream records, counting KPL sub-records (which share their
// parent's sequence number) once, since a consumer's batchSize counts what it was
// handed.
func (d *Document) Parents() int {
	if d.spool != nil {
		return d.spool.parents
	}
	n := 0
	for i, r := range d.Records {
		if i > 0 && r.SequenceNumber() == d.Records[i-1].SequenceNumber() {
			continue
		}
		n++
	}
	return n
}

// Load brings spooled records back into Records, for a caller that needs them all
// at once, and removes the spool. All reads them one at a time instead.
func (d *Document) Load() error {
	if d.spool == nil {
		return nil
	}
	recs := make([]batch.Record, 0, d.spool.count)
	for r, err := range d.All() {
		if err != nil {
			return err
		}
		recs = append(recs, r)
	}
	d.Records, d.spoolAbove = recs, 0
	err := d.spool.close()
	d.spool = nil
	return err
}

// All yields the records in order, held or spooled, one at a time: a spooled
// document is read from its file and never loaded whole. It stops at the first error,
// which it yields. Adding to d while iterating is not supported.
func (d *Document) All() iter.Seq2[batch.Record, error] {
	return func(yield func(batch.Record, error) bool) {
		if d.spool == nil {
			for _, r := range d.Records {
				if !yield(r, nil) {
					return
				}
			}
			return
		}
		d.spooledRecords(yield)
	}
}

func (d *Document) spooledRecords(yield func(batch.Record, error) bool) {
	l, err := d.spool.lines()
	if err != nil {
		yield(batch.Record{}, err)
		return
	}
	defer l.close()
	var line []byte
	for i := range d.spool.count {
		if line, err = l.next(line[:0]); err != nil {
			yield(batch.Record{}, err)
			return
		}
		var r batch.Record
		if err := json.Unmarshal(line, &r); err != nil {
			yield(batch.Record{}, fmt.Errorf("read spool: record %d: %w", i, err))
			return
		}
		if !yield(r, nil) {
			return
		}
	}
}

// Close removes the spool file, if any. A document is not used after Close.
func (d *Document) Close() error {
	if d.spool == nil {
		return nil
	}
	err := d.spool.close()
	d.spool = nil
	return err
}

// noRecords reports a document encoded with "Records":null, as encoding/json writes
// a nil slice.
func (d *Document) noRecords() bool {
	if d.spool != nil {
		return d.spool.count == 0
	}
	return d.Records == nil
}

// Hydration summarises how the records were read back.
type Hydration struct {
	Status string `json:"status"`
	// Source is "kinesis", "dynamodb" or "kafka"; StreamARN, ShardID, Start and End repeat the
	// failure's range so readers need not parse Failure.
	Source    string `json:"source"`
	StreamARN string `json:"streamArn"`
	ShardID   string `json:"shardId"`
	Start     string `json:"startSequenceNumber"`
	End       string `json:"endSequenceNumber"`
	// FunctionARN is the consumer (function ARN without qualifier, or pipe ARN) whose
	// batch failed; it names the consumer in the archive key.
	FunctionARN string `json:"functionArn,omitempty"`
	// Condition is the on-failure record's requestContext.condition.
	Condition string `json:"condition,omitempty"`
	// FirstArrival is the failure's approximateArrivalOfFirstRecord (or the time it was
	// received when absent); it dates the archive key.
	FirstArrival time.Time `json:"firstArrival"`

	Expected   int         `json:"expected"` // batchSize
	Fetched    int         `json:"fetched"`
	Gaps       []batch.Gap `json:"gaps,omitempty"`
	Calls      int         `json:"apiCalls"`
	HydratedAt time.Time   `json:"hydratedAt"`
	// From says where the records came from: "stream" (read back by shard iterator)
	// or "s3-payload" (carried by an S3 on-failure destination object).
	From string `json:"from"`
	// Kafka is set for source kafka: ShardID is then the partition, Start and End the
	// offsets, StreamARN the MSK cluster ARN (empty for self-managed Kafka).
	Kafka *KafkaHydration `json:"kafka,omitempty"`
}

// Complete reports whether the capture is complete: no gap is left whose records may
// still be in the stream (final gaps allowed). Only a complete capture is queued.
func (h Hydration) Complete() bool { return len(batch.Transient(h.Gaps)) == 0 }
