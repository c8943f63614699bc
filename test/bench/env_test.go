package bench_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// shardRecords is what one shard took, in stream order.
type shardRecords struct {
	shard string
	seqs  []string
	bytes int64
}

// putRecords writes n records of size bytes to a one-shard stream and returns them.
func putRecords(b testing.TB, k *kinesis.Client, arn string, n, size int) shardRecords {
	b.Helper()
	var w shardRecords
	for from := 0; from < n; from += 500 {
		var entries []ktypes.PutRecordsRequestEntry
		for i := from; i < min(from+500, n); i++ {
			data := fmt.Appendf(nil, `{"i":%d,"pad":"%0*d"}`, i, max(size-20, 1), i)
			entries = append(entries, ktypes.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprint("pk-", i%97))})
			w.bytes += int64(len(data))
		}
		out, err := k.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamARN: &arn, Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
			b.Fatalf("put records: %v (failed %d)", err, aws.ToInt32(out.FailedRecordCount))
		}
		for _, r := range out.Records {
			w.shard = aws.ToString(r.ShardId)
			w.seqs = append(w.seqs, aws.ToString(r.SequenceNumber))
		}
	}
	return w
}

// destinations are an archive bucket and a DLQ, as hydrate needs them.
type destinations struct {
	bucket, dlqURL, bus string
}

func createDestinations(b testing.TB, cfg aws.Config) destinations {
	b.Helper()
	d := destinations{bucket: testkit.Bucket(b, awsenv.S3(cfg), "b"), dlqURL: testkit.Queue(b, sqs.NewFromConfig(cfg), "dlq", nil)}
	d.bus = testkit.Name(b, "bus")
	if _, err := eventbridge.NewFromConfig(cfg).CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: &d.bus}); err != nil {
		b.Fatalf("create event bus: %v", err)
	}
	return d
}
