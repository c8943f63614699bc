package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// change is a write the test made, as the stream recorded it.
type change struct {
	event, id, seq string
}

// ddbTable is a table with a NEW_AND_OLD_IMAGES stream holding the test's writes.
type ddbTable struct {
	streamARN, shard string
	changes          []change
}

func streamsClient(t testing.TB, stack ...func(*middleware.Stack) error) *dynamodbstreams.Client {
	t.Helper()
	cfg := testkit.Config(t, testkit.DynamoDB, testkit.DynamoDBStreams)
	return dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.APIOptions = append(o.APIOptions, stack...) })
}

// newDDBTable creates the table, inserts n items, modifies and removes a few, and
// finds the sequence numbers the stream gave those writes.
func newDDBTable(t *testing.T, n int) ddbTable {
	t.Helper()
	db := dynamodb.NewFromConfig(testkit.Config(t, testkit.DynamoDB))
	name, streamARN := testkit.Table(t, db)
	wrote := writeItems(t, db, name, n)
	tb := ddbTable{streamARN: streamARN}
	tb.shard, tb.changes = readStream(t, streamsClient(t), tb.streamARN, len(wrote))
	for i, c := range tb.changes {
		if c.event != wrote[i].event || c.id != wrote[i].id {
			t.Fatalf("setup: stream record %d is %s %s, want %s %s", i, c.event, c.id, wrote[i].event, wrote[i].id)
		}
	}
	return tb
}

func itemID(i int) string { return fmt.Sprintf("item-%05d", i) }

// writeItems inserts n items, then modifies items 0-4 and removes items 5-9, returning
// the writes in order.
func writeItems(t *testing.T, db *dynamodb.Client, table string, n int) []change {
	ctx := context.Background()
	var wrote []change
	for from := 0; from < n; from += 25 {
		var reqs []ddb.WriteRequest
		for i := from; i < min(from+25, n); i++ {
			item := map[string]ddb.AttributeValue{"id": &ddb.AttributeValueMemberS{Value: itemID(i)}, "n": &ddb.AttributeValueMemberN{Value: fmt.Sprint(i)}}
			reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: item}})
			wrote = append(wrote, change{event: "INSERT", id: itemID(i)})
		}
		res, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{table: reqs}})
		if err != nil || len(res.UnprocessedItems) > 0 {
			t.Fatalf("batch write: %v (%d unprocessed)", err, len(res.UnprocessedItems))
		}
	}
	for i := 0; i < 10; i++ {
		key := map[string]ddb.AttributeValue{"id": &ddb.AttributeValueMemberS{Value: itemID(i)}}
		var err error
		if i < 5 {
			_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key, UpdateExpression: aws.String("SET n = n + :one"),
				ExpressionAttributeValues: map[string]ddb.AttributeValue{":one": &ddb.AttributeValueMemberN{Value: "1"}}})
			wrote = append(wrote, change{event: "MODIFY", id: itemID(i)})
		} else {
			_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key})
			wrote = append(wrote, change{event: "REMOVE", id: itemID(i)})
		}
		if err != nil {
			t.Fatalf("write item %d: %v", i, err)
		}
	}
	return wrote
}

// readStream reads the stream's only shard from TRIM_HORIZON with the bare SDK until
// it has want records.
func readStream(t *testing.T, c *dynamodbstreams.Client, arn string, want int) (string, []change) {
	ctx := context.Background()
	d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil || len(d.StreamDescription.Shards) != 1 {
		t.Fatalf("describe stream: %v (want one shard, got %d)", err, len(d.StreamDescription.Shards))
	}
	shard := aws.ToString(d.StreamDescription.Shards[0].ShardId)
	it, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("get shard iterator: %v", err)
	}
	var out []change
	for next, calls := it.ShardIterator, 0; len(out) < want; calls++ {
		if next == nil || calls == 200 {
			t.Fatalf("setup: stream gave %d records, want %d", len(out), want)
		}
		p, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: next})
		if err != nil {
			t.Fatalf("get records: %v", err)
		}
		for _, r := range p.Records {
			id := r.Dynamodb.Keys["id"].(*types.AttributeValueMemberS).Value
			out = append(out, change{event: string(r.EventName), id: id, seq: aws.ToString(r.Dynamodb.SequenceNumber)})
		}
		next = p.NextShardIterator
	}
	return shard, out
}

func (tb ddbTable) rangeOf(from, to int) Range {
	return Range{StreamARN: tb.streamARN, ShardID: tb.shard, Start: tb.changes[from].seq, End: tb.changes[to].seq, BatchSize: to - from + 1, Region: "us-east-1"}
}

// assertChanges checks records against the writes, including the images each kind of
// change must carry.
func assertChanges(t *testing.T, got []batch.Record, want []change, r Range) {
	t.Helper()
	for i, w := range want {
		if i >= len(got) {
			t.Fatalf("got %d records, want %d", len(got), len(want))
		}
		g := got[i].DynamoDB
		if g.Change.SequenceNumber != w.seq || g.EventName != w.event || g.Change.Keys["id"].String() != w.id {
			t.Fatalf("record %d: got %s %s %s, want %s %s %s", i, g.Change.SequenceNumber, g.EventName, g.Change.Keys["id"].String(), w.seq, w.event, w.id)
		}
		hasOld, hasNew := g.Change.OldImage != nil, g.Change.NewImage != nil
		if hasOld != (w.event != "INSERT") || hasNew != (w.event != "REMOVE") || g.EventSourceArn != r.StreamARN ||
			g.EventSource != batch.EventSourceDynamoDB || g.Change.StreamViewType != "NEW_AND_OLD_IMAGES" {
			t.Fatalf("record %d (%s): old image %v, new image %v, source %s %s, view %s", i, w.event, hasOld, hasNew, g.EventSource, g.EventSourceArn, g.Change.StreamViewType)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
}

func TestDynamoDBReadStream(t *testing.T) {
	tb := newDDBTable(t, 1100)
	last := len(tb.changes) - 1
	expired := func(*dynamodbstreams.GetRecordsInput) (any, error) {
		return nil, &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	}
	throttled := func(*dynamodbstreams.GetRecordsInput) (any, error) {
		return nil, &types.LimitExceededException{Message: aws.String("Rate exceeded")}
	}
	empty := func(in *dynamodbstreams.GetRecordsInput) (any, error) {
		return &dynamodbstreams.GetRecordsOutput{NextShardIterator: in.ShardIterator, Records: []types.Record{}}, nil
	}
	cases := map[string]struct {
		stack    []func(*middleware.Stack) error
		limit    int32
		from, to int
		want     []change
		gaps     []batch.Gap
		calls    int
		waits    []time.Duration
	}{
		"two pages with modify and remove": {from: 3, to: last, want: tb.changes[3:], calls: 3},
		"longer than the batch size":       {from: 1, to: 1099, want: tb.changes[1:1100], calls: 3},
		"expired mid-range":                {stack: []func(*middleware.Stack) error{testkit.Nth(expired, 2)}, limit: 100, from: 50, to: 349, want: tb.changes[50:350], calls: 6},
		"throttled":                        {stack: []func(*middleware.Stack) error{testkit.Nth(throttled, 2, 3)}, limit: 100, from: 0, to: 199, want: tb.changes[:200], calls: 5, waits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}},
		"empty page mid-range":             {stack: []func(*middleware.Stack) error{testkit.Nth(empty, 2)}, limit: 100, from: 0, to: 199, want: tb.changes[:200], calls: 4},
		"start trimmed": {stack: []func(*middleware.Stack) error{(&testkit.Retention{First: tb.changes[40].seq}).Add}, from: 10, to: 90, want: tb.changes[40:91], calls: 3,
			gaps: []batch.Gap{{From: tb.changes[10].seq, To: seqAdd(tb.changes[40].seq, -1), Reason: batch.GapTrimmed}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rec := &recordingSleep{}
			r := tb.rangeOf(c.from, c.to)
			res, err := NewDynamoDBReader(streamsClient(t, c.stack...), func(o *DynamoDBOptions) {
				o.Limit, o.Backoff.Sleep, o.Backoff.Jitter = c.limit, rec.sleep, noJitter
			}).Read(context.Background(), r)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			assertChanges(t, res.Records, c.want, r)
			if !slices.Equal(res.Gaps, c.gaps) || res.Calls != c.calls || !slices.Equal(rec.waits, c.waits) {
				t.Errorf("got gaps %+v calls %v waits %v, want %+v %v %v", res.Gaps, res.Calls, rec.waits, c.gaps, c.calls, c.waits)
			}
		})
	}
}

func TestDynamoDBReadStreamMissing(t *testing.T) {
	r := Range{StreamARN: "arn:aws:dynamodb:us-east-1:000000000000:table/" + testkit.Name(t, "gone") + "/stream/2024-01-01T00:00:00.000",
		ShardID: "shardId-00000001573689847184-864758bb", Start: "800000000003126276362", End: "800000000003126276462"}
	_, err := NewDynamoDBReader(streamsClient(t)).Read(context.Background(), r)
	var u *UnreadableError
	if !errors.As(err, &u) || u.Reason != UnreadableNotFound {
		t.Fatalf("got %v, want *UnreadableError %s", err, UnreadableNotFound)
	}
}
