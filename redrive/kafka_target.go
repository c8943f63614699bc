package redrive

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// KafkaTarget produces Kafka records back to a topic: the original key, value,
// headers and partition, through an idempotent producer (acks=all), so a retried call
// writes each record once. A new timestamp is given: the original may be past the
// topic's retention already. Each partition is a rate lane; a call carries records of
// one partition, in offset order.
type KafkaTarget struct {
	cl         *kgo.Client
	topic      string
	partitions int
}

// Kafka target limits: a call stays within the broker's default max.message.bytes
// (1 MiB) once batched; a partition's share of a small cluster's write capacity.
const (
	kafkaMaxEntries = 500
	kafkaMaxBytes   = 900 << 10
)

// NewKafkaTarget returns a target that produces to topic with a client of its own
// built from opts (seed brokers, TLS, SASL). The topic must exist: its partitions are
// the rate lanes.
func NewKafkaTarget(ctx context.Context, opts []kgo.Opt, topic string) (*KafkaTarget, error) {
	cl, err := kgo.NewClient(append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ClientID("streamdlq-redrive"))...)
	if err != nil {
		return nil, fmt.Errorf("kafka target %s: %w", topic, err)
	}
	details, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err == nil {
		err = details.Error()
	}
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafka target %s: %w", topic, err)
	}
	return &KafkaTarget{cl: cl, topic: topic, partitions: len(details[topic].Partitions)}, nil
}

// Close closes the target's client.
func (t *KafkaTarget) Close() { t.cl.Close() }

// Name implements Target.
func (t *KafkaTarget) Name() string { return PrefixKafka + t.topic }

// Limits implements Target.
func (t *KafkaTarget) Limits() Limits {
	return Limits{MaxEntries: kafkaMaxEntries, MaxBytes: kafkaMaxBytes, Ordering: PrefixOfKey,
		Lanes: t.partitions, Capacity: Rate{Records: 5000, Bytes: 5 << 20}, Shared: true}
}

// Prepare implements Target. Only Kafka records can go to a topic, and only to a
// partition it has.
func (t *KafkaTarget) Prepare(rec batch.Record, _ Origin) (*Entry, error) {
	kr, err := t.record(rec)
	if err != nil {
		return nil, &RejectedError{Target: t.Name(), Reason: err.Error()}
	}
	size := len(kr.Key) + len(kr.Value)
	for _, h := range kr.Headers {
		size += len(h.Key) + len(h.Value)
	}
	if size > kafkaMaxBytes {
		return nil, &RejectedError{Target: t.Name(), Reason: fmt.Sprintf("record of %d bytes exceeds %d", size, kafkaMaxBytes)}
	}
	return &Entry{Record: rec, Key: strconv.Itoa(int(kr.Partition)), Lane: int(kr.Partition), Size: size}, nil
}

func (t *KafkaTarget) record(rec batch.Record) (*kgo.Record, error) {
	k := rec.Kafka
	if k == nil {
		return nil, errors.New("not a Kafka record")
	}
	if k.Partition < 0 || k.Partition >= int64(t.partitions) {
		return nil, fmt.Errorf("partition %d: the topic has %d", k.Partition, t.partitions)
	}
	out := &kgo.Record{Topic: t.topic, Partition: int32(k.Partition)}
	var err error
	if k.Key != "" {
		if out.Key, err = base64.StdEncoding.DecodeString(k.Key); err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
	}
	if k.Value != "" {
		if out.Value, err = base64.StdEncoding.DecodeString(k.Value); err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
	}
	for _, h := range k.Headers {
		for name, v := range h {
			out.Headers = append(out.Headers, kgo.RecordHeader{Key: name, Value: []byte(v)})
		}
	}
	return out, nil
}

// Send implements Target.
func (t *KafkaTarget) Send(ctx context.Context, entries []*Entry) ([]Outcome, error) {
	recs := make([]*kgo.Record, len(entries))
	for i, e := range entries {
		r, err := t.record(e.Record)
		if err != nil {
			return nil, err // Prepare accepted it: unreachable
		}
		recs[i] = r
	}
	results := t.cl.ProduceSync(ctx, recs...)
	outcomes := make([]Outcome, len(entries))
	for i, r := range results {
		outcomes[i] = kafkaOutcome(r.Err)
	}
	return outcomes, nil
}

func kafkaOutcome(err error) Outcome {
	var ke *kerr.Error
	switch {
	case err == nil:
		return Outcome{Status: Delivered}
	case errors.Is(err, kerr.ThrottlingQuotaExceeded):
		return Outcome{Status: Throttled, Err: err}
	case errors.As(err, &ke) && !ke.Retriable:
		// Too large, invalid, not authorized: sending it again cannot help.
		return Outcome{Status: Rejected, Err: err}
	}
	return Outcome{Status: Failed, Err: err}
}
