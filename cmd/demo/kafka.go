package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/internal/kafka"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// TopicName is the demo's Kafka topic, on the local Apache Kafka (KRaft) broker that
// scripts/localaws.sh starts.
const TopicName = "payments"

// The Kafka failure: a consumer of a self-managed cluster gives up on offsets
// kafkaFirst..kafkaLast of partition 0, and by the time streamdlq reads them the log
// starts at kafkaLogStart (retention, done for real here with DeleteRecords).
const (
	kafkaPayments = 300
	kafkaFirst    = 60
	kafkaLast     = 179
	kafkaLogStart = 80
)

// kafkaPlaintext is how the demo reaches the local broker: its PLAINTEXT listener.
var kafkaPlaintext = kafka.ClientConfig{Auth: kafka.AuthNone}

// kafkaBrokers are the local broker's PLAINTEXT listener (STREAMDLQ_KAFKA_BROKERS,
// exported by scripts/localaws.sh).
func kafkaBrokers() ([]string, error) {
	raw := os.Getenv("STREAMDLQ_KAFKA_BROKERS")
	if raw == "" {
		return nil, errors.New("STREAMDLQ_KAFKA_BROKERS is not set: run the demo through scripts/localaws.sh run")
	}
	return strings.Split(raw, ","), nil
}

// putPayments creates the topic with one partition, writes n payments to it, deletes
// the log below logStart as retention would, and returns the offsets written.
func putPayments(ctx context.Context, brokers []string, n int, logStart int64) ([]string, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, TopicName); err != nil {
		return nil, fmt.Errorf("create topic %s: %w", TopicName, err)
	}
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: TopicName, Key: fmt.Appendf(nil, "customer-%03d", i%40),
			Value:   fmt.Appendf(nil, `{"payment":%d,"cents":%d}`, i, 100+i),
			Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("demo")}}}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return nil, fmt.Errorf("produce to %s: %w", TopicName, err)
	}
	offs := make(kadm.Offsets)
	offs.AddOffset(TopicName, 0, logStart, -1)
	resp, err := adm.DeleteRecords(ctx, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("delete records of %s below %d: %w", TopicName, logStart, err)
	}
	offsets := make([]string, n)
	for i := range offsets {
		offsets[i] = strconv.Itoa(i)
	}
	return offsets, nil
}

// kafkaRecord is the on-failure record Lambda sends for b, a Kafka batch of one
// partition of TopicName on brokers.
func kafkaRecord(b failedBatch, brokers []string) json.RawMessage {
	first, _ := strconv.ParseInt(b.seqs[0], 10, 64)
	last, _ := strconv.ParseInt(b.seqs[len(b.seqs)-1], 10, 64)
	return onfailure.KafkaRecord(onfailure.KafkaBatch{BootstrapServers: brokers, Topic: TopicName,
		Ranges: map[int32][2]int64{0: {first, last}}, BatchSize: len(b.seqs),
		FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:payments-consumer"})
}

// topicEnd is partition 0's end offset: where the next record goes.
func topicEnd(ctx context.Context, brokers []string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return 0, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, TopicName)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("end offsets of %s: %w", TopicName, err)
	}
	o, _ := ends.Lookup(TopicName, 0)
	return o.Offset, nil
}
