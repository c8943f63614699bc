package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
)

type fakeInvoke struct {
	invoke func(*lambda.InvokeInput) (*lambda.InvokeOutput, error)
}

func (f fakeInvoke) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	return f.invoke(in)
}

func kafkaRec(partition, offset int64) batch.Record {
	return batch.Record{Kafka: &events.KafkaRecord{Topic: "orders", Partition: partition, Offset: offset, TimestampType: "CREATE_TIME",
		Value: "dg==", Headers: []map[string]events.JSONNumberBytes{{"h": {1, 255}}}}}
}

// TestLambdaTargetKafkaEvent: Kafka records reach the consumer in the event shape of
// its Kafka mapping, one topic-partition per invocation, MSK or self-managed.
func TestLambdaTargetKafkaEvent(t *testing.T) {
	const cluster = "arn:aws:kafka:us-east-1:123456789012:cluster/c/uuid-1"
	tests := map[string]struct {
		kafka      *archive.KafkaHydration
		wantSource string
		wantARN    string
	}{
		"MSK":          {kafka: &archive.KafkaHydration{ClusterARN: cluster, BootstrapServers: []string{"b-1:9098", "b-2:9098"}}, wantSource: "aws:kafka", wantARN: cluster},
		"self-managed": {kafka: &archive.KafkaHydration{BootstrapServers: []string{"b-1:9098", "b-2:9098"}}, wantSource: "SelfManagedKafka"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var payloads [][]byte
			target := NewLambdaTarget(fakeInvoke{invoke: func(in *lambda.InvokeInput) (*lambda.InvokeOutput, error) {
				payloads = append(payloads, in.Payload)
				return &lambda.InvokeOutput{StatusCode: 200}, nil
			}}, "consumer", 10)
			from := Origin{StreamARN: tt.wantARN, ShardID: "0", Kafka: tt.kafka}
			var entries []*Entry
			for _, rec := range []batch.Record{kafkaRec(0, 7), kafkaRec(0, 8), kafkaRec(1, 7)} {
				e, err := target.Prepare(rec, from)
				if err != nil {
					t.Fatal(err)
				}
				entries = append(entries, e)
			}
			if entries[0].Key != entries[1].Key || entries[0].Key == entries[2].Key {
				t.Fatalf("got keys %q %q %q, want one per topic-partition", entries[0].Key, entries[1].Key, entries[2].Key)
			}
			outcomes, err := target.Send(context.Background(), entries[:2])
			if err != nil || len(outcomes) != 2 || outcomes[0].Status != Delivered {
				t.Fatalf("got %v, %v; want 2 delivered", outcomes, err)
			}
			var ev events.KafkaEvent
			if err := json.Unmarshal(payloads[0], &ev); err != nil {
				t.Fatalf("payload %s: %v", payloads[0], err)
			}
			recs := ev.Records["orders-0"]
			if ev.EventSource != tt.wantSource || ev.EventSourceARN != tt.wantARN || ev.BootstrapServers != "b-1:9098,b-2:9098" || len(ev.Records) != 1 || len(recs) != 2 {
				t.Fatalf("got event %s, want %s from %q with orders-0's two records", payloads[0], tt.wantSource, tt.wantARN)
			}
			if recs[1].Offset != 8 || recs[1].Headers[0]["h"][1] != 255 {
				t.Errorf("got record %+v, want offset 8 with header h=[1 255]", recs[1])
			}
		})
	}
}

func TestRouteKafkaByTopic(t *testing.T) {
	h := archive.Hydration{Source: "kafka", ShardID: "0", Kafka: &archive.KafkaHydration{Topic: "orders"}}
	got, err := route([]Route{{Pattern: "payments", Target: "lambda:p"}, {Pattern: "ord*", Target: "lambda:o"}}, h, "")
	if err != nil || got != "lambda:o" {
		t.Fatalf("got %q, %v; want lambda:o", got, err)
	}
	if got, err := route([]Route{{Pattern: "orders", Target: SpecKafkaSource}}, h, ""); err != nil || got != "kafka:orders" {
		t.Fatalf("got %q, %v; want kafka:orders, the source topic", got, err)
	}
	if validSpec("kafka:") == nil || validSpec("kafka") != nil || validSpec("kafka:orders") != nil {
		t.Fatal("validSpec: kafka specs judged wrongly")
	}
	if _, err := route(nil, h, ""); !errors.Is(err, ErrNoConsumer) {
		t.Fatalf("got %v without routes or a consumer, want ErrNoConsumer", err)
	}
	if _, err := route([]Route{{Pattern: "orders", Target: SpecSource}}, h, ""); !errors.Is(err, ErrKafkaToKinesis) {
		t.Fatalf("got %v for a Kafka failure routed to kinesis, want ErrKafkaToKinesis", err)
	}
	kin := archive.Hydration{Source: "kinesis", StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}
	if _, err := route([]Route{{Pattern: "orders", Target: SpecKafkaSource}}, kin, ""); !errors.Is(err, ErrNotKafka) {
		t.Fatalf("got %v for a Kinesis failure routed to kafka, want ErrNotKafka", err)
	}
	consumer := "arn:aws:lambda:us-east-1:123456789012:function:consumer:live"
	if got, err := route(nil, h, consumer); err != nil || got != "lambda:"+consumer {
		t.Fatalf("got %q, %v without routes; want the failed consumer", got, err)
	}
	if !(Filter{Streams: []string{"orders"}}).matches(h) || (Filter{Streams: []string{"payments"}}).matches(h) {
		t.Fatal("filter by topic: got the wrong selection")
	}
}
