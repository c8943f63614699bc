package hydrate

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/clock"
)

// Clock is the time source (clock.Clock): the wall clock by default; tests and
// examples pass their own.
type Clock = clock.Clock

// KinesisAPI reads a Kinesis shard.
type KinesisAPI interface {
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// DynamoDBStreamsAPI reads a DynamoDB Streams shard.
type DynamoDBStreamsAPI interface {
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// S3API is the archive, its queued tags, and the S3 on-failure objects.
type S3API interface {
	archive.S3API
	objectTaggingAPI
}

// SQSAPI is the DLQ.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// EventBridgeAPI announces captured failures.
type EventBridgeAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var (
	_ KinesisAPI         = (*kinesis.Client)(nil)
	_ DynamoDBStreamsAPI = (*dynamodbstreams.Client)(nil)
	_ S3API              = (*s3.Client)(nil)
	_ SQSAPI             = (*sqs.Client)(nil)
	_ EventBridgeAPI     = (*eventbridge.Client)(nil)
)

// Clients are the SDK clients a Handler calls. NewFromConfig builds the ones left nil
// from its aws.Config; tests and other programs set their own. Kinesis and
// DynamoDBStreams read the function's own account; accounts in the role map are read
// with clients built from the assumed role.
type Clients struct {
	Kinesis         KinesisAPI
	DynamoDBStreams DynamoDBStreamsAPI
	S3              S3API
	SQS             SQSAPI
	EventBridge     EventBridgeAPI
}

func (c Clients) withDefaults(cfg aws.Config) Clients {
	if c.Kinesis == nil {
		c.Kinesis = kinesis.NewFromConfig(cfg)
	}
	if c.DynamoDBStreams == nil {
		c.DynamoDBStreams = dynamodbstreams.NewFromConfig(cfg)
	}
	if c.S3 == nil {
		c.S3 = awsenv.S3(cfg)
	}
	if c.SQS == nil {
		c.SQS = sqs.NewFromConfig(cfg)
	}
	if c.EventBridge == nil {
		c.EventBridge = eventbridge.NewFromConfig(cfg)
	}
	return c
}
