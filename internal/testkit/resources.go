package testkit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// waitResource bounds the wait for a stream or table to become active.
const waitResource = time.Minute

// CreateStream creates a Kinesis stream and waits until it is active, returning its
// ARN.
func CreateStream(ctx context.Context, k *kinesis.Client, name string, shards int32) (string, error) {
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: &shards}); err != nil {
		return "", fmt.Errorf("create stream %s: %w", name, err)
	}
	return WaitStream(ctx, k, name)
}

// WaitStream waits until a stream is active, after its creation or a resharding, and
// returns its ARN.
func WaitStream(ctx context.Context, k *kinesis.Client, name string) (string, error) {
	w := kinesis.NewStreamExistsWaiter(k, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	out, err := w.WaitForOutput(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, waitResource)
	if err != nil {
		return "", fmt.Errorf("wait for stream %s: %w", name, err)
	}
	return aws.ToString(out.StreamDescription.StreamARN), nil
}

// Stream creates a stream named after the test and returns its ARN. It is deleted
// when the test ends, since kinesis-local caps the shards alive at once.
func Stream(t testing.TB, k *kinesis.Client, shards int32) string {
	t.Helper()
	name := Name(t, "s")
	arn, err := CreateStream(context.Background(), k, name, shards)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = k.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: &name, EnforceConsumerDeletion: aws.Bool(true)})
	})
	return arn
}

// CreateTable creates a table keyed by the string attribute "id", with a
// NEW_AND_OLD_IMAGES stream, and waits until it is active, returning the stream's ARN.
func CreateTable(ctx context.Context, d *dynamodb.Client, name string) (string, error) {
	out, err := d.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		return "", fmt.Errorf("create table %s: %w", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(d).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, waitResource); err != nil {
		return "", fmt.Errorf("wait for table %s: %w", name, err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn), nil
}

// Table creates a table (see CreateTable) named after the test, deleted when the test
// ends, and returns its name and its stream's ARN.
func Table(t testing.TB, d *dynamodb.Client) (name, streamARN string) {
	t.Helper()
	name = Name(t, "t")
	streamARN, err := CreateTable(context.Background(), d, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = d.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name, streamARN
}

// CreateQueue creates an SQS queue and returns its URL.
func CreateQueue(ctx context.Context, c *sqs.Client, name string, attrs map[string]string) (string, error) {
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// Queue creates a queue named from prefix and the test, and returns its URL.
func Queue(t testing.TB, c *sqs.Client, prefix string, attrs map[string]string) string {
	t.Helper()
	url, err := CreateQueue(context.Background(), c, Name(t, prefix), attrs)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// QueueARN returns a queue's ARN, which redrive policies and event targets name.
func QueueARN(ctx context.Context, c *sqs.Client, url string) (string, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", fmt.Errorf("queue arn of %s: %w", url, err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// Bucket creates a bucket named from prefix and the test, and returns its name.
func Bucket(t testing.TB, c *s3.Client, prefix string) string {
	t.Helper()
	name := Name(t, prefix)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}
