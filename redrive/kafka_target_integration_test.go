package redrive

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/kafka"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// TestKafkaTargetProducesBack: records go back to their partition with their key,
// value and headers; what the topic cannot take is rejected before any call.
func TestKafkaTargetProducesBack(t *testing.T) {
	seeds := []kgo.Opt{kgo.SeedBrokers(testkit.KafkaBrokers(t)...)}
	cl, err := kgo.NewClient(seeds...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	topic := testkit.Name(t, "redrive")
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	target, err := NewKafkaTarget(ctx, seeds, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if l := target.Limits(); l.Lanes != 3 || l.Ordering != PrefixOfKey {
		t.Fatalf("got limits %+v, want 3 lanes, PrefixOfKey", l)
	}
	recs := []batch.Record{kafkaRec(1, 40), kafkaRec(1, 41)}
	recs[1].Kafka.Key, recs[1].Kafka.Value = "aw==", "" // key "k", null value
	var entries []*Entry
	for _, r := range recs {
		e, err := target.Prepare(r, Origin{})
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	if entries[0].Lane != 1 || entries[0].Key != entries[1].Key {
		t.Fatalf("got lane %d keys %q %q, want lane 1 and one key", entries[0].Lane, entries[0].Key, entries[1].Key)
	}
	for name, r := range map[string]batch.Record{"partition 7": kafkaRec(7, 1), "not Kafka": {Kinesis: &batch.KinesisEventRecord{}}} {
		var rej *RejectedError
		if _, err := target.Prepare(r, Origin{}); !errors.As(err, &rej) {
			t.Errorf("%s: got %v, want a RejectedError", name, err)
		}
	}
	outcomes, err := target.Send(ctx, entries)
	if err != nil || len(outcomes) != 2 || outcomes[0].Status != Delivered || outcomes[1].Status != Delivered {
		t.Fatalf("got %+v, %v; want both delivered", outcomes, err)
	}

	res, err := kafka.NewReader(cl).Read(ctx, kafka.Range{Topic: topic, Partition: 1, First: 0, Last: 1})
	if err != nil || len(res.Records) != 2 {
		t.Fatalf("read back: %d records, %v", len(res.Records), err)
	}
	got := []*events.KafkaRecord{res.Records[0].Kafka, res.Records[1].Kafka}
	if got[0].Key != "" || got[0].Value != "dg==" || len(got[0].Headers) != 1 || got[0].Headers[0]["h"][1] != 255 {
		t.Errorf("got first record %+v, want no key, value v, header h=[1 255]", got[0])
	}
	if got[1].Key != "aw==" || got[1].Value != "" {
		t.Errorf("got second record key %q value %q, want k and null", got[1].Key, got[1].Value)
	}
}
