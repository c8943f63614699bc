package stream

import (
	"context"
	"errors"
	"strings"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// KinesisAPI is the part of the Kinesis client a KinesisReader uses.
type KinesisAPI interface {
	GetShardIterator(ctx context.Context, params *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, params *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

var _ KinesisAPI = (*kinesis.Client)(nil)

// KinesisMaxLimit is the most records one Kinesis GetRecords call returns.
const KinesisMaxLimit = 10000

// KinesisOptions tune a KinesisReader.
type KinesisOptions struct {
	// Limit is GetRecords' Limit; default and at most KinesisMaxLimit, so a
	// contiguous range costs one iterator plus ceil(N/10,000) GetRecords. It is never
	// cut to the batch size: the range, not the count, decides what is read.
	Limit int32
	// Deaggregate splits KPL aggregated records into their user records, as Lambda
	// does for its consumers.
	Deaggregate bool
	// MaxEmptyPages is how many empty pages in a row the reader follows before giving
	// up on the rest of the range; default 100.
	MaxEmptyPages int
	// Backoff is the wait after throttled calls.
	Backoff Backoff
	// PageBytes, when set, bounds the data of one GetRecords page rather than only
	// its count, so that the memory a read takes follows PageBytes, not the record
	// size: the first call asks for PageBytes/1 KiB records, each later one for
	// PageBytes divided by the mean size of the records read so far (at least 1, at
	// most Limit). A page of 10,000 records of 600 bytes would otherwise be 6 MB of
	// data and about four times that in memory while the SDK decodes it. It costs
	// calls: 10,000 records of 600 bytes take 4 GetRecords at 2 MiB instead of 1.
	PageBytes int
}

// KinesisReader reads a sequence range of one Kinesis shard back. It is safe for
// concurrent use.
type KinesisReader struct {
	api KinesisAPI
	opt KinesisOptions
}

// NewKinesisReader returns a reader using client.
func NewKinesisReader(client KinesisAPI, optFns ...func(*KinesisOptions)) *KinesisReader {
	var o KinesisOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Limit <= 0 || o.Limit > KinesisMaxLimit {
		o.Limit = KinesisMaxLimit
	}
	if o.MaxEmptyPages <= 0 {
		o.MaxEmptyPages = defaultMaxEmptyPages
	}
	o.Backoff = withDefaults(o.Backoff)
	return &KinesisReader{api: client, opt: o}
}

// Read returns the records of r.ShardID with r.Start <= sequence number <= r.End, in
// Lambda's shape; see the package documentation for gaps and errors.
func (k *KinesisReader) Read(ctx context.Context, r Range) (Result, error) {
	src := kinesisSource{api: k.api, limit: k.opt.Limit, deaggregate: k.opt.Deaggregate, sizer: newPageSizer(k.opt.PageBytes, k.opt.Limit)}
	return read(ctx, src, loopOptions{maxEmptyPages: k.opt.MaxEmptyPages, backoff: k.opt.Backoff}, r, nil)
}

// ReadPages is Read that hands the records to each page by page instead of holding
// them: Result.Records stays empty. The slice given to each is reused after it
// returns; an error from each ends the read and is returned.
func (k *KinesisReader) ReadPages(ctx context.Context, r Range, each func([]batch.Record) error) (Result, error) {
	src := kinesisSource{api: k.api, limit: k.opt.Limit, deaggregate: k.opt.Deaggregate, sizer: newPageSizer(k.opt.PageBytes, k.opt.Limit)}
	return read(ctx, src, loopOptions{maxEmptyPages: k.opt.MaxEmptyPages, backoff: k.opt.Backoff}, r, each)
}

type kinesisSource struct {
	api         KinesisAPI
	limit       int32
	deaggregate bool
	sizer       *pageSizer // nil: limit records per page
}

// pageSizer sizes GetRecords pages by bytes (KinesisOptions.PageBytes).
type pageSizer struct {
	budget, limit  int64
	bytes, records int64
}

// assumedRecordBytes sizes the first page, before any record was seen.
const assumedRecordBytes = 1 << 10

func newPageSizer(budget int, limit int32) *pageSizer {
	if budget <= 0 {
		return nil
	}
	return &pageSizer{budget: int64(budget), limit: int64(limit)}
}

func (p *pageSizer) next() int32 {
	mean := int64(assumedRecordBytes)
	if p.records > 0 {
		mean = max(p.bytes/p.records, 1)
	}
	return int32(min(max(p.budget/mean, 1), p.limit))
}

func (p *pageSizer) observe(recs []types.Record) {
	for i := range recs {
		p.bytes += int64(len(recs[i].Data) + len(aws.ToString(recs[i].PartitionKey)))
	}
	p.records += int64(len(recs))
}

func (k kinesisSource) iterator(ctx context.Context, r Range, p position) (*string, error) {
	in := &kinesis.GetShardIteratorInput{StreamARN: aws.String(r.StreamARN), ShardId: aws.String(r.ShardID)}
	switch p.kind {
	case atSeq:
		in.ShardIteratorType, in.StartingSequenceNumber = types.ShardIteratorTypeAtSequenceNumber, aws.String(p.seq)
	case afterSeq:
		in.ShardIteratorType, in.StartingSequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(p.seq)
	default:
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	}
	out, err := k.api.GetShardIterator(ctx, in)
	if err != nil {
		if p.kind != trimHorizon && trimmedSequence(err) {
			return nil, &trimmedError{err: err}
		}
		return nil, err
	}
	return out.ShardIterator, nil
}

// trimmedSequence reports whether GetShardIterator refused a starting sequence number
// because it is past the stream's retention. Kinesis has no modelled error for that;
// it answers InvalidArgumentException naming the StartingSequenceNumber. The same
// exception names it for a sequence number of another shard ("It encodes shardId-...")
// or stream ("did not come from this stream") and for a malformed request ("Must
// either specify ..."): those are wrong input, not trimming.
func trimmedSequence(err error) bool {
	var inv *types.InvalidArgumentException
	if !errors.As(err, &inv) {
		return false
	}
	msg := strings.ToLower(inv.ErrorMessage())
	for _, other := range []string{"encodes shardid", "did not come from this stream", "must either specify"} {
		if strings.Contains(msg, other) {
			return false
		}
	}
	return strings.Contains(msg, "startingsequencenumber") || strings.Contains(msg, "starting sequence number")
}

func (k kinesisSource) page(ctx context.Context, r Range, it *string) (page[types.Record], error) {
	limit := k.limit
	if k.sizer != nil {
		limit = k.sizer.next()
	}
	out, err := k.api.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(limit), StreamARN: aws.String(r.StreamARN)})
	if err != nil {
		return page[types.Record]{}, err
	}
	if k.sizer != nil {
		k.sizer.observe(out.Records)
	}
	// Only an empty page at the tip ends the read: an empty page further behind is
	// normal (Kinesis skips over time with no records) and must be followed.
	caughtUp := len(out.Records) == 0 && out.MillisBehindLatest != nil && *out.MillisBehindLatest == 0
	return page[types.Record]{records: out.Records, next: out.NextShardIterator, caughtUp: caughtUp}, nil
}

func (kinesisSource) seq(rec *types.Record) string { return aws.ToString(rec.SequenceNumber) }

// decode converts a run of records to Lambda's shape. The records of a run share one
// allocation, and so do their event IDs; Data is the SDK's slice, not a copy.
func (k kinesisSource) decode(dst []batch.Record, recs []types.Record, r Range) []batch.Record {
	slab := make([]batch.KinesisEventRecord, len(recs))
	ids := eventIDs(recs, r.ShardID)
	for i := range recs {
		slab[i] = kinesisEventRecord(&recs[i], r)
		n := len(r.ShardID) + 1 + len(slab[i].Kinesis.SequenceNumber)
		slab[i].EventID, ids = ids[:n], ids[n:]
		if !k.deaggregate {
			dst = append(dst, batch.Record{Kinesis: &slab[i]})
			continue
		}
		users := Deaggregate(slab[i])
		for j := range users {
			dst = append(dst, batch.Record{Kinesis: &users[j]})
		}
	}
	return dst
}

// eventIDs joins the run's event IDs ("shardId:sequenceNumber", as Lambda writes
// them) into one string for decode to slice.
func eventIDs(recs []types.Record, shard string) string {
	n := 0
	for i := range recs {
		n += len(shard) + 1 + len(aws.ToString(recs[i].SequenceNumber))
	}
	var b strings.Builder
	b.Grow(n)
	for i := range recs {
		b.WriteString(shard)
		b.WriteByte(':')
		b.WriteString(aws.ToString(recs[i].SequenceNumber))
	}
	return b.String()
}

// kinesisEventRecord converts one record; decode sets its EventID.
func kinesisEventRecord(rec *types.Record, r Range) batch.KinesisEventRecord {
	seq := aws.ToString(rec.SequenceNumber)
	var e batch.KinesisEventRecord
	e.AwsRegion = r.Region
	e.EventName = "aws:kinesis:record"
	e.EventSource = batch.EventSourceKinesis
	e.EventSourceArn = r.StreamARN
	e.EventVersion = "1.0"
	e.Kinesis.KinesisSchemaVersion = "1.0"
	e.Kinesis.PartitionKey = aws.ToString(rec.PartitionKey)
	e.Kinesis.SequenceNumber = seq
	e.Kinesis.Data = rec.Data
	e.Kinesis.EncryptionType = string(rec.EncryptionType)
	if rec.ApproximateArrivalTimestamp != nil {
		e.Kinesis.ApproximateArrivalTimestamp.Time = *rec.ApproximateArrivalTimestamp
	}
	return e
}
