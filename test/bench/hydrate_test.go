package bench_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/settings"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

const topicARN = "arn:aws:sns:us-east-1:000000000000:streamdlq-on-failure"

// largeRecords and largeSize make the 10,000-record / 6 MB batch of the memory floor;
// rangeRecords of the same size make its 100,000-record / 60 MB range (a failed
// range can hold many times its batch: filter criteria, parallelization).
const (
	largeRecords = 10_000
	largeSize    = 600
	rangeRecords = 100_000
)

// failedBatch is one shard's records and the on-failure records naming them.
type failedBatch struct {
	source    string // "kinesis" or "dynamodb", as onfailure.Batch has it
	streamARN string
	recs      shardRecords
}

// onFailure returns the SNS event for the batch's first n records. Each day gives a
// distinct failure (the archive key is dated by the first record's arrival), so
// repeated iterations archive and queue anew instead of finding a duplicate.
func (f failedBatch) onFailure(n, day int) []byte {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, day)
	rec := onfailure.Record(onfailure.Batch{Source: f.source, StreamARN: f.streamARN, ShardID: f.recs.shard,
		Start: f.recs.seqs[0], End: f.recs.seqs[n-1], BatchSize: n, Time: at})
	return onfailure.SNSEvent(topicARN, rec)
}

func newFailedBatch(b *testing.B, cfg aws.Config, n, size int) failedBatch {
	k := kinesis.NewFromConfig(cfg)
	arn := testkit.Stream(b, k, 1)
	return failedBatch{source: "kinesis", streamARN: arn, recs: putRecords(b, k, arn, n, size)}
}

// newDynamoDBRange writes n items of size bytes each (DynamoDB's item size: attribute
// names and values) to a new table and returns them as its stream's records.
// DynamoDB Local keeps a table's stream in one shard (streamSequences checks), so
// the range is that shard's first n records.
func newDynamoDBRange(b *testing.B, cfg aws.Config, n, size int) failedBatch {
	db := dynamodb.NewFromConfig(cfg)
	table, arn := testkit.Table(b, db)
	putItems(b, db, table, n, func(i int) map[string]ddbtypes.AttributeValue { return rangeItem(i, size) })
	shard, seqs := streamSequences(b, dynamodbstreams.NewFromConfig(cfg), arn, n)
	return failedBatch{source: "dynamodb", streamARN: arn, recs: shardRecords{shard: shard, seqs: seqs, bytes: int64(n) * int64(size)}}
}

// rangeItem is item i of size bytes: its key and a pad of random base64 text, which
// gzip shrinks by only a quarter, so the spool file and the upload carry nearly the
// whole range rather than a few kilobytes of repeated digits.
func rangeItem(i, size int) map[string]ddbtypes.AttributeValue {
	id := fmt.Sprintf("item-%06d", i)
	padLen := max(size-len("id")-len(id)-len("pad"), 1)
	raw := make([]byte, base64.StdEncoding.DecodedLen(padLen)+3)
	r := rand.New(rand.NewPCG(uint64(i), 13))
	for j := range raw {
		raw[j] = byte(r.Uint32())
	}
	pad := base64.StdEncoding.EncodeToString(raw)[:padLen]
	return map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}, "pad": &ddbtypes.AttributeValueMemberS{Value: pad}}
}

// BenchmarkHydrate runs failures end to end on the local AWS: the hydrate handler
// reads the records back, archives them to S3, queues them on the DLQ (a claim check
// for the large batch) and announces them on an event bus. It reports failures/s and
// records/s in process, what a failure costs as a Lambda function (costMeter), and
// the peak RSS of the built bootstrap under the Runtime API hydrating the large batch
// and a 100,000-record DynamoDB Streams range.
func BenchmarkHydrate(b *testing.B) {
	cfg := testkit.Config(b, testkit.Kinesis, testkit.DynamoDB, testkit.DynamoDBStreams, testkit.Moto)
	bill := &billing{}
	cfg.APIOptions = append(cfg.APIOptions, bill.add)
	// kinesis-local slows down as a shard grows, so the small batches get a small
	// stream of their own rather than the start of the large one.
	// Writing the large batch takes kinesis-local a while: only when a sub-benchmark
	// that needs it runs.
	small := sync.OnceValue(func() failedBatch { return newFailedBatch(b, cfg, 100, largeSize) })
	large := sync.OnceValue(func() failedBatch { return newFailedBatch(b, cfg, largeRecords, largeSize) })
	dest := createDestinations(b, cfg)
	c := hydrate.Config{ArchiveBucket: dest.bucket, ArchivePrefix: "bench", DLQURL: dest.dlqURL, EventBus: dest.bus}
	c.Allowed, _ = hydrate.ParseAllowlist("arn:aws:kinesis:us-east-1:000000000000:stream/*")
	day := 0
	for _, batch := range []struct {
		n int
		f func() failedBatch
	}{{10, small}, {largeRecords, large}} {
		n := batch.n
		b.Run(fmt.Sprintf("e2e-records=%d", n), func(b *testing.B) {
			h := hydrate.NewFromConfig(cfg, c, false)
			f := batch.f()
			cost := startCost(bill)
			for b.Loop() {
				day++
				if _, err := h.Handle(context.Background(), f.onFailure(n, day)); err != nil {
					b.Fatalf("Handle: %v", err)
				}
			}
			cost.report(b, b.N)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "failures/s")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
	// The 100,000-record range: DynamoDB Local takes it in about half a minute;
	// kinesis-local had not after 49 minutes (scripts/bench.sh runs that one only
	// when asked).
	ddbRange := sync.OnceValue(func() failedBatch { return newDynamoDBRange(b, cfg, rangeRecords, largeSize) })
	huge := sync.OnceValue(func() failedBatch { return newFailedBatch(b, cfg, rangeRecords, largeSize) })
	for _, batch := range []struct {
		name string
		n    int
		f    func() failedBatch
	}{
		{"rss", largeRecords, large}, {"rss", rangeRecords, huge},
		// The range's first 10,000 records too: whether the peak grows with the range.
		{"rss-dynamodb", largeRecords, ddbRange}, {"rss-dynamodb", rangeRecords, ddbRange},
	} {
		b.Run(fmt.Sprintf("%s-records=%d", batch.name, batch.n), func(b *testing.B) {
			benchRSS(b, batch.f(), batch.n, dest, &day)
		})
	}
}

// benchRSS reports the peak RSS and CPU time of the built bootstrap hydrating the
// first n records of f, once per iteration.
func benchRSS(b *testing.B, f failedBatch, n int, dest destinations, day *int) {
	bin := buildBootstrap(b, "hydrate")
	env := append(hostEnv(), "STREAMDLQ_ALLOWED_STREAMS="+f.streamARN, "STREAMDLQ_ARCHIVE_BUCKET="+dest.bucket,
		"STREAMDLQ_ARCHIVE_PREFIX=rss", "STREAMDLQ_DLQ_URL="+dest.dlqURL,
		// The local AWS has no event source mappings to vouch for the failure.
		settings.CheckMappings.Env+"=false")
	// To see what a different soft memory limit trades (RSS against GC CPU), set
	// STREAMDLQ_BENCH_GOMEMLIMIT: the bootstrap gets it as GOMEMLIMIT, which
	// overrides the limit it derives from its memory size.
	if v := os.Getenv("STREAMDLQ_BENCH_GOMEMLIMIT"); v != "" {
		env = append(env, "GOMEMLIMIT="+v)
	}
	// STREAMDLQ_BENCH_BASELINE_BOOTSTRAP names a hydrate bootstrap built elsewhere (at
	// an earlier commit: go build -tags lambda.norpc -trimpath -ldflags='-s -w'
	// ./cmd/hydrate). It is measured too, on the same records, after each invocation
	// of this tree's, and reported as baseline-*: a before and after without writing
	// the records twice.
	baseline := os.Getenv("STREAMDLQ_BENCH_BASELINE_BOOTSTRAP")
	var peak, cpu, basePeak, baseCPU float64
	var got archived
	for b.Loop() {
		*day++
		before := dest.archives(b, "rss")
		p := peakRSS(b, bin, env, f.onFailure(n, *day))
		peak, cpu = max(peak, p.rssMB), cpu+p.cpuMS
		if got = dest.newArchive(b, "rss", before); got.lines != int64(n) {
			b.Fatalf("archived %d records, want %d", got.lines, n)
		}
		if baseline != "" {
			*day++
			p := peakRSS(b, baseline, env, f.onFailure(n, *day))
			basePeak, baseCPU = max(basePeak, p.rssMB), baseCPU+p.cpuMS
		}
	}
	b.ReportMetric(peak, "peak-rss-MB")
	b.ReportMetric(cpu/float64(b.N), "cpu-ms/invocation")
	if baseline != "" {
		b.ReportMetric(basePeak, "baseline-peak-rss-MB")
		b.ReportMetric(baseCPU/float64(b.N), "baseline-cpu-ms/invocation")
	}
	b.ReportMetric(float64(f.recs.bytes)*float64(n)/float64(len(f.recs.seqs))/(1<<20), "payload-MB")
	// What the archive object holds of it: JSON Lines in Lambda's record shape (a
	// DynamoDB record's JSON is larger than its item), and gzipped as stored.
	b.ReportMetric(float64(got.json)/(1<<20), "archive-json-MB")
	b.ReportMetric(float64(got.stored)/(1<<20), "archive-gz-MB")
}
