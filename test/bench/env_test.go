package bench_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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

// itemWriters is how many BatchWriteItem calls putItems keeps in flight. DynamoDB
// Local took 100,000 items of 600 B in 29 s this way on the shared 2-core machine
// (5,000 in 3.7 s with a cold JVM).
const itemWriters = 8

// putItems writes items 0..n-1 of a table, made by item, 25 to a BatchWriteItem call
// (its most), itemWriters calls at a time.
func putItems(b testing.TB, db *dynamodb.Client, table string, n int, item func(i int) map[string]ddbtypes.AttributeValue) {
	b.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range itemWriters {
		wg.Go(func() {
			for from := w * 25; from < n; from += 25 * itemWriters {
				reqs := make([]ddbtypes.WriteRequest, 0, 25)
				for i := from; i < min(from+25, n); i++ {
					reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: item(i)}})
				}
				if err := batchWrite(db, table, reqs); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
}

// batchWrite writes reqs, sending again what DynamoDB left unprocessed (a throttled
// table does; DynamoDB Local has not been seen to).
func batchWrite(db *dynamodb.Client, table string, reqs []ddbtypes.WriteRequest) error {
	for tries := 0; len(reqs) > 0; tries++ {
		if tries == 10 {
			return fmt.Errorf("batch write %s: %d items still unprocessed after %d calls", table, len(reqs), tries)
		}
		res, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{table: reqs}})
		if err != nil {
			return fmt.Errorf("batch write %s: %w", table, err)
		}
		reqs = res.UnprocessedItems[table]
	}
	return nil
}

// destinations are an archive bucket and a DLQ, as hydrate needs them.
type destinations struct {
	bucket, dlqURL, bus string
	s3                  *s3.Client
}

func createDestinations(b testing.TB, cfg aws.Config) destinations {
	b.Helper()
	d := destinations{s3: awsenv.S3(cfg), dlqURL: testkit.Queue(b, sqs.NewFromConfig(cfg), "dlq", nil)}
	d.bucket = testkit.Bucket(b, d.s3, "b")
	d.bus = testkit.Name(b, "bus")
	if _, err := eventbridge.NewFromConfig(cfg).CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: &d.bus}); err != nil {
		b.Fatalf("create event bus: %v", err)
	}
	return d
}

// archives returns the sizes of the archive objects under prefix, by key; claim-check
// copies (under <prefix>/claim-check/) are not archive objects.
func (d destinations) archives(b testing.TB, prefix string) map[string]int64 {
	b.Helper()
	objs := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(d.s3, &s3.ListObjectsV2Input{Bucket: &d.bucket, Prefix: aws.String(prefix + "/")})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			b.Fatalf("list %s/%s: %v", d.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if key := aws.ToString(o.Key); !strings.Contains(key, "/claim-check/") {
				objs[key] = aws.ToInt64(o.Size)
			}
		}
	}
	return objs
}

// archived is what an archive object held: its size as stored (gzip) and as JSON
// Lines (before compression), and its record lines.
type archived struct{ stored, json, lines int64 }

// newArchive returns the one archive object under prefix that is not in before. It
// fails b when the object's header and its record lines disagree.
func (d destinations) newArchive(b testing.TB, prefix string, before map[string]int64) archived {
	b.Helper()
	var key string
	var stored int64
	for k, size := range d.archives(b, prefix) {
		if _, old := before[k]; !old {
			if key != "" {
				b.Fatalf("two new archive objects: %s and %s", key, k)
			}
			key, stored = k, size
		}
	}
	if key == "" {
		b.Fatalf("no new archive object under %s/%s", d.bucket, prefix)
	}
	a, err := d.readArchive(key)
	if err != nil {
		b.Fatal(err)
	}
	a.stored = stored
	return a
}

// readArchive reads an archive object through, counting its JSON bytes and record
// lines, and checks the lines against the header's count.
func (d destinations) readArchive(key string) (archived, error) {
	out, err := d.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		return archived{}, fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	zr, err := gzip.NewReader(out.Body)
	if err != nil {
		return archived{}, fmt.Errorf("gunzip %s: %w", key, err)
	}
	r := bufio.NewReaderSize(zr, 1<<20)
	var header struct {
		Records int64 `json:"records"`
	}
	line, err := r.ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &header)
	}
	lines := &lineCounter{}
	var a archived
	if err == nil {
		a.json, err = io.Copy(lines, r)
	}
	if err != nil {
		return archived{}, fmt.Errorf("read %s: %w", key, err)
	}
	if a.json, a.lines = a.json+int64(len(line)), lines.n; a.lines != header.Records {
		return archived{}, fmt.Errorf("%s: %d record lines, header says %d", key, a.lines, header.Records)
	}
	return a, nil
}

// lineCounter counts the newlines written to it.
type lineCounter struct{ n int64 }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}
