package stream

import (
	"context"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// DynamoDBStreamsAPI is the part of the DynamoDB Streams client a DynamoDBReader uses.
type DynamoDBStreamsAPI interface {
	GetShardIterator(ctx context.Context, params *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, params *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

var _ DynamoDBStreamsAPI = (*dynamodbstreams.Client)(nil)

// DynamoDBMaxLimit is the most records one DynamoDB Streams GetRecords call returns.
const DynamoDBMaxLimit = 1000

// DynamoDBOptions tune a DynamoDBReader.
type DynamoDBOptions struct {
	// Limit is GetRecords' Limit; default and at most DynamoDBMaxLimit.
	Limit int32
	// MaxEmptyPages is how many empty pages in a row the reader follows before giving
	// up on the rest of the range; default 100. DynamoDB Streams has no "caught up"
	// signal, so this bounds reading an open shard whose End never comes.
	MaxEmptyPages int
	// Backoff is the wait after throttled calls.
	Backoff Backoff
}

// DynamoDBReader reads a sequence range of one DynamoDB Streams shard back. It is safe
// for concurrent use.
type DynamoDBReader struct {
	api DynamoDBStreamsAPI
	opt DynamoDBOptions
}

// NewDynamoDBReader returns a reader using client.
func NewDynamoDBReader(client DynamoDBStreamsAPI, optFns ...func(*DynamoDBOptions)) *DynamoDBReader {
	var o DynamoDBOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Limit <= 0 || o.Limit > DynamoDBMaxLimit {
		o.Limit = DynamoDBMaxLimit
	}
	if o.MaxEmptyPages <= 0 {
		o.MaxEmptyPages = defaultMaxEmptyPages
	}
	o.Backoff = withDefaults(o.Backoff)
	return &DynamoDBReader{api: client, opt: o}
}

// Read returns the records of r.ShardID with r.Start <= sequence number <= r.End, in
// Lambda's shape; see the package documentation for gaps and errors.
func (d *DynamoDBReader) Read(ctx context.Context, r Range) (Result, error) {
	src := dynamoDBSource{api: d.api, limit: d.opt.Limit}
	return read(ctx, src, loopOptions{maxEmptyPages: d.opt.MaxEmptyPages, backoff: d.opt.Backoff}, r, nil)
}

// ReadPages is Read that hands the records to each page by page instead of holding
// them; see KinesisReader.ReadPages.
func (d *DynamoDBReader) ReadPages(ctx context.Context, r Range, each func([]batch.Record) error) (Result, error) {
	src := dynamoDBSource{api: d.api, limit: d.opt.Limit}
	return read(ctx, src, loopOptions{maxEmptyPages: d.opt.MaxEmptyPages, backoff: d.opt.Backoff}, r, each)
}

type dynamoDBSource struct {
	api   DynamoDBStreamsAPI
	limit int32
}

func (d dynamoDBSource) iterator(ctx context.Context, r Range, p position) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(r.StreamARN), ShardId: aws.String(r.ShardID)}
	switch p.kind {
	case atSeq:
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAtSequenceNumber, aws.String(p.seq)
	case afterSeq:
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(p.seq)
	default:
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	}
	out, err := d.api.GetShardIterator(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.ShardIterator, nil
}

func (d dynamoDBSource) page(ctx context.Context, _ Range, it *string) (page[types.Record], error) {
	out, err := d.api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(d.limit)})
	if err != nil {
		return page[types.Record]{}, err
	}
	return page[types.Record]{records: out.Records, next: out.NextShardIterator}, nil
}

func (dynamoDBSource) seq(rec *types.Record) string {
	if rec.Dynamodb == nil {
		return ""
	}
	return aws.ToString(rec.Dynamodb.SequenceNumber)
}

// decode converts a run of records to Lambda's shape, sharing one allocation.
func (dynamoDBSource) decode(dst []batch.Record, recs []types.Record, r Range) []batch.Record {
	slab := make([]events.DynamoDBEventRecord, len(recs))
	for i := range recs {
		slab[i] = dynamoDBEventRecord(&recs[i], r)
		dst = append(dst, batch.Record{DynamoDB: &slab[i]})
	}
	return dst
}

func dynamoDBEventRecord(rec *types.Record, r Range) events.DynamoDBEventRecord {
	e := events.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(rec.AwsRegion),
		EventID:        aws.ToString(rec.EventID),
		EventName:      string(rec.EventName),
		EventSource:    aws.ToString(rec.EventSource),
		EventVersion:   aws.ToString(rec.EventVersion),
		EventSourceArn: r.StreamARN,
	}
	if e.AWSRegion == "" {
		e.AWSRegion = r.Region
	}
	if e.EventSource == "" {
		e.EventSource = batch.EventSourceDynamoDB
	}
	if id := rec.UserIdentity; id != nil {
		e.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(id.Type), PrincipalID: aws.ToString(id.PrincipalId)}
	}
	if c := rec.Dynamodb; c != nil {
		e.Change = streamRecord(c)
	}
	return e
}

func streamRecord(c *types.StreamRecord) events.DynamoDBStreamRecord {
	s := events.DynamoDBStreamRecord{
		Keys:           attributeMap(c.Keys),
		NewImage:       attributeMap(c.NewImage),
		OldImage:       attributeMap(c.OldImage),
		SequenceNumber: aws.ToString(c.SequenceNumber),
		SizeBytes:      aws.ToInt64(c.SizeBytes),
		StreamViewType: string(c.StreamViewType),
	}
	if c.ApproximateCreationDateTime != nil {
		s.ApproximateCreationDateTime.Time = *c.ApproximateCreationDateTime
	}
	return s
}

func attributeMap(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = attributeValue(v)
	}
	return out
}

// attributeValue converts one SDK attribute value into Lambda's. A member kind newer
// than this code (types.UnknownUnionMember) becomes NULL: events cannot carry it, and
// failing the whole read over one attribute would lose every record with it.
func attributeValue(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberM:
		m := attributeMap(v.Value)
		if m == nil {
			m = map[string]events.DynamoDBAttributeValue{}
		}
		return events.NewMapAttribute(m)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = attributeValue(e)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	}
	return events.NewNullAttribute()
}
