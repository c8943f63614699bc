package kafka

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// benchValueSize is the value size of the records BenchmarkKafkaRead reads back.
const benchValueSize = 500

// BenchmarkKafkaRead reads ranges of N records of 500 random (incompressible) bytes
// from the local broker and reports the requests made against the floor: one
// Metadata request plus one Fetch per PartitionMaxBytes (8 MiB) of values.
func BenchmarkKafkaRead(b *testing.B) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(testkit.KafkaBrokers(b)...), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, n := range []int{1, 100, 10_000, 25_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			topic := testkit.Name(b, "bench")
			if _, err := adm.CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
				b.Fatal(err)
			}
			benchProduce(b, cl, topic, n)
			rd := NewReader(cl)
			r := Range{Topic: topic, First: 0, Last: int64(n - 1)}
			fetches, calls := 0, 0
			for b.Loop() {
				res, err := rd.Read(context.Background(), r)
				if err != nil || len(res.Records) != n {
					b.Fatalf("read %s: %d records, %v", r, len(res.Records), err)
				}
				fetches, calls = fetches+res.Fetches, calls+res.Calls
			}
			minFetches := (n*benchValueSize + int(rd.opts.PartitionMaxBytes) - 1) / int(rd.opts.PartitionMaxBytes)
			b.ReportMetric(float64(fetches)/float64(b.N), "fetches/batch")
			b.ReportMetric(float64(minFetches), "min-fetches/batch")
			b.ReportMetric(float64(calls)/float64(b.N), "apicalls/batch")
			b.ReportMetric(float64(1+minFetches), "min-apicalls/batch")
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func benchProduce(b *testing.B, cl *kgo.Client, topic string, n int) {
	b.Helper()
	rnd := rand.NewChaCha8([32]byte{})
	recs := make([]*kgo.Record, n)
	for i := range recs {
		value := make([]byte, benchValueSize)
		_, _ = rnd.Read(value)
		recs[i] = &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: value}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
}
