package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Names of the demo's resources in the local AWS.
const (
	StreamName   = "orders"
	TableName    = "customers"
	DLQName      = "streamdlq-dlq"
	ParkingName  = "streamdlq-parking"
	BucketName   = "streamdlq-archive"
	BusName      = "streamdlq"
	waitResource = 30 * time.Second
)

// resources are what setup created.
type resources struct {
	streamARN, tableStreamARN string
	dlqURL, parkingURL        string
}

type clients struct {
	kinesis  *kinesis.Client
	dynamodb *dynamodb.Client
	sqs      *sqs.Client
	s3       *s3.Client
	events   *eventbridge.Client
}

// setup creates the stream, the table with its stream, the queues, the bucket and the
// bus, as the SAM template would in an account.
func setup(ctx context.Context, c clients) (resources, error) {
	var r resources
	var err error
	if r.streamARN, err = createStream(ctx, c.kinesis); err != nil {
		return r, err
	}
	if r.tableStreamARN, err = createTable(ctx, c.dynamodb); err != nil {
		return r, err
	}
	if r.parkingURL, err = createQueue(ctx, c.sqs, ParkingName, nil); err != nil {
		return r, err
	}
	parkingARN, err := queueARN(ctx, c.sqs, r.parkingURL)
	if err != nil {
		return r, err
	}
	// A DLQ message that fails redrive five times is parked, as the template sets it up.
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, parkingARN)
	if r.dlqURL, err = createQueue(ctx, c.sqs, DLQName, map[string]string{"VisibilityTimeout": "60", "RedrivePolicy": redrive}); err != nil {
		return r, err
	}
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(BucketName)}); err != nil {
		return r, fmt.Errorf("create bucket %s: %w", BucketName, err)
	}
	if _, err := c.events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(BusName)}); err != nil {
		return r, fmt.Errorf("create event bus %s: %w", BusName, err)
	}
	return r, nil
}

func createStream(ctx context.Context, k *kinesis.Client) (string, error) {
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(StreamName), ShardCount: aws.Int32(2)}); err != nil {
		return "", fmt.Errorf("create stream %s: %w", StreamName, err)
	}
	in := &kinesis.DescribeStreamInput{StreamName: aws.String(StreamName)}
	if err := kinesis.NewStreamExistsWaiter(k, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 200 * time.Millisecond }).Wait(ctx, in, waitResource); err != nil {
		return "", fmt.Errorf("wait for stream %s: %w", StreamName, err)
	}
	out, err := k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(StreamName)})
	if err != nil {
		return "", fmt.Errorf("describe stream %s: %w", StreamName, err)
	}
	return aws.ToString(out.StreamDescriptionSummary.StreamARN), nil
}

func createTable(ctx context.Context, d *dynamodb.Client) (string, error) {
	out, err := d.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(TableName),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		return "", fmt.Errorf("create table %s: %w", TableName, err)
	}
	if err := dynamodb.NewTableExistsWaiter(d).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(TableName)}, waitResource); err != nil {
		return "", fmt.Errorf("wait for table %s: %w", TableName, err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn), nil
}

func createQueue(ctx context.Context, q *sqs.Client, name string, attrs map[string]string) (string, error) {
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// queueARN is needed for the DLQ's redrive policy to the parking queue.
func queueARN(ctx context.Context, q *sqs.Client, url string) (string, error) {
	out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", fmt.Errorf("queue arn of %s: %w", url, err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}
