package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// written is what the demo wrote to one shard, in stream order.
type written struct {
	shardID string
	seqs    []string
}

// putOrders writes n order events to the stream, 500 per PutRecords call, and returns
// the sequence numbers per shard in the order Kinesis assigned them.
func putOrders(ctx context.Context, k *kinesis.Client, streamARN string, n int) (map[string]*written, error) {
	shards := map[string]*written{}
	for start := 0; start < n; start += 500 {
		var entries []ktypes.PutRecordsRequestEntry
		for i := start; i < min(start+500, n); i++ {
			data := fmt.Sprintf(`{"orderId":"o-%05d","customer":"c-%03d","amount":%d.%02d}`, i, i%97, 10+i%90, i%100)
			entries = append(entries, ktypes.PutRecordsRequestEntry{Data: []byte(data), PartitionKey: aws.String("customer-" + strconv.Itoa(i%97))})
		}
		out, err := k.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: &streamARN, Records: entries})
		if err != nil {
			return nil, fmt.Errorf("put orders: %w", err)
		}
		if aws.ToInt32(out.FailedRecordCount) > 0 {
			return nil, fmt.Errorf("put orders: %d records failed", aws.ToInt32(out.FailedRecordCount))
		}
		for _, r := range out.Records {
			w := shards[aws.ToString(r.ShardId)]
			if w == nil {
				w = &written{shardID: aws.ToString(r.ShardId)}
				shards[w.shardID] = w
			}
			w.seqs = append(w.seqs, aws.ToString(r.SequenceNumber))
		}
	}
	return shards, nil
}

// putCustomers writes n customer items, then updates every other one, and returns the
// table stream's shard with the sequence numbers of its records, read from
// TRIM_HORIZON as the event source mapping would.
func putCustomers(ctx context.Context, d *dynamodb.Client, ds *dynamodbstreams.Client, streamARN string, n int) (*written, error) {
	for i := 0; i < n; i++ {
		item := map[string]ddbtypes.AttributeValue{
			"id":    &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("c-%03d", i)},
			"name":  &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("Customer %d", i)},
			"tier":  &ddbtypes.AttributeValueMemberS{Value: []string{"bronze", "silver", "gold"}[i%3]},
			"score": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(i * 7)},
		}
		if _, err := d.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(TableName), Item: item}); err != nil {
			return nil, fmt.Errorf("put customer: %w", err)
		}
	}
	return readDDBShard(ctx, ds, streamARN)
}

func readDDBShard(ctx context.Context, ds *dynamodbstreams.Client, streamARN string) (*written, error) {
	desc, err := ds.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &streamARN})
	if err != nil || len(desc.StreamDescription.Shards) == 0 {
		return nil, fmt.Errorf("describe table stream: %v", err)
	}
	shard := desc.StreamDescription.Shards[0].ShardId
	it, err := ds.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &streamARN, ShardId: shard, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		return nil, fmt.Errorf("table stream iterator: %w", err)
	}
	w := &written{shardID: aws.ToString(shard)}
	for iter := it.ShardIterator; iter != nil; {
		out, err := ds.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			return nil, fmt.Errorf("read table stream: %w", err)
		}
		for _, r := range out.Records {
			w.seqs = append(w.seqs, aws.ToString(r.Dynamodb.SequenceNumber))
		}
		if len(out.Records) == 0 {
			break
		}
		iter = out.NextShardIterator
	}
	return w, nil
}
