package archive

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamdlq/streamdlq/archive/batch"
)

func kafkaDocument() *Document {
	rec := &events.KafkaRecord{Topic: "orders.v1", Partition: 3, Offset: 42, Timestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1545084650987)},
		TimestampType: "CREATE_TIME", Key: "aw==", Value: "dg==", Headers: []map[string]events.JSONNumberBytes{{"h": {1, 255}}}}
	return &Document{
		Failure: json.RawMessage(`{"KafkaBatchInfo":{}}`),
		Records: []batch.Record{{Kafka: rec}},
		Hydration: Hydration{Status: StatusComplete, Source: "kafka", ShardID: "3", Start: "42", End: "42",
			FirstArrival: time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC),
			Kafka:        &KafkaHydration{Topic: "orders.v1", Partition: 3, BootstrapServers: []string{"b-1:9092"}}},
	}
}

func TestKeyKafka(t *testing.T) {
	got := Key(kafkaDocument().Hydration, "archive")
	want := "archive/source=kafka/stream=orders.v1/dt=2026-12-01/3/42-42.jsonl.gz"
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestEncodeKafka: a Kafka record is encoded as batch.Record.MarshalJSON encodes it,
// in the archive object and in the DLQ message body alike.
func TestEncodeKafka(t *testing.T) {
	doc := kafkaDocument()
	want, err := json.Marshal(doc.Records[0])
	if err != nil {
		t.Fatal(err)
	}
	for name, lines := range map[string]bool{"object": true, "message": false} {
		t.Run(name, func(t *testing.T) {
			p := newPieces(doc, lines)
			got, err := p.record(nil, &doc.Records[0])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %s, want %s", got, want)
			}
		})
	}
}
