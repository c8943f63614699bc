package kinesislimit

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// TestTransportAgainstKinesisLocal: what the layer reports as written is exactly what
// the stream holds, refusals carry the throttle code, and nothing refused is written.
func TestTransportAgainstKinesisLocal(t *testing.T) {
	plain := kinesis.NewFromConfig(testkit.Config(t, testkit.Kinesis))
	arn := testkit.Stream(t, plain, 1)
	shards := listShards(t, plain, arn)
	tr := &Transport{
		Limiter: NewLimiter(shards, nil),
		Refuse: func(key string, _ []byte) string {
			if key == "refuse-me" {
				return "InternalFailure"
			}
			return ""
		},
	}
	limited := kinesis.NewFromConfig(testkit.Config(t, testkit.Kinesis), func(o *kinesis.Options) { o.HTTPClient = &http.Client{Transport: tr} })
	ok := map[string]bool{}
	refused := 0
	for call := range 3 {
		in := &kinesis.PutRecordsInput{StreamARN: &arn}
		for i := range 500 {
			key := fmt.Sprintf("k%d", i)
			if i%100 == 0 {
				key = "refuse-me"
			}
			in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: fmt.Appendf(nil, "%d-%d", call, i)})
		}
		out, err := limited.PutRecords(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for i, r := range out.Records {
			code := aws.ToString(r.ErrorCode)
			switch {
			case code == "":
				ok[string(in.Records[i].Data)] = true
			case aws.ToString(in.Records[i].PartitionKey) == "refuse-me" && code != "InternalFailure",
				aws.ToString(in.Records[i].PartitionKey) != "refuse-me" && code != "ProvisionedThroughputExceededException":
				t.Errorf("record %d: got %s", i, code)
			}
			if code != "" {
				failed++
			}
		}
		refused += failed
		if int(aws.ToInt32(out.FailedRecordCount)) != failed {
			t.Errorf("got FailedRecordCount %d, want %d", aws.ToInt32(out.FailedRecordCount), failed)
		}
	}
	if len(ok) > RecordsPerSecond*3 || len(ok)+refused != 1500 {
		t.Errorf("got %d written + %d refused, want 1500 in all", len(ok), refused)
	}
	got := readAll(t, plain, arn, shards[0].ID)
	if len(got) != len(ok) {
		t.Errorf("got %d records in the stream, want %d", len(got), len(ok))
	}
	for _, d := range got {
		if !ok[d] {
			t.Errorf("record %s is in the stream but was reported refused", d)
		}
	}
}

// TestShardOfMatchesKinesisLocal: the limiter charges each record to the shard the
// stream puts it on.
func TestShardOfMatchesKinesisLocal(t *testing.T) {
	c := kinesis.NewFromConfig(testkit.Config(t, testkit.Kinesis))
	arn := testkit.Stream(t, c, 4)
	lim := NewLimiter(listShards(t, c, arn), nil)
	in := &kinesis.PutRecordsInput{StreamARN: &arn}
	for i := range 200 {
		in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("key-%d", i)), Data: []byte("x")})
	}
	out, err := c.PutRecords(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range out.Records {
		want := aws.ToString(r.ShardId)
		if got := lim.shards[lim.ShardOf(aws.ToString(in.Records[i].PartitionKey), "")].ID; got != want {
			t.Errorf("key-%d: got %s, want %s", i, got, want)
		}
	}
}

func listShards(t *testing.T, c *kinesis.Client, arn string) []Shard {
	t.Helper()
	out, err := c.ListShards(context.Background(), &kinesis.ListShardsInput{StreamARN: &arn})
	if err != nil {
		t.Fatal(err)
	}
	var shards []Shard
	for _, s := range out.Shards {
		sh, err := ParseShard(aws.ToString(s.ShardId), aws.ToString(s.HashKeyRange.StartingHashKey), aws.ToString(s.HashKeyRange.EndingHashKey))
		if err != nil {
			t.Fatal(err)
		}
		shards = append(shards, sh)
	}
	return shards
}

func readAll(t *testing.T, c *kinesis.Client, arn, shard string) []string {
	t.Helper()
	ctx := context.Background()
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: &arn, ShardId: &shard, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for iter := it.ShardIterator; iter != nil; {
		page, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: &arn})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			out = append(out, string(r.Data))
		}
		if len(page.Records) == 0 && aws.ToInt64(page.MillisBehindLatest) == 0 {
			break
		}
		iter = page.NextShardIterator
	}
	return out
}
