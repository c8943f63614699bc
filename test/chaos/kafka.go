package chaos

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/kafka"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
	"github.com/streamdlq/streamdlq/redrive"
)

// KafkaSource: the records are written to a topic of a self-managed Kafka cluster
// (franz-go's in-memory kfake, one per run), hydrated from it by offset, and redriven
// to a second topic of the cluster (kafka:TOPIC). The broker refuses Fetch and
// Produce requests at random (NOT_LEADER_FOR_PARTITION: leadership moved, before the
// request is applied), which the reader and the producer must ride out. With Trimmed,
// the run's first records are deleted from the log (DeleteRecords, as retention
// does) before the first attempt: a trimmed gap.
const KafkaSource Class = "kafka source"

// kafkaFaultRate is the chance that the broker refuses a Fetch or Produce request in
// a KafkaSource run.
const kafkaFaultRate = 0.2

// kafkaRun is a KafkaSource run's cluster: the source topic of one partition, the
// target topic, and what the hydrator and the redrive are told to reach it.
type kafkaRun struct {
	cluster       *kfake.Cluster
	brokers       []string
	topic, target string
	// readTo is the target's offset the oracle has read up to.
	readTo int64
	// calm turns the broker's faults off for the oracle.
	calm atomic.Bool
}

// forKafka keeps the classes a Kafka source can play: Kinesis' denial and the
// consumer function (which speaks Kinesis' and DynamoDB's shapes here) are left out,
// and a run enabling both sources keeps DynamoDB's.
func (p *plan) forKafka() {
	if !p.enabled[KafkaSource] {
		return
	}
	if p.enabled[DynamoDBSource] {
		delete(p.enabled, KafkaSource)
		return
	}
	for _, c := range []Class{Denied, ConsumerTarget, DeadlineMidCall, Poison} {
		delete(p.enabled, c)
	}
}

// kafkaSource starts the run's cluster with faults from rng counted on inj, writes
// the run's records to the source topic (key and data as for a stream) and sets each
// record's sequence number to its offset.
func (w *World) kafkaSource(ctx context.Context, name string, recs []written, rng *rand.Rand, inj *Injector) (source, error) {
	k := &kafkaRun{topic: name + "-src", target: name + "-dst"}
	var err error
	if k.cluster, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, k.topic, k.target)); err != nil {
		return source{}, fmt.Errorf("kafka cluster: %w", err)
	}
	k.brokers = k.cluster.ListenAddrs()
	src := source{kind: "kafka", shard: "0", route: redrive.PrefixKafka + k.target, kafka: k}
	if err := k.produce(ctx, recs); err != nil {
		k.close()
		return source{}, err
	}
	k.injectFaults(rng, inj)
	return src, nil
}

// trim deletes the source partition's records below offset first, counted as one
// Trimmed fault.
func (k *kafkaRun) trim(ctx context.Context, first string, inj *Injector) error {
	off, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return fmt.Errorf("trim %s: offset %q: %w", k.topic, first, err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...))
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	offs := make(kadm.Offsets)
	offs.AddOffset(k.topic, 0, off, -1)
	resp, err := kadm.NewClient(cl).DeleteRecords(ctx, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("delete records of %s below %d: %w", k.topic, off, err)
	}
	inj.count(Trimmed)
	return nil
}

func (k *kafkaRun) close() {
	if k != nil && k.cluster != nil {
		k.cluster.Close()
	}
}

func (k *kafkaRun) produce(ctx context.Context, recs []written) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...), kgo.DefaultProduceTopic(k.topic))
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	krecs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		krecs[i] = &kgo.Record{Key: []byte(r.key), Value: r.data}
	}
	res := cl.ProduceSync(ctx, krecs...)
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("produce to %s: %w", k.topic, err)
	}
	for i, r := range res {
		recs[i].seq = strconv.FormatInt(r.Record.Offset, 10)
	}
	return nil
}

// injectFaults makes the broker refuse Fetch and Produce requests at kafkaFaultRate,
// before applying them, each counted as a KafkaSource fault.
func (k *kafkaRun) injectFaults(rng *rand.Rand, inj *Injector) {
	var mu sync.Mutex
	strike := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64() < kafkaFaultRate
	}
	for _, key := range []kmsg.Key{kmsg.Fetch, kmsg.Produce} {
		k.cluster.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
			k.cluster.KeepControl()
			if k.calm.Load() || !strike() {
				return nil, nil, false
			}
			inj.count(KafkaSource)
			return notLeader(req), nil, true
		})
	}
}

// notLeader answers a Fetch or Produce with NOT_LEADER_FOR_PARTITION for each
// partition it names.
func notLeader(req kmsg.Request) kmsg.Response {
	code := kerr.NotLeaderForPartition.Code
	switch r := req.(type) {
	case *kmsg.FetchRequest:
		resp := r.ResponseKind().(*kmsg.FetchResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewFetchResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewFetchResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	case *kmsg.ProduceRequest:
		resp := r.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	}
	return req.ResponseKind()
}

// kafkaOnFailure is the on-failure record of a self-managed Kafka consumer that gave
// up on mine, a run of the source topic's partition 0.
func (k *kafkaRun) onFailure(mine []written, consumer string, at time.Time) json.RawMessage {
	first, _ := strconv.ParseInt(mine[0].seq, 10, 64)
	last, _ := strconv.ParseInt(mine[len(mine)-1].seq, 10, 64)
	return onfailure.KafkaRecord(onfailure.KafkaBatch{BootstrapServers: k.brokers, Topic: k.topic,
		Ranges: map[int32][2]int64{0: {first, last}}, BatchSize: len(mine), FunctionARN: consumer,
		Time: at})
}

// hydrateConfig allows the cluster by its servers, reached in plaintext.
func (k *kafkaRun) hydrateConfig(c *hydrate.Config) {
	c.Kafka = hydrate.KafkaConfig{Servers: k.brokers, Client: kafka.ClientConfig{Auth: kafka.AuthNone}}
}

// redriveOptions routes the run's failures (matched by their topic) to the target
// topic.
func (k *kafkaRun) redriveOptions(o *redrive.Options) {
	o.Routes = []redrive.Route{{Pattern: k.topic, Target: redrive.PrefixKafka + k.target}}
	o.Kafka = func() ([]kgo.Opt, error) { return []kgo.Opt{kgo.SeedBrokers(k.brokers...)}, nil }
}

// readTarget reads what the target topic got, with a clean client and the broker's
// faults off.
func (k *kafkaRun) readTarget(ctx context.Context, f *found) error {
	k.calm.Store(true)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{k.target: {0: kgo.NewOffset().At(k.readTo)}}))
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, k.target)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("end offset of %s: %w", k.target, err)
	}
	end, _ := ends.Lookup(k.target, 0)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for k.readTo < end.Offset {
		fetches := cl.PollFetches(pctx)
		if err := pctx.Err(); err != nil {
			return fmt.Errorf("read %s to offset %d: at %d: %w", k.target, end.Offset, k.readTo, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			d := string(r.Value)
			if f.delivered[d]++; f.delivered[d] == 1 {
				f.order = append(f.order, d)
			}
			k.readTo = r.Offset + 1
		})
	}
	return nil
}

// foreignPayload is the invocation event of the failure first..last (offsets in
// decimal) as Lambda's S3 destination writes it for a self-managed Kafka mapping,
// holding, under the failure's <topic>-<partition> key, a record at first with
// bait[0] and a foreign one with bait[1], and how the latter is foreign.
func (k *kafkaRun) foreignPayload(rng *rand.Rand, first, last string, bait [][]byte) (string, []byte) {
	off, _ := strconv.ParseInt(first, 10, 64)
	end, _ := strconv.ParseInt(last, 10, 64)
	topic, partition, foreignOff := k.topic, 0, off
	variant := []string{"another topic", "outside the range", "another partition"}[rng.IntN(3)]
	switch variant {
	case "another topic":
		topic += "-evil"
	case "outside the range":
		foreignOff = end + 1
	case "another partition":
		partition = 9
	}
	payload, _ := json.Marshal(map[string]any{"eventSource": "SelfManagedKafka", "bootstrapServers": strings.Join(k.brokers, ","),
		"records": map[string]any{k.topic + "-0": []any{kafkaRecord(k.topic, 0, off, bait[0]), kafkaRecord(topic, partition, foreignOff, bait[1])}}})
	return variant, payload
}

// kafkaRecord is a record of a Kafka event's records, as Lambda gives it.
func kafkaRecord(topic string, partition int, offset int64, value []byte) map[string]any {
	return map[string]any{"topic": topic, "partition": partition, "offset": offset, "timestamp": time.Now().UnixMilli(),
		"timestampType": "CREATE_TIME", "key": base64.StdEncoding.EncodeToString([]byte("bait")),
		"value": base64.StdEncoding.EncodeToString(value), "headers": []any{}}
}
