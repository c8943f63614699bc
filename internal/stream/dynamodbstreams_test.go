package stream

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// ddbSeqAt is record i's DynamoDB-style sequence number.
func ddbSeqAt(i int) string { return seqAdd("800000000003126276362", int64(i)*100) }

func ddbRecords(n int) []types.Record {
	recs := make([]types.Record, n)
	for i := range recs {
		recs[i] = types.Record{
			AwsRegion: aws.String("us-east-2"), EventID: aws.String("ev-" + strconv.Itoa(i)), EventName: types.OperationTypeInsert,
			EventSource: aws.String("aws:dynamodb"), EventVersion: aws.String("1.1"),
			Dynamodb: &types.StreamRecord{
				Keys:           map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: strconv.Itoa(i)}},
				SequenceNumber: aws.String(ddbSeqAt(i)), SizeBytes: aws.Int64(10), StreamViewType: types.StreamViewTypeNewAndOldImages,
			},
		}
	}
	return recs
}

// ddbShard serves recs by index from iterators "it-N"; trimmedAt makes iterators at or
// below that index answer TrimmedDataAccessException, the first time GetRecords uses
// one (as when records age out between GetShardIterator and GetRecords).
func ddbShard(recs []types.Record, trimmedAt int, iterators *[]string) *testkit.FakeStreams {
	trimmed := false
	return &testkit.FakeStreams{
		GetShardIteratorFunc: func(_ context.Context, in *dynamodbstreams.GetShardIteratorInput) (*dynamodbstreams.GetShardIteratorOutput, error) {
			*iterators = append(*iterators, string(in.ShardIteratorType)+":"+aws.ToString(in.SequenceNumber))
			i := 0
			if in.ShardIteratorType == types.ShardIteratorTypeTrimHorizon {
				i = trimmedAt
			}
			for in.SequenceNumber != nil && i < len(recs) {
				c := CompareSequence(aws.ToString(recs[i].Dynamodb.SequenceNumber), *in.SequenceNumber)
				if c > 0 || (c == 0 && in.ShardIteratorType == types.ShardIteratorTypeAtSequenceNumber) {
					break
				}
				i++
			}
			return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String("it-" + strconv.Itoa(i))}, nil
		},
		GetRecordsFunc: func(_ context.Context, in *dynamodbstreams.GetRecordsInput) (*dynamodbstreams.GetRecordsOutput, error) {
			i, _ := strconv.Atoi(strings.TrimPrefix(aws.ToString(in.ShardIterator), "it-"))
			if i < trimmedAt && !trimmed {
				trimmed = true
				return nil, &types.TrimmedDataAccessException{Message: aws.String("trimmed")}
			}
			j := min(i+int(aws.ToInt32(in.Limit)), len(recs))
			return &dynamodbstreams.GetRecordsOutput{Records: recs[i:j], NextShardIterator: aws.String("it-" + strconv.Itoa(j))}, nil
		},
	}
}

func TestDynamoDBRead(t *testing.T) {
	arn := "arn:aws:dynamodb:us-east-2:123456789012:table/t/stream/2019-11-14T00:04:06.388"
	rng := func(i, j int) Range {
		return Range{StreamARN: arn, ShardID: "shardId-00000001573689847184-864758bb", Start: ddbSeqAt(i), End: ddbSeqAt(j), Region: "us-east-2"}
	}
	cases := map[string]struct {
		n, trimmedAt int
		r            Range
		from, to     int // records wanted, inclusive
		gaps         []batch.Gap
		iterators    []string
		calls        int
	}{
		"several pages": {
			n: 2500, r: rng(10, 2400), from: 10, to: 2400, calls: 4,
			iterators: []string{"AT_SEQUENCE_NUMBER:" + ddbSeqAt(10)},
		},
		"trimmed when first read": {
			n: 50, trimmedAt: 20, r: rng(10, 40), from: 20, to: 40, calls: 4,
			gaps:      []batch.Gap{{From: ddbSeqAt(10), To: seqAdd(ddbSeqAt(20), -1), Reason: batch.GapTrimmed}},
			iterators: []string{"AT_SEQUENCE_NUMBER:" + ddbSeqAt(10), "TRIM_HORIZON:"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var its []string
			res, err := NewDynamoDBReader(ddbShard(ddbRecords(c.n), c.trimmedAt, &its)).Read(context.Background(), c.r)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			var want []string
			for i := c.from; i <= c.to; i++ {
				want = append(want, ddbSeqAt(i))
			}
			assertSeqs(t, seqs(res.Records), want)
			if !reflect.DeepEqual(res.Gaps, c.gaps) {
				t.Errorf("gaps: got %+v, want %+v", res.Gaps, c.gaps)
			}
			if !reflect.DeepEqual(its, c.iterators) {
				t.Errorf("iterators: got %v, want %v", its, c.iterators)
			}
			if res.Calls != c.calls {
				t.Errorf("calls: got %v, want %v", res.Calls, c.calls)
			}
		})
	}
}

func TestDynamoDBRecordShape(t *testing.T) {
	rec := types.Record{
		AwsRegion: aws.String("us-east-2"), EventID: aws.String("7de3041dd709b024af6f29e4fa13d34c"), EventName: types.OperationTypeRemove,
		EventSource: aws.String("aws:dynamodb"), EventVersion: aws.String("1.1"),
		UserIdentity: &types.Identity{Type: aws.String("Service"), PrincipalId: aws.String("dynamodb.amazonaws.com")},
		Dynamodb: &types.StreamRecord{
			ApproximateCreationDateTime: aws.Time(time.Unix(1573690399, 0)),
			Keys:                        map[string]types.AttributeValue{"id": &types.AttributeValueMemberN{Value: "101"}},
			OldImage: map[string]types.AttributeValue{
				"id": &types.AttributeValueMemberN{Value: "101"},
				"s":  &types.AttributeValueMemberS{Value: "x"},
				"b":  &types.AttributeValueMemberB{Value: []byte{1, 2}},
				"t":  &types.AttributeValueMemberBOOL{Value: true},
				"z":  &types.AttributeValueMemberNULL{Value: true},
				"m":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "in"}, &types.AttributeValueMemberM{}}}}},
				"ss": &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
				"ns": &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
				"bs": &types.AttributeValueMemberBS{Value: [][]byte{{3}, {4}}},
				"u":  &types.UnknownUnionMember{Tag: "X", Value: []byte(`{}`)},
			},
			SequenceNumber: aws.String("800000000003126276362"), SizeBytes: aws.Int64(38), StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	}
	got, err := json.Marshal(batch.Record{DynamoDB: new(dynamoDBEventRecord(&rec, Range{StreamARN: "arn:s", Region: "eu-west-1"}))})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	want := `{"awsRegion":"us-east-2","dynamodb":{"ApproximateCreationDateTime":1573690399,"Keys":{"id":{"N":"101"}},` +
		`"OldImage":{"b":{"B":"AQI="},"bs":{"BS":["Aw==","BA=="]},"id":{"N":"101"},"m":{"M":{"l":{"L":[{"S":"in"},{"M":{}}]}}},` +
		`"ns":{"NS":["1","2.5"]},"s":{"S":"x"},"ss":{"SS":["a","b"]},"t":{"BOOL":true},"u":{"NULL":true},"z":{"NULL":true}},` +
		`"SequenceNumber":"800000000003126276362","SizeBytes":38,"StreamViewType":"NEW_AND_OLD_IMAGES"},` +
		`"eventID":"7de3041dd709b024af6f29e4fa13d34c","eventName":"REMOVE","eventSource":"aws:dynamodb","eventVersion":"1.1",` +
		`"eventSourceARN":"arn:s","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`
	if compact(t, got) != compact(t, []byte(want)) {
		t.Errorf("got %s, want %s", compact(t, got), compact(t, []byte(want)))
	}
}

// compact re-encodes JSON so that layout and key order do not matter.
func compact(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
