package testkit

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// FakeKinesis is the Kinesis read edge (what a shard reader calls) with function
// fields; *kinesis.Client's methods, so it fits any interface declared with them.
type FakeKinesis struct {
	GetShardIteratorFunc func(context.Context, *kinesis.GetShardIteratorInput) (*kinesis.GetShardIteratorOutput, error)
	GetRecordsFunc       func(context.Context, *kinesis.GetRecordsInput) (*kinesis.GetRecordsOutput, error)
}

func (f *FakeKinesis) GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	return f.GetShardIteratorFunc(ctx, in)
}

func (f *FakeKinesis) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	return f.GetRecordsFunc(ctx, in)
}

// FakeStreams is the DynamoDB Streams read edge with function fields.
type FakeStreams struct {
	GetShardIteratorFunc func(context.Context, *dynamodbstreams.GetShardIteratorInput) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecordsFunc       func(context.Context, *dynamodbstreams.GetRecordsInput) (*dynamodbstreams.GetRecordsOutput, error)
}

func (f *FakeStreams) GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	return f.GetShardIteratorFunc(ctx, in)
}

func (f *FakeStreams) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	return f.GetRecordsFunc(ctx, in)
}
