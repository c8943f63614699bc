package stream

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// BenchmarkKinesisRead reads ranges of N records of one shard of kinesis-local and
// reports the API calls a batch cost next to the least possible, 1 + ceil(N/10,000).
// The shard is written once (25,000 records; kinesis-local slows down as a shard
// grows, so setting up takes minutes).
func BenchmarkKinesisRead(b *testing.B) {
	c := kinesisClient(b)
	arn := testkit.Stream(b, c, 1)
	puts := inShard(putRecords(b, c, arn, 25000, func(i int) string { return "pk-" + strconv.Itoa(i) }), "shardId-000000000000")
	k := NewKinesisReader(c)
	for _, n := range []int{1, 100, 10000, 25000} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			from := (len(puts) - n) / 2
			r := kRange(arn, "shardId-000000000000", puts[from], puts[from+n-1], n)
			calls := 0
			for b.Loop() {
				res, err := k.Read(context.Background(), r)
				if err != nil || len(res.Records) != n {
					b.Fatalf("Read: %d records, %v; want %d", len(res.Records), err, n)
				}
				calls += res.Calls
			}
			b.ReportMetric(float64(calls)/float64(b.N), "apicalls/batch")
			b.ReportMetric(float64(1+(n+KinesisMaxLimit-1)/KinesisMaxLimit), "min-apicalls/batch")
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkKinesisDecode measures the reader's own path, GetRecords output to
// []batch.Record, on a fake client answering 10,000 records of 100 bytes per page.
func BenchmarkKinesisDecode(b *testing.B) {
	s := newFakeShard(KinesisMaxLimit)
	for i := range s.records {
		s.records[i].Data = make([]byte, 100)
	}
	k := NewKinesisReader(s.client())
	r := rangeOf(0, KinesisMaxLimit-1)
	b.ReportAllocs()
	for b.Loop() {
		if res, err := k.Read(context.Background(), r); err != nil || len(res.Records) != KinesisMaxLimit {
			b.Fatalf("Read: %d records, %v", len(res.Records), err)
		}
	}
	b.ReportMetric(float64(KinesisMaxLimit*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDynamoDBDecode is BenchmarkKinesisDecode for DynamoDB Streams: pages of
// 1,000 MODIFY records with old and new images of five attributes.
func BenchmarkDynamoDBDecode(b *testing.B) {
	recs := ddbRecords(DynamoDBMaxLimit)
	for i := range recs {
		img := map[string]dtypes.AttributeValue{
			"id":   &dtypes.AttributeValueMemberS{Value: strconv.Itoa(i)},
			"n":    &dtypes.AttributeValueMemberN{Value: "42"},
			"tags": &dtypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
			"m":    &dtypes.AttributeValueMemberM{Value: map[string]dtypes.AttributeValue{"x": &dtypes.AttributeValueMemberBOOL{Value: true}}},
			"at":   &dtypes.AttributeValueMemberS{Value: time.Unix(0, 0).String()},
		}
		recs[i].Dynamodb.NewImage, recs[i].Dynamodb.OldImage = img, img
	}
	out := &dynamodbstreams.GetRecordsOutput{Records: recs, NextShardIterator: aws.String("next")}
	api := &testkit.FakeStreams{
		GetShardIteratorFunc: func(context.Context, *dynamodbstreams.GetShardIteratorInput) (*dynamodbstreams.GetShardIteratorOutput, error) {
			return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String("it")}, nil
		},
		GetRecordsFunc: func(context.Context, *dynamodbstreams.GetRecordsInput) (*dynamodbstreams.GetRecordsOutput, error) {
			return out, nil
		},
	}
	d := NewDynamoDBReader(api)
	r := Range{StreamARN: "arn", ShardID: "shard", Start: ddbSeqAt(0), End: ddbSeqAt(DynamoDBMaxLimit - 1)}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := d.Read(context.Background(), r); err != nil || len(res.Records) != DynamoDBMaxLimit {
			b.Fatalf("Read: %d records, %v", len(res.Records), err)
		}
	}
	b.ReportMetric(float64(DynamoDBMaxLimit*b.N)/b.Elapsed().Seconds(), "records/s")
}
