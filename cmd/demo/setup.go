package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// Names of the demo's resources in the local AWS.
const (
	StreamName  = "orders"
	TableName   = "customers"
	DLQName     = "streamdlq-dlq"
	ParkingName = "streamdlq-parking"
	BucketName  = "streamdlq-archive"
	BusName     = "streamdlq"
)

// resources are what setup created.
type resources struct {
	streamARN, tableStreamARN string
	dlqURL, parkingURL        string
	kafkaBrokers              []string // the local broker's PLAINTEXT listener
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
	if r.streamARN, err = testkit.CreateStream(ctx, c.kinesis, StreamName, 2); err != nil {
		return r, err
	}
	if r.tableStreamARN, err = testkit.CreateTable(ctx, c.dynamodb, TableName); err != nil {
		return r, err
	}
	if r.parkingURL, err = testkit.CreateQueue(ctx, c.sqs, ParkingName, nil); err != nil {
		return r, err
	}
	parkingARN, err := testkit.QueueARN(ctx, c.sqs, r.parkingURL)
	if err != nil {
		return r, err
	}
	// A DLQ message that fails redrive five times is parked, as the template sets it up.
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, parkingARN)
	if r.dlqURL, err = testkit.CreateQueue(ctx, c.sqs, DLQName, map[string]string{"VisibilityTimeout": "60", "RedrivePolicy": redrive}); err != nil {
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
