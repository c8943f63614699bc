package hydrate_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/kafka"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

const (
	kafkaQueueARN = "arn:aws:sqs:us-east-1:000000000000:streamdlq-on-failure"
	kafkaConsumer = "arn:aws:lambda:us-east-1:123456789012:function:consumer"
)

// kafkaTopic creates a topic of partitions on the local broker and writes n records
// with values p<partition>-<i> to each partition.
func kafkaTopic(t *testing.T, brokers []string, partitions int32, n int) string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topic := testkit.Name(t, "topic")
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for p := range partitions {
		for i := range n {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Key: []byte("k"), Value: fmt.Appendf(nil, "p%d-%d", p, i)})
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return topic
}

// kafkaFailure is a self-managed Kafka on-failure record naming offsets first..last
// of each partition.
func kafkaFailure(topic string, brokers []string, partitions int32, first, last, batchSize int) json.RawMessage {
	info := map[string]any{}
	for p := range partitions {
		info[fmt.Sprintf("%s-%d", topic, p)] = map[string]string{
			"firstRecordOffset": fmt.Sprint(first), "lastRecordOffset": fmt.Sprint(last),
			"firstRecordTimestamp": "2026-12-01T10:00:00.000Z", "lastRecordTimestamp": "2026-12-01T10:00:01.000Z",
		}
	}
	b, _ := json.Marshal(map[string]any{
		"requestContext": map[string]any{"requestId": "req-" + topic, "functionArn": kafkaConsumer,
			"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
		"version": "1.0", "timestamp": "2026-12-01T10:00:05.000Z",
		"KafkaBatchInfo": map[string]any{"batchSize": batchSize, "bootstrapServers": strings.Join(brokers, ","), "payloadSize": 100, "recordsInfo": info},
	})
	return b
}

// TestHandleKafkaEndToEnd: one SQS message naming two partitions of a self-managed
// cluster gives two archived objects and two DLQ messages, each with its partition's
// records in Lambda's Kafka shape.
func TestHandleKafkaEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	brokers := testkit.KafkaBrokers(t)
	topic := kafkaTopic(t, brokers, 2, 10)
	c := e.config()
	c.Kafka = hydrate.KafkaConfig{Servers: []string{"127.0.0.1:*"}}
	h := hydrate.NewFromConfig(e.cfg, c, false)

	resp, err := h.Handle(context.Background(), onfailure.SQSEvent(kafkaQueueARN, kafkaFailure(topic, brokers, 2, 3, 7, 10)))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if r, ok := resp.(events.SQSEventResponse); !ok || len(r.BatchItemFailures) != 0 {
		t.Fatalf("got response %+v, want no batch item failures", resp)
	}
	out, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: ptr("failures/source=kafka/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	sort.Strings(keys)
	// The consumer is in the key as for the streams: two functions failing on one
	// range are two failures.
	consumer := archive.ConsumerID(kafkaConsumer)
	want := []string{
		"failures/source=kafka/stream=" + topic + "/dt=2026-12-01/0/3-7." + consumer + ".jsonl.gz",
		"failures/source=kafka/stream=" + topic + "/dt=2026-12-01/1/3-7." + consumer + ".jsonl.gz",
	}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("got archive keys %v, want %v", keys, want)
	}
	for p, key := range keys {
		doc, err := e.archive().Get(context.Background(), key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		checkKafkaDoc(t, doc, topic, p)
	}
	if n := queueDepth(t, e.sqs, e.dlqURL); n != 2 {
		t.Errorf("DLQ holds %d messages, want 2", n)
	}
}

// TestHandleKafkaIncompleteThenSuperseded: offsets past the partition's end are a
// transient gap, so the capture is incomplete: archived, not queued, the message handed
// back. Once the records exist, the next delivery reads the range again and supersedes
// the archived capture; the DLQ gets one message with every record.
func TestHandleKafkaIncompleteThenSuperseded(t *testing.T) {
	e := newEnv(t, nil)
	brokers := testkit.KafkaBrokers(t)
	topic := kafkaTopic(t, brokers, 1, 10)
	c := e.config()
	c.Kafka = hydrate.KafkaConfig{Servers: []string{"127.0.0.1:*"}}
	h := hydrate.NewFromConfig(e.cfg, c, false)
	ctx := context.Background()
	event := onfailure.SQSEvent(kafkaQueueARN, kafkaFailure(topic, brokers, 1, 5, 12, 8))

	resp, err := h.Handle(ctx, event)
	if r, ok := resp.(events.SQSEventResponse); err != nil || !ok || len(r.BatchItemFailures) != 1 {
		t.Fatalf("got %+v, %v; want the message handed back", resp, err)
	}
	key := "failures/source=kafka/stream=" + topic + "/dt=2026-12-01/0/5-12." + archive.ConsumerID(kafkaConsumer) + ".jsonl.gz"
	doc, err := e.archive().Get(ctx, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if g := doc.Hydration.Gaps; doc.Hydration.Status != archive.StatusIncomplete || len(doc.Records) != 5 || len(g) != 1 || g[0].From != "10" || g[0].Final() {
		t.Fatalf("got %s with %d records and gaps %+v, want incomplete: 5 records, a transient gap from 10", doc.Hydration.Status, len(doc.Records), g)
	}
	if n := queueDepth(t, e.sqs, e.dlqURL); n != 0 {
		t.Fatalf("DLQ holds %d messages after an incomplete capture, want 0", n)
	}

	produce(t, brokers, topic, "late-10", "late-11", "late-12")
	if resp, err = h.Handle(ctx, event); err != nil || len(resp.(events.SQSEventResponse).BatchItemFailures) != 0 {
		t.Fatalf("retry: got %+v, %v; want it captured", resp, err)
	}
	if doc, err = e.archive().Get(ctx, key); err != nil {
		t.Fatal(err)
	}
	if doc.Hydration.Status != archive.StatusComplete || len(doc.Records) != 8 || len(doc.Hydration.Gaps) != 0 {
		t.Fatalf("got %s with %d records and gaps %+v, want complete with offsets 5..12", doc.Hydration.Status, len(doc.Records), doc.Hydration.Gaps)
	}
	for i, r := range doc.Records {
		if r.Kafka.Offset != int64(5+i) {
			t.Fatalf("record %d has offset %d, want %d", i, r.Kafka.Offset, 5+i)
		}
	}
	if n := queueDepth(t, e.sqs, e.dlqURL); n != 1 {
		t.Errorf("DLQ holds %d messages, want 1", n)
	}
}

// produce appends values to partition 0 of topic.
func produce(t *testing.T, brokers []string, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(v)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func checkKafkaDoc(t *testing.T, doc *archive.Document, topic string, p int) {
	t.Helper()
	hy := doc.Hydration
	if hy.Status != archive.StatusComplete || hy.Source != "kafka" || hy.Expected != 5 || hy.Kafka == nil || hy.Kafka.Topic != topic || hy.Kafka.Partition != int32(p) ||
		hy.Kafka.FunctionARN != kafkaConsumer {
		t.Errorf("partition %d: got hydration %+v (kafka %+v), want complete, 5 expected", p, hy, hy.Kafka)
	}
	var got []string
	for _, r := range doc.Records {
		if r.Kafka == nil || r.Kafka.Topic != topic || r.Kafka.Partition != int64(p) {
			t.Fatalf("partition %d: got record %+v", p, r)
		}
		v, _ := base64.StdEncoding.DecodeString(r.Kafka.Value)
		got = append(got, string(v))
	}
	if want := fmt.Sprintf("[p%[1]d-3 p%[1]d-4 p%[1]d-5 p%[1]d-6 p%[1]d-7]", p); fmt.Sprint(got) != want {
		t.Errorf("partition %d: got values %v, want %s", p, got, want)
	}
}

// TestHandleKafkaOutsideAllowlist: bootstrap servers that match no pattern are
// refused before any connection is made.
func TestHandleKafkaOutsideAllowlist(t *testing.T) {
	e := newEnv(t, nil)
	c := e.config()
	c.Kafka = hydrate.KafkaConfig{Servers: []string{"kafka.internal:9092"}}
	h := hydrate.NewFromConfig(e.cfg, c, false)
	resp, err := h.Handle(context.Background(), onfailure.SQSEvent(kafkaQueueARN, kafkaFailure("orders", []string{"203.0.113.9:9092"}, 1, 0, 1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.(events.SQSEventResponse); len(r.BatchItemFailures) != 1 {
		t.Fatalf("got %+v, want the message reported as failed", r)
	}
}

// TestHandleKafkaAuth reads through the local broker's SCRAM listener (the user from
// a Secrets Manager secret on moto), its TLS listener (trusting its certificate
// through STREAMDLQ_KAFKA_TLS_CA) and its mutual-TLS listener (the client certificate
// from a secret).
func TestHandleKafkaAuth(t *testing.T) {
	e := newEnv(t, nil)
	topic := kafkaTopic(t, testkit.KafkaBrokers(t), 1, 10)
	scramBrokers, user, password := testkit.KafkaSCRAM(t)
	tlsBrokers, caFile := testkit.KafkaTLS(t)
	mtlsBrokers, certFile, keyFile := testkit.KafkaMTLS(t)
	scramSecret := createSecret(t, e, "AmazonMSK_"+topic, map[string]string{"username": user, "password": password})
	certSecret := createSecret(t, e, "client-cert-"+topic, map[string]string{"certificate": readFile(t, certFile), "privateKey": readFile(t, keyFile)})
	tests := map[string]struct {
		brokers     []string
		kafka       kafka.ClientConfig
		first, last int
	}{
		"SCRAM": {brokers: scramBrokers, first: 0, last: 4,
			kafka: kafka.ClientConfig{Auth: kafka.AuthSCRAM512, SecretARN: scramSecret}},
		"TLS": {brokers: tlsBrokers, first: 5, last: 9,
			kafka: kafka.ClientConfig{TLS: true, CAFile: caFile}},
		"mutual TLS": {brokers: mtlsBrokers, first: 2, last: 6,
			kafka: kafka.ClientConfig{TLS: true, CAFile: caFile, Auth: kafka.AuthMTLS, SecretARN: certSecret}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c := e.config()
			c.Kafka = hydrate.KafkaConfig{Servers: []string{"127.0.0.1:*"}, Client: tt.kafka}
			var docs []*archive.Document
			h := hydrate.NewFromConfig(e.cfg, c, true, func(o *hydrate.HandlerOptions) {
				o.Emit = func(d *archive.Document, _ *hydrate.Captured) { docs = append(docs, d) }
			})
			resp, err := h.Handle(context.Background(), onfailure.SQSEvent(kafkaQueueARN, kafkaFailure(topic, tt.brokers, 1, tt.first, tt.last, 5)))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if r := resp.(events.SQSEventResponse); len(r.BatchItemFailures) != 0 || len(docs) != 1 {
				t.Fatalf("got %+v and %d documents, want one hydrated", r, len(docs))
			}
			if hy := docs[0].Hydration; hy.Status != archive.StatusComplete || len(docs[0].Records) != 5 || docs[0].Records[0].Kafka.Offset != int64(tt.first) {
				t.Fatalf("got %+v with %d records, want 5 from offset %d, complete", hy, len(docs[0].Records), tt.first)
			}
		})
	}
}

// TestHandleKafkaS3Object: an S3 on-failure destination object of an MSK mapping
// carries the failed event; each partition is archived from it without a broker.
func TestHandleKafkaS3Object(t *testing.T) {
	e := newEnv(t, nil)
	body, err := os.ReadFile("../internal/envelope/testdata/kafka/kafka-onfailure-s3-object.json")
	if err != nil {
		t.Fatal(err)
	}
	c := e.config()
	c.Allowed, _ = hydrate.ParseAllowlist("arn:aws:kafka:us-east-1:123456789012:cluster/*")
	h := hydrate.NewFromConfig(e.cfg, c, false)
	if _, err := h.Handle(context.Background(), putOnFailureObject(t, e, body)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	out, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &e.bucket, Prefix: ptr("failures/source=kafka/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 2 {
		t.Fatalf("archive holds %d Kafka objects, want 2", len(out.Contents))
	}
	for _, o := range out.Contents {
		doc, err := e.archive().Get(context.Background(), *o.Key)
		if err != nil {
			t.Fatal(err)
		}
		hy := doc.Hydration
		want := map[int32]int{0: 2, 1: 1}[hy.Kafka.Partition]
		if hy.From != "s3-payload" || hy.Status != archive.StatusComplete || len(doc.Records) != want || hy.Expected != want {
			t.Errorf("%s: got %+v with %d records, want complete from the payload with %d", *o.Key, hy, len(doc.Records), want)
		}
	}
}

func createSecret(t *testing.T, e *env, name string, v map[string]string) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := secretsmanager.NewFromConfig(e.cfg).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: &name, SecretString: ptr(string(b))})
	if err != nil {
		t.Fatalf("create secret %s: %v", name, err)
	}
	return *out.ARN
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
