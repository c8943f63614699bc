package archive

import (
	stdgzip "compress/gzip"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	kgzip "github.com/klauspost/compress/gzip"
)

// Gzip writers compared by BenchmarkEncode; "archive" is the one the archive uses
// (defaultGzip), which the floors are measured on.
var gzips = map[string]func() compressor{
	"archive":           func() compressor { return defaultGzip.pool.New().(compressor) },
	"klauspost-default": func() compressor { return kgzip.NewWriter(nil) },
	"klauspost-speed": func() compressor {
		w, _ := kgzip.NewWriterLevel(nil, kgzip.BestSpeed)
		return w
	},
	"klauspost-3": func() compressor {
		w, _ := kgzip.NewWriterLevel(nil, 3)
		return w
	},
	"stdlib-default": func() compressor { return stdgzip.NewWriter(nil) },
	"stdlib-speed": func() compressor {
		w, _ := stdgzip.NewWriterLevel(nil, stdgzip.BestSpeed)
		return w
	},
}

func payloadBytes(doc *Document) int64 {
	var n int64
	for _, r := range doc.Records {
		n += int64(r.PayloadSize())
	}
	return n
}

// reportPerRecord adds allocs/record, records/s and MB/cpu-s metrics for a loop over
// b.N documents of n records of payload bytes. MB/s (from SetBytes) is payload per
// wall-clock second; MB/cpu-s divides by the CPU time the process used instead,
// which stays meaningful on a shared, loaded machine.
//
// written is the JSON text one run produces, before compression: json-MB/cpu-s and
// records/cpu-s are the floors' figures, since a DynamoDB item's SizeBytes is a
// fraction of the JSON its attribute values are written as. 0 skips them.
func reportPerRecord(b *testing.B, n int, payload, written int64, run func()) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu := cpuTime()
	b.SetBytes(payload)
	b.ResetTimer()
	for range b.N {
		run()
	}
	b.StopTimer()
	cpu = cpuTime() - cpu
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*n), "allocs/record")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(payload)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	if written > 0 {
		b.ReportMetric(float64(written)*float64(b.N)/1e6/cpu.Seconds(), "json-MB/cpu-s")
		b.ReportMetric(float64(b.N*n)/cpu.Seconds(), "records/cpu-s")
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncode measures records -> archive object (JSON Lines + gzip, per gzip
// implementation) and records -> DLQ message body, with 1,000 records of ~600 bytes
// per document (DynamoDB: 1,000 ~150-byte images).
func BenchmarkEncode(b *testing.B) {
	docs := map[string]*Document{"kinesis": kinesisDoc(1000, 600), "dynamodb": dynamoDBDoc(1000)}
	for shape, doc := range docs {
		for name, newWriter := range gzips {
			b.Run("object/"+shape+"/"+name, func(b *testing.B) {
				g := newGzipper(newWriter)
				obj, err := g.compress(doc)
				if err != nil {
					b.Fatal(err)
				}
				raw, _ := encodedSize(doc, true)
				reportPerRecord(b, len(doc.Records), payloadBytes(doc), int64(raw), func() { _, _ = g.compress(doc) })
				b.ReportMetric(float64(obj.size)/float64(raw), "ratio")
			})
		}
		b.Run("message/"+shape, func(b *testing.B) {
			size, _ := encodedSize(doc, false)
			reportPerRecord(b, len(doc.Records), payloadBytes(doc), int64(size), func() { _, _ = inlineBody(doc, size) })
		})
	}
	// What the hand-written Kinesis encoder saves over encoding/json.
	b.Run("records/kinesis/encoding-json", func(b *testing.B) {
		doc := docs["kinesis"]
		var w sliceWriter
		enc := json.NewEncoder(&w)
		reportPerRecord(b, len(doc.Records), payloadBytes(doc), 0, func() {
			w.b = w.b[:0]
			for i := range doc.Records {
				_ = enc.Encode(doc.Records[i].Kinesis)
			}
		})
	})
	b.Run("records/dynamodb/encoding-json", func(b *testing.B) {
		doc := docs["dynamodb"]
		var w sliceWriter
		enc := json.NewEncoder(&w)
		reportPerRecord(b, len(doc.Records), payloadBytes(doc), 0, func() {
			w.b = w.b[:0]
			for i := range doc.Records {
				_ = enc.Encode(doc.Records[i].DynamoDB)
			}
		})
	})
	// The DynamoDB encoder against the one it replaced, JSON text only.
	encoders := map[string]func([]byte, *events.DynamoDBEventRecord) ([]byte, error){
		"ddbEncoder":    new(ddbEncoder).record,
		"oldDDBEncoder": new(oldDDBEncoder).record,
	}
	for name, record := range encoders {
		b.Run("records/dynamodb/"+name, func(b *testing.B) {
			doc := docs["dynamodb"]
			var buf []byte
			run := func() {
				buf = buf[:0]
				for i := range doc.Records {
					buf, _ = record(buf, doc.Records[i].DynamoDB)
					buf = append(buf, '\n')
				}
			}
			run()
			reportPerRecord(b, len(doc.Records), payloadBytes(doc), int64(len(buf)), run)
		})
	}
	b.Run("records/kinesis/appendKinesis", func(b *testing.B) {
		doc := docs["kinesis"]
		var buf []byte
		reportPerRecord(b, len(doc.Records), payloadBytes(doc), 0, func() {
			buf = buf[:0]
			for i := range doc.Records {
				buf = append(appendKinesis(buf, doc.Records[i].Kinesis), '\n')
			}
		})
	})
}

// peakHeap samples HeapAlloc while run runs and returns the highest value seen.
func peakHeap(run func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	run()
	close(done)
	wg.Wait()
	return peak.Load()
}

// BenchmarkPutLarge archives, and queues as a claim check, a 10,000-record / 6 MB
// batch, reporting the peak heap: the records themselves plus what Put and Send add.
// GC runs at GOGC=10 here so HeapAlloc tracks live memory rather than garbage.
func BenchmarkPutLarge(b *testing.B) {
	doc := kinesisDoc(10_000, 600)
	payload := float64(payloadBytes(doc)) / (1 << 20)
	drain := &fakeS3{putObject: func(in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		_, err := io.Copy(io.Discard, in.Body)
		return &s3.PutObjectOutput{}, err
	}}
	a := New(drain, func(o *Options) { o.Bucket = "b" })
	q := NewQueue(&fakeSQS{sendMessage: func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error) {
		return &sqs.SendMessageOutput{}, nil
	}}, func(o *QueueOptions) { o.URL, o.Archive, o.MaxMessageBytes = "q", a, 1<<20 })
	ops := map[string]func() error{
		"put":        func() error { _, err := a.Put(context.Background(), doc); return err },
		"claimcheck": func() error { _, err := q.Send(context.Background(), doc, Location{Key: "k"}); return err },
	}
	for name, op := range ops {
		b.Run(name, func(b *testing.B) {
			defer debug.SetGCPercent(debug.SetGCPercent(10))
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak uint64
			b.SetBytes(payloadBytes(doc))
			b.ResetTimer()
			for range b.N {
				peak = max(peak, peakHeap(func() {
					if err := op(); err != nil {
						b.Fatal(err)
					}
				}))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(peak-base.HeapAlloc)/(1<<20)/payload, "extra-copies")
			b.ReportMetric(payload, "payload-MB")
		})
	}
}

// sliceWriter lets a json.Encoder append to a reusable slice.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
