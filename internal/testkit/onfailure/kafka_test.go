package onfailure

import (
	"slices"
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/envelope"
)

// The record parses as the hydrator parses Lambda's: one failure per partition, with
// its offsets, and MSK told from self-managed Kafka.
func TestKafkaRecordParses(t *testing.T) {
	const cluster = "arn:aws:kafka:us-east-1:000000000000:cluster/demo/abcd-1"
	tests := map[string]KafkaBatch{
		"self-managed": {BootstrapServers: []string{"127.0.0.1:9092"}, Topic: "payments", Ranges: map[int32][2]int64{0: {60, 179}, 1: {5, 9}}, BatchSize: 125},
		"MSK":          {ClusterARN: cluster, Topic: "payments", Ranges: map[int32][2]int64{0: {60, 179}}, BatchSize: 120},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			fs, err := envelope.ParseRecords(KafkaRecord(b), "m-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != len(b.Ranges) {
				t.Fatalf("got %d failures, want %d", len(fs), len(b.Ranges))
			}
			for _, f := range fs {
				kf := f.Kafka
				if f.Source != batch.SourceKafka || kf == nil || kf.Topic != b.Topic || kf.ClusterARN != b.ClusterARN || !slices.Equal(kf.BootstrapServers, b.BootstrapServers) {
					t.Fatalf("got %+v, want a Kafka failure of %+v", f, b)
				}
				if r := b.Ranges[kf.Partition]; kf.FirstOffset != r[0] || kf.LastOffset != r[1] {
					t.Errorf("partition %d: got %d..%d, want %d..%d", kf.Partition, kf.FirstOffset, kf.LastOffset, r[0], r[1])
				}
			}
		})
	}
}
