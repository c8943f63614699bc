package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	dstypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/redrive"
)

// dynamoDBSource writes the run's records as items of a new table (its stream is the
// run's source; DynamoDB Local gives it one shard), finds the sequence numbers the
// stream gave them, and makes an SQS queue the redrive target: DynamoDB records have
// no partition key for a Kinesis target.
func (w *World) dynamoDBSource(ctx context.Context, name string, recs []written) (source, error) {
	db := dynamodb.NewFromConfig(w.clean)
	table := name + "-t"
	out, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &table,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewImage},
	})
	if err != nil {
		return source{}, fmt.Errorf("create table %s: %w", table, err)
	}
	src := source{kind: "dynamodb", arn: aws.ToString(out.TableDescription.LatestStreamArn), table: table}
	for i, r := range recs {
		item := map[string]ddbtypes.AttributeValue{
			"id":   &ddbtypes.AttributeValueMemberS{Value: itemID(i)},
			"k":    &ddbtypes.AttributeValueMemberS{Value: r.key},
			"data": &ddbtypes.AttributeValueMemberS{Value: string(r.data)},
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
			return src, fmt.Errorf("put item %d: %w", i, err)
		}
	}
	if src.shard, err = w.streamSequences(ctx, src.arn, recs); err != nil {
		return src, err
	}
	if src.queue, err = testkit.CreateQueue(ctx, w.sqs, name+"-target", nil); err != nil {
		return src, err
	}
	src.route = redrive.PrefixSQS + src.queue
	return src, nil
}

func itemID(i int) string { return fmt.Sprintf("r-%03d", i) }

// streamSequences reads the stream's one shard from TRIM_HORIZON with a clean client
// and sets each record's sequence number.
func (w *World) streamSequences(ctx context.Context, arn string, recs []written) (string, error) {
	c := dynamodbstreams.NewFromConfig(w.clean)
	d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	if err != nil || len(d.StreamDescription.Shards) != 1 {
		return "", fmt.Errorf("describe stream %s: %v (want one shard)", arn, err)
	}
	shard := aws.ToString(d.StreamDescription.Shards[0].ShardId)
	it, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: &shard, ShardIteratorType: dstypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		return "", fmt.Errorf("shard iterator of %s: %w", arn, err)
	}
	byID := map[string]int{}
	for i := range recs {
		byID[itemID(i)] = i
	}
	found := 0
	for next, calls := it.ShardIterator, 0; found < len(recs); calls++ {
		if next == nil || calls == 200 {
			return "", fmt.Errorf("stream %s gave %d of %d records", arn, found, len(recs))
		}
		p, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: next})
		if err != nil {
			return "", fmt.Errorf("read stream %s: %w", arn, err)
		}
		for _, r := range p.Records {
			id, ok := r.Dynamodb.Keys["id"].(*dstypes.AttributeValueMemberS)
			if !ok {
				continue
			}
			if i, mine := byID[id.Value]; mine {
				recs[i].seq, found = aws.ToString(r.Dynamodb.SequenceNumber), found+1
			}
		}
		next = p.NextShardIterator
		if len(p.Records) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return shard, nil
}

// dropDynamoDBSource deletes a DynamoDB run's table and target queue.
func (w *World) dropDynamoDBSource(ctx context.Context, src source) {
	if src.table != "" {
		_, _ = dynamodb.NewFromConfig(w.clean).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &src.table})
	}
	if src.queue != "" {
		_, _ = w.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(src.queue)})
	}
}

// readTargetQueue reads what a DynamoDB run's target queue got: one message per
// record, the record's JSON, whose new image carries the written data.
func (w *World) readTargetQueue(ctx context.Context, url string, f *found) error {
	msgs, err := w.receiveAll(ctx, url)
	if err != nil {
		return fmt.Errorf("read target %s: %w", url, err)
	}
	for _, m := range msgs {
		var r batch.Record
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &r); err != nil || r.DynamoDB == nil {
			return fmt.Errorf("target message %s: not a DynamoDB record (%v)", aws.ToString(m.MessageId), err)
		}
		d := r.DynamoDB.Change.NewImage["data"].String()
		if f.delivered[d]++; f.delivered[d] == 1 {
			f.order = append(f.order, d)
		}
	}
	return nil
}
