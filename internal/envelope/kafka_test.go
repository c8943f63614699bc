package envelope

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/streamdlq/streamdlq/archive/batch"
)

const mskCluster = "arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2"

// kafkaWant is what a test expects of one topic-partition Failure.
type kafkaWant struct {
	topic       string
	partition   int32
	first, last int64
	records     int // records in Payload; -1 for no Payload
}

func TestParseRecordsKafka(t *testing.T) {
	tests := map[string]struct {
		fixture    string
		clusterARN string
		servers    int
		region     string
		batchSize  int
		want       []kafkaWant
	}{
		"MSK, two partitions in order": {
			fixture: "kafka-msk-onfailure.json", clusterARN: mskCluster, servers: 2, region: "us-east-1", batchSize: 500,
			want: []kafkaWant{{"my-topic", 0, 15, 264, -1}, {"my-topic", 1, 1200, 1449, -1}},
		},
		"self-managed": {
			fixture: "kafka-self-managed-onfailure.json", servers: 2, region: "eu-west-1", batchSize: 3,
			want: []kafkaWant{{"orders", 7, 9001, 9003, -1}},
		},
		"S3 object, payload split per partition": {
			fixture: "kafka-onfailure-s3-object.json", clusterARN: mskCluster, servers: 2, region: "us-east-1", batchSize: 3,
			want: []kafkaWant{{"my-topic", 0, 15, 16, 2}, {"my-topic", 1, 1200, 1200, 1}},
		},
		"recordInfo placed by its payload": {
			fixture:    "kafka-destination-recordinfo.json",
			clusterARN: "arn:aws:kafka:us-east-1:123456789012:cluster/my-cluster/abc123", servers: 1, region: "us-east-1", batchSize: 1,
			want: []kafkaWant{{"my-topic", 0, 100, 100, 1}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			fs, err := ParseRecords(readTestdata(t, "kafka/"+tt.fixture), "id-1")
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if len(fs) != len(tt.want) {
				t.Fatalf("got %d failures, want %d", len(fs), len(tt.want))
			}
			for i, f := range fs {
				checkKafkaFailure(t, f)
				w := tt.want[i]
				k := f.Kafka
				if k.Topic != w.topic || k.Partition != w.partition || k.FirstOffset != w.first || k.LastOffset != w.last {
					t.Errorf("failure %d: got %s/%d %d..%d, want %s/%d %d..%d", i, k.Topic, k.Partition, k.FirstOffset, k.LastOffset,
						w.topic, w.partition, w.first, w.last)
				}
				if k.ClusterARN != tt.clusterARN || k.Managed() != (tt.clusterARN != "") || f.StreamARN != tt.clusterARN {
					t.Errorf("failure %d: got cluster %q (managed %v), StreamARN %q, want %q", i, k.ClusterARN, k.Managed(), f.StreamARN, tt.clusterARN)
				}
				if len(k.BootstrapServers) != tt.servers || f.Region != tt.region || f.AccountID != "123456789012" || f.BatchSize != tt.batchSize {
					t.Errorf("failure %d: got servers %v region %q account %q batch %d", i, k.BootstrapServers, f.Region, f.AccountID, f.BatchSize)
				}
				if got := payloadRecords(t, f.Payload, f.StreamName+"-"+f.ShardID); got != w.records {
					t.Errorf("failure %d: got %d payload records, want %d", i, got, w.records)
				}
				if strings.Contains(string(f.Raw), `"payload"`) {
					t.Errorf("failure %d: Raw still carries the payload", i)
				}
			}
		})
	}
}

// payloadRecords counts the records under key in a Kafka event, -1 when there is no
// event, and fails when the event has records of any other topic-partition.
func payloadRecords(t *testing.T, p json.RawMessage, key string) int {
	t.Helper()
	if p == nil {
		return -1
	}
	var ev events.KafkaEvent
	if err := json.Unmarshal(p, &ev); err != nil {
		t.Fatalf("payload is no Kafka event: %v", err)
	}
	if len(ev.Records) != 1 || ev.EventSource != "aws:kafka" {
		t.Fatalf("got payload keys %v source %q, want %s alone", slices.Collect(maps.Keys(ev.Records)), ev.EventSource, key)
	}
	return len(ev.Records[key])
}

func TestParseRecordsKafkaTimes(t *testing.T) {
	fs, err := ParseRecords(readTestdata(t, "kafka/kafka-self-managed-onfailure.json"), "x")
	if err != nil {
		t.Fatal(err)
	}
	f := fs[0]
	want := time.Date(2026, 11, 30, 9, 12, 41, 250e6, time.UTC)
	if !f.LastArrival.Equal(want) || f.Condition != "RecordAgeExceeded" || f.FunctionARN != "arn:aws:lambda:eu-west-1:123456789012:function:orders-consumer:live" {
		t.Fatalf("got last %v condition %q function %q", f.LastArrival, f.Condition, f.FunctionARN)
	}
	if f.Start != "9001" || f.End != "9003" || f.ShardID != "7" || f.StreamName != "orders" || f.Source != batch.SourceKafka {
		t.Fatalf("got %s %s/%s %s..%s", f.Source, f.StreamName, f.ShardID, f.Start, f.End)
	}
}

func kafkaInfo(edit func(b map[string]any)) func(map[string]any) {
	return func(m map[string]any) { edit(obj(m, "KafkaBatchInfo")) }
}

func kafkaRangeOf(key string, edit func(r map[string]any)) func(map[string]any) {
	return kafkaInfo(func(b map[string]any) { edit(obj(obj(b, "recordsInfo"), key)) })
}

func TestParseRecordsKafkaRefuses(t *testing.T) {
	const msk, self, dest = "kafka-msk-onfailure.json", "kafka-self-managed-onfailure.json", "kafka-destination-recordinfo.json"
	tests := map[string]struct {
		fixture   string
		edit      func(m map[string]any)
		wantField string
		wantText  string
	}{
		"AWS example as printed": {fixture: "kafka-onfailure-aws-example.json", wantField: "KafkaBatchInfo.bootstrapServers"},
		"AWS example offsets": {fixture: "kafka-onfailure-aws-example.json", edit: kafkaInfo(func(b map[string]any) { b["bootstrapServers"] = "b-1:9092" }),
			wantField: `KafkaBatchInfo.recordsInfo["Topic-0"].firstRecordOffset`, wantText: "out of a Kafka offset's range"},
		"null batch info":       {fixture: msk, edit: func(m map[string]any) { m["KafkaBatchInfo"] = nil }, wantField: "KafkaBatchInfo"},
		"with KinesisBatchInfo": {fixture: msk, edit: func(m map[string]any) { m["KinesisBatchInfo"] = map[string]any{} }, wantField: "KafkaBatchInfo", wantText: "one source"},
		"Kinesis ARN": {fixture: msk, edit: kafkaInfo(func(b map[string]any) { b["eventSourceArn"] = "arn:aws:kinesis:us-east-1:123456789012:stream/s" }),
			wantField: "KafkaBatchInfo.eventSourceArn", wantText: "not an Amazon MSK cluster ARN"},
		"no cluster at all": {fixture: self, edit: kafkaInfo(func(b map[string]any) { delete(b, "bootstrapServers") }),
			wantField: "KafkaBatchInfo.bootstrapServers", wantText: "cannot be found"},
		"server without port": {fixture: self, edit: kafkaInfo(func(b map[string]any) { b["bootstrapServers"] = "kafka-1,kafka-2:9092" }),
			wantField: "KafkaBatchInfo.bootstrapServers"},
		"no offsets": {fixture: msk, edit: kafkaInfo(func(b map[string]any) { delete(b, "recordsInfo") }),
			wantField: "KafkaBatchInfo.recordsInfo", wantText: "no offsets"},
		"empty recordsInfo": {fixture: msk, edit: kafkaInfo(func(b map[string]any) { b["recordsInfo"] = map[string]any{} }),
			wantField: "KafkaBatchInfo.recordsInfo", wantText: "empty"},
		"key without partition": {fixture: self, edit: kafkaInfo(func(b map[string]any) {
			b["recordsInfo"] = map[string]any{"orders": obj(b, "recordsInfo")["orders-7"]}
		}), wantField: `KafkaBatchInfo.recordsInfo["orders"]`, wantText: "<topic>-<partition>"},
		"topic with a slash": {fixture: self, edit: kafkaInfo(func(b map[string]any) {
			b["recordsInfo"] = map[string]any{"a/b-1": obj(b, "recordsInfo")["orders-7"]}
		}), wantField: `KafkaBatchInfo.recordsInfo["a/b-1"]`},
		"negative offset": {fixture: self, edit: kafkaRangeOf("orders-7", func(r map[string]any) { r["firstRecordOffset"] = "-1" }),
			wantField: `KafkaBatchInfo.recordsInfo["orders-7"].firstRecordOffset`, wantText: "not a decimal offset"},
		"first after last": {fixture: self, edit: kafkaRangeOf("orders-7", func(r map[string]any) { r["firstRecordOffset"] = "9004" }),
			wantField: `KafkaBatchInfo.recordsInfo["orders-7"].firstRecordOffset`, wantText: "after lastRecordOffset"},
		"bad timestamp": {fixture: self, edit: kafkaRangeOf("orders-7", func(r map[string]any) { r["lastRecordTimestamp"] = "yesterday" }),
			wantField: `KafkaBatchInfo.recordsInfo["orders-7"].lastRecordTimestamp`},
		"negative batch size": {fixture: self, edit: kafkaInfo(func(b map[string]any) { b["batchSize"] = -2 }), wantField: "KafkaBatchInfo.batchSize"},
		"recordInfo without payload": {fixture: dest, edit: func(m map[string]any) { delete(m, "payload") },
			wantField: "KafkaBatchInfo.recordInfo", wantText: "names no topic-partition"},
		"recordInfo offset not in payload": {fixture: dest, edit: kafkaInfo(func(b map[string]any) { obj(b, "recordInfo")["offset"] = "101" }),
			wantField: "KafkaBatchInfo.recordInfo.offset", wantText: "in none of"},
		"payload not an event": {fixture: dest, edit: func(m map[string]any) { m["payload"] = "[1,2]" }, wantField: "payload"},
		"payload without records": {fixture: dest, edit: func(m map[string]any) { m["payload"] = map[string]any{"eventSource": "aws:kafka"} },
			wantField: "payload.records"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			b := readTestdata(t, "kafka/"+tt.fixture)
			if tt.edit != nil {
				b = mutate(t, "kafka/"+tt.fixture, tt.edit)
			}
			_, err := ParseRecords(b, sqsID)
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("got error %v, want a *ParseError", err)
			}
			if perr.Field != tt.wantField || !strings.Contains(perr.Error(), tt.wantText) || perr.MessageID != sqsID {
				t.Fatalf("got %q (field %q), want field %q and text %q", perr.Error(), perr.Field, tt.wantField, tt.wantText)
			}
		})
	}
}

// TestParseKafkaEveryInput sends the same record through SNS, SQS (raw and
// SNS-wrapped) and a direct invoke: every path gives one item with one Failure per
// topic-partition, all under the message's ID.
func TestParseKafkaEveryInput(t *testing.T) {
	rec := string(readTestdata(t, "kafka/kafka-msk-onfailure.json"))
	snsEvent := events.SNSEvent{Records: []events.SNSEventRecord{{EventSource: "aws:sns", SNS: events.SNSEntity{MessageID: "sns-1", Message: rec}}}}
	wrapped, err := json.Marshal(map[string]string{"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": rec})
	if err != nil {
		t.Fatal(err)
	}
	sqsEvent := events.SQSEvent{Records: []events.SQSMessage{
		{EventSource: "aws:sqs", MessageId: "sqs-1", Body: rec},
		{EventSource: "aws:sqs", MessageId: "sqs-2", Body: string(wrapped)},
	}}
	tests := map[string]struct {
		payload any
		kind    Kind
		ids     []string
	}{
		"SNS":    {payload: snsEvent, kind: KindSNS, ids: []string{"sns-1"}},
		"SQS":    {payload: sqsEvent, kind: KindSQS, ids: []string{"sqs-1", "sqs-2"}},
		"direct": {payload: json.RawMessage(rec), kind: KindDirect, ids: []string{"316aa6d0-8154-xmpl-9af7-85d5f4a6bc81"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			in, err := Parse(b)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if in.Kind != tt.kind || len(in.Items) != len(tt.ids) {
				t.Fatalf("got kind %s with %d items, want %s with %d", in.Kind, len(in.Items), tt.kind, len(tt.ids))
			}
			for i, it := range in.Items {
				checkItemInvariants(t, it)
				if it.ID != tt.ids[i] || len(it.Failures) != 2 || it.Failure != it.Failures[0] {
					t.Fatalf("item %d: got ID %q with %d failures, want %q with 2, Failure first", i, it.ID, len(it.Failures), tt.ids[i])
				}
				if it.Failures[0].ShardID != "0" || it.Failures[1].ShardID != "1" {
					t.Fatalf("item %d: got partitions %s, %s, want 0, 1", i, it.Failures[0].ShardID, it.Failures[1].ShardID)
				}
			}
		})
	}
}

// TestParseRecordsNotKafka: other records come through ParseRecords as ParseRecord
// gives them.
func TestParseRecordsNotKafka(t *testing.T) {
	b := readTestdata(t, "kinesis-onfailure.json")
	fs, err := ParseRecords(b, "x")
	if err != nil || len(fs) != 1 || fs[0].Source != batch.SourceKinesis || fs[0].Kafka != nil {
		t.Fatalf("got %v, %v; want one Kinesis failure", fs, err)
	}
	if _, err := ParseRecords([]byte(`{"KinesisBatchInfo":`), "x"); err == nil {
		t.Fatal("got no error for broken JSON")
	}
}

// ParseRecord reads a Kafka record that names one topic-partition, and refuses one
// naming several rather than drop all but one.
func TestParseRecordKafka(t *testing.T) {
	f, err := ParseRecord(readTestdata(t, "kafka-onfailure.json"), "x")
	if err != nil || f.Source != batch.SourceKafka || f.Kafka.Topic != "mytopic" {
		t.Fatalf("got %+v, %v; want the one Kafka failure", f, err)
	}
	_, err = ParseRecord(readTestdata(t, "kafka/kafka-msk-onfailure.json"), "x")
	var perr *ParseError
	if !errors.As(err, &perr) || perr.Field != "KafkaBatchInfo.recordsInfo" || perr.MessageID != "x" {
		t.Fatalf("got %v, want a *ParseError on KafkaBatchInfo.recordsInfo naming x", err)
	}
}

// checkKafkaFailure restates what every Kafka Failure must hold, independently of
// the parser.
func checkKafkaFailure(t *testing.T, f *batch.Failure) {
	t.Helper()
	k := f.Kafka
	if f.Source != batch.SourceKafka || k == nil {
		t.Fatalf("got source %q with Kafka %v", f.Source, k)
	}
	if k.Topic == "" || len(k.Topic) > 249 || strings.ContainsAny(k.Topic, "/: \n") || f.StreamName != k.Topic {
		t.Fatalf("got topic %q, stream name %q", k.Topic, f.StreamName)
	}
	if k.Partition < 0 || k.FirstOffset < 0 || k.FirstOffset > k.LastOffset {
		t.Fatalf("got partition %d range %d..%d", k.Partition, k.FirstOffset, k.LastOffset)
	}
	if f.ShardID == "" || f.Start == "" || f.End == "" {
		t.Fatalf("got shard %q range %q..%q", f.ShardID, f.Start, f.End)
	}
	if k.ClusterARN == "" && len(k.BootstrapServers) == 0 {
		t.Fatal("got neither a cluster ARN nor bootstrap servers")
	}
	if k.ClusterARN != "" && (!strings.HasPrefix(k.ClusterARN, "arn:aws") || !strings.Contains(k.ClusterARN, ":kafka:") || f.StreamARN != k.ClusterARN) {
		t.Fatalf("got cluster ARN %q, StreamARN %q", k.ClusterARN, f.StreamARN)
	}
	if f.BatchSize < 0 || k.PayloadSize < 0 || !json.Valid(f.Raw) || f.Payload != nil && !json.Valid(f.Payload) {
		t.Fatalf("got batch size %d, payload size %d, Raw valid %v", f.BatchSize, k.PayloadSize, json.Valid(f.Raw))
	}
}

func FuzzParseRecords(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "kafka", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if in, err := Parse(b); err == nil {
			for _, it := range in.Items {
				checkItemInvariants(t, it)
			}
		}
		fs, err := ParseRecords(b, "fuzz")
		if err != nil {
			checkParseError(t, err)
			return
		}
		if len(fs) == 0 {
			t.Fatal("got no failure and no error")
		}
		for _, f := range fs {
			checkFailure(t, f)
		}
	})
}
