package bench_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	dstypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/streamdlq/streamdlq/internal/stream"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// readSizes are the batch sizes the call-count figures are taken at.
var readSizes = []int{1, 100, 10_000, 25_000}

// minCalls is the fewest calls that can read n contiguous records: one iterator and
// ceil(n/limit) GetRecords.
func minCalls(n, limit int) int { return 1 + (n+limit-1)/limit }

// BenchmarkDynamoDBRead reads contiguous ranges of DynamoDB Local's stream through
// stream.DynamoDBReader and reports the API calls made (counted at the SDK too, so the
// reader's own count is checked) against the minimum 1 + ceil(N/1,000), GetRecords
// returning at most 1,000 records. Kinesis has its twin in internal/stream.
func BenchmarkDynamoDBRead(b *testing.B) {
	cfg := testkit.Config(b, testkit.DynamoDB, testkit.DynamoDBStreams)
	counter := &testkit.Calls{}
	ds := dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.APIOptions = append(o.APIOptions, counter.Add) })
	arn := createTable(b, dynamodb.NewFromConfig(cfg), readSizes[len(readSizes)-1])
	shard, seqs := streamSequences(b, ds, arn, readSizes[len(readSizes)-1])
	reader := stream.NewDynamoDBReader(ds)
	for _, n := range readSizes {
		r := stream.Range{StreamARN: arn, ShardID: shard, Start: seqs[0], End: seqs[n-1], BatchSize: n, Region: "us-east-1"}
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			benchRead(b, counter, r, reader.Read, minCalls(n, 1000), "GetShardIterator", "GetRecords")
		})
	}
}

func benchRead(b *testing.B, counter *testkit.Calls, r stream.Range, read func(context.Context, stream.Range) (stream.Result, error), floor int, ops ...string) {
	before := 0
	for _, op := range ops {
		before += counter.Count(op)
	}
	var res stream.Result
	for b.Loop() {
		var err error
		if res, err = read(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
	if len(res.Records) != r.BatchSize || len(res.Gaps) > 0 {
		b.Fatalf("read %d records with gaps %v, want %d and none", len(res.Records), res.Gaps, r.BatchSize)
	}
	sdk := -before
	for _, op := range ops {
		sdk += counter.Count(op)
	}
	if sdk != res.Calls*b.N {
		b.Fatalf("reader counted %d calls per read, the SDK saw %d", res.Calls, sdk/b.N)
	}
	b.ReportMetric(float64(res.Calls), "calls/read")
	b.ReportMetric(float64(floor), "min-calls/read")
	b.ReportMetric(float64(b.N*len(res.Records))/b.Elapsed().Seconds(), "records/s")
}

// createTable creates a table with a stream and writes n small items.
func createTable(b testing.TB, db *dynamodb.Client, n int) string {
	b.Helper()
	name, arn := testkit.Table(b, db)
	putItems(b, db, name, n, func(i int) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("item-%06d", i)}, "n": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(i)}}
	})
	return arn
}

// streamSequences reads the stream's only shard with the bare SDK until it has want
// records and returns their sequence numbers.
func streamSequences(b testing.TB, c *dynamodbstreams.Client, arn string, want int) (string, []string) {
	b.Helper()
	ctx := context.Background()
	d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	if err != nil || len(d.StreamDescription.Shards) != 1 {
		b.Fatalf("describe stream: %v (want one shard)", err)
	}
	shard := aws.ToString(d.StreamDescription.Shards[0].ShardId)
	it, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: &shard, ShardIteratorType: dstypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		b.Fatalf("get shard iterator: %v", err)
	}
	var seqs []string
	for next, calls := it.ShardIterator, 0; len(seqs) < want; calls++ {
		if next == nil || calls > want {
			b.Fatalf("stream gave %d records, want %d", len(seqs), want)
		}
		p, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: next})
		if err != nil {
			b.Fatalf("get records: %v", err)
		}
		for _, r := range p.Records {
			seqs = append(seqs, aws.ToString(r.Dynamodb.SequenceNumber))
		}
		next = p.NextShardIterator
	}
	return shard, seqs
}
