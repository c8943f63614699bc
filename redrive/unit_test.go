package redrive

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/streamdlq/streamdlq/archive"
)

func TestFirstFailure(t *testing.T) {
	entries := make([]*Entry, 4)
	for i := range entries {
		entries[i] = &Entry{Record: kinesisRecord("arn:src", "k", i+1, nil)}
	}
	seq := func(i int) string { return entries[i].Record.SequenceNumber() }
	tests := map[string]struct {
		payload string
		want    int
		wantErr bool
	}{
		"no payload":             {payload: ``, want: 4},
		"null":                   {payload: `null`, want: 4},
		"empty list":             {payload: `{"batchItemFailures":[]}`, want: 4},
		"not a batch response":   {payload: `"done"`, want: 4},
		"one failure":            {payload: `{"batchItemFailures":[{"itemIdentifier":"` + seq(2) + `"}]}`, want: 2, wantErr: true},
		"lowest of several wins": {payload: `{"batchItemFailures":[{"itemIdentifier":"` + seq(3) + `"},{"itemIdentifier":"` + seq(1) + `"}]}`, want: 1, wantErr: true},
		"empty identifier":       {payload: `{"batchItemFailures":[{"itemIdentifier":""}]}`, want: 0, wantErr: true},
		"null identifier":        {payload: `{"batchItemFailures":[{"itemIdentifier":null}]}`, want: 0, wantErr: true},
		"wrong key name":         {payload: `{"batchItemFailures":[{"id":"` + seq(2) + `"}]}`, want: 0, wantErr: true},
		"unknown identifier":     {payload: `{"batchItemFailures":[{"itemIdentifier":"42"}]}`, want: 0, wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := firstFailure([]byte(tt.payload), entries)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("got %d, %v, want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	doc := &archive.Document{Records: []batch.Record{{}, {}}}
	items := func(states ...itemState) []*item {
		var out []*item
		for _, s := range states {
			out = append(out, &item{state: s, err: errors.New("boom")})
		}
		return out
	}
	tests := map[string]struct {
		u    *unit
		want verdict
	}{
		"all delivered":               {u: &unit{doc: doc, items: items(stateDelivered, stateDelivered)}, want: remove},
		"some delivered":              {u: &unit{doc: doc, items: items(stateDelivered, stateLeft)}, want: replace},
		"some delivered, one refused": {u: &unit{doc: doc, items: items(stateDelivered, stateRejected)}, want: replace},
		"nothing delivered":           {u: &unit{doc: doc, items: items(stateLeft, stateLeft)}, want: requeue},
		"nothing, often tried":        {u: &unit{doc: doc, attempt: 5, items: items(stateLeft, stateLeft)}, want: park},
		"refused":                     {u: &unit{doc: doc, items: items(stateRejected, stateLeft)}, want: park},
		"bad format":                  {u: &unit{err: errors.New("x"), permanent: true}, want: park},
		"transient read error":        {u: &unit{err: errors.New("x"), attempt: 1}, want: requeue},
		"read error, often tried":     {u: &unit{err: errors.New("x"), attempt: 5}, want: park},
		"filtered":                    {u: &unit{doc: doc, skip: skipFiltered, attempt: 9}, want: keep},
		"target down, often tried": {u: &unit{doc: doc, attempt: 9, items: []*item{
			{state: stateLeft, err: &TargetError{Target: "t", Err: errors.New("AccessDenied")}},
			{state: stateLeft, err: fmt.Errorf("wrapped: %w", &TargetError{Target: "t", Err: errors.New("AccessDenied")})},
		}}, want: keep},
		"held behind an earlier failure": {u: &unit{doc: doc, attempt: 9, items: []*item{
			{state: stateLeft, err: ErrEarlierUnfinished}, {state: stateLeft, err: ErrEarlierUnfinished},
		}}, want: keep},
		"time ran out, often tried": {u: &unit{doc: doc, attempt: 9, items: []*item{
			{state: stateLeft, err: ErrTimeBudget}, {state: stateLeft, err: ErrTimeBudget},
		}}, want: keep},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tt.u.verdict(5); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	kin := archive.Hydration{Source: "kinesis", StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders-eu"}
	ddb := archive.Hydration{Source: "dynamodb", StreamARN: "arn:aws:dynamodb:us-east-1:123456789012:table/carts/stream/2024-01-01T00:00:00.000"}
	fn := "arn:aws:lambda:us-east-1:123456789012:function:orders-consumer:live"
	routes := []Route{
		{Pattern: "carts", Target: "lambda:cart-consumer"},
		{Pattern: "arn:aws:kinesis:*:*:stream/audit", Target: "events:audit-bus"},
		{Pattern: "orders-*", Target: "kinesis"},
	}
	tests := map[string]struct {
		routes   []Route
		h        archive.Hydration
		consumer string
		want     string
		wantErr  error
	}{
		"kinesis default is the consumer":  {h: kin, consumer: fn, want: "lambda:" + fn},
		"dynamodb default is the consumer": {h: ddb, consumer: fn, want: "lambda:" + fn},
		"kinesis by name glob":             {routes: routes, h: kin, consumer: fn, want: "kinesis:" + kin.StreamARN},
		"dynamodb by table":                {routes: routes, h: ddb, want: "lambda:cart-consumer"},
		"no consumer, no route":            {h: kin, wantErr: ErrNoConsumer},
		"consumer spec":                    {routes: []Route{{"*", "consumer"}}, h: ddb, consumer: fn, want: "lambda:" + fn},
		"dynamodb to its source kinesis":   {routes: []Route{{"*", "kinesis"}}, h: ddb, consumer: fn, wantErr: ErrDynamoDBToKinesis},
		"dynamodb to a kinesis stream":     {routes: []Route{{"*", "kinesis:arn:aws:kinesis:us-east-1:1:stream/x"}}, h: ddb, wantErr: ErrDynamoDBToKinesis},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := route(tt.routes, tt.h, tt.consumer)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("got %q, %v, want %q, %v", got, err, tt.want, tt.wantErr)
			}
			if tt.wantErr != nil && !errors.Is(err, ErrNoRoute) {
				t.Errorf("got %v, want it to wrap ErrNoRoute", err)
			}
		})
	}
}

func TestReadFailureConsumer(t *testing.T) {
	const stream = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
	tests := map[string]struct {
		ctx           string
		wantConsumer  string
		wantBatchSize int
	}{
		"qualified":             {ctx: `"requestContext":{"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:c:live"}`, wantConsumer: "arn:aws:lambda:us-east-1:123456789012:function:c:live", wantBatchSize: 3},
		"unqualified":           {ctx: `"requestContext":{"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:c"}`, wantConsumer: "arn:aws:lambda:us-east-1:123456789012:function:c", wantBatchSize: 3},
		"pipe":                  {ctx: `"context":{"partnerResourceArn":"arn:aws:pipes:us-east-1:123456789012:pipe/p"}`, wantBatchSize: 3},
		"missing":               {ctx: `"requestContext":{}`, wantBatchSize: 3},
		"kafka, two partitions": {ctx: `"requestContext":{"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:k"}`, wantConsumer: "arn:aws:lambda:us-east-1:123456789012:function:k", wantBatchSize: 3},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			raw := `{` + tt.ctx + `,"KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1","endSequenceNumber":"3","batchSize":3,"streamArn":"` + stream + `"}}`
			if strings.HasPrefix(name, "kafka") {
				raw = `{` + tt.ctx + `,"KafkaBatchInfo":{"batchSize":3,"bootstrapServers":"b-1:9092","recordsInfo":{"t-0":{"firstRecordOffset":"1","lastRecordOffset":"2"},"t-1":{"firstRecordOffset":"5","lastRecordOffset":"5"}}}}`
			}
			u := &unit{doc: &archive.Document{Failure: []byte(raw), Hydration: archive.Hydration{Expected: 7}}}
			readFailure(u)
			if u.consumer != tt.wantConsumer || u.batchSize != tt.wantBatchSize {
				t.Errorf("got %q, %d, want %q, %d", u.consumer, u.batchSize, tt.wantConsumer, tt.wantBatchSize)
			}
		})
	}
}

func TestParseRoute(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    Route
		wantErr bool
	}{
		"lambda":               {in: "carts=lambda:consumer", want: Route{"carts", "lambda:consumer"}},
		"source stream":        {in: " orders-* = kinesis ", want: Route{"orders-*", "kinesis"}},
		"sqs url":              {in: "x=sqs:https://sqs.us-east-1.amazonaws.com/1/q", want: Route{"x", "sqs:https://sqs.us-east-1.amazonaws.com/1/q"}},
		"no target":            {in: "carts", wantErr: true},
		"unknown kind":         {in: "carts=ftp:x", wantErr: true},
		"empty lambda":         {in: "carts=lambda:", wantErr: true},
		"bad glob":             {in: "[=kinesis", wantErr: true},
		"empty pattern":        {in: "=kinesis", wantErr: true},
		"kinesis arn too":      {in: "a=kinesis:arn:aws:kinesis:us-east-1:1:stream/b", want: Route{"a", "kinesis:arn:aws:kinesis:us-east-1:1:stream/b"}},
		"consumer":             {in: "*=consumer", want: Route{"*", "consumer"}},
		"dynamodb to kinesis":  {in: "arn:aws:dynamodb:*:*:table/carts/stream/*=kinesis", wantErr: true},
		"dynamodb to a stream": {in: "arn:aws:dynamodb:*=kinesis:arn:aws:kinesis:us-east-1:1:stream/b", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseRoute(tt.in)
			if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
				t.Errorf("got %+v, %v, want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	day := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	h := archive.Hydration{
		StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders", ShardID: "shardId-000000000001",
		Condition: "RetryAttemptsExhausted", FirstArrival: day,
	}
	tests := map[string]struct {
		f    Filter
		want bool
	}{
		"empty selects all":   {f: Filter{}, want: true},
		"stream glob":         {f: Filter{Streams: []string{"ord*"}}, want: true},
		"other stream":        {f: Filter{Streams: []string{"payments"}}, want: false},
		"shard":               {f: Filter{Shards: []string{"shardId-000000000001"}}, want: true},
		"other shard":         {f: Filter{Shards: []string{"shardId-000000000002"}}, want: false},
		"condition":           {f: Filter{Conditions: []string{"RecordAgeExceeded", "RetryAttemptsExhausted"}}, want: true},
		"other condition":     {f: Filter{Conditions: []string{"RecordAgeExceeded"}}, want: false},
		"in range":            {f: Filter{Since: day.Add(-time.Hour), Until: day.Add(time.Hour)}, want: true},
		"bounds are included": {f: Filter{Since: day, Until: day}, want: true},
		"too early":           {f: Filter{Since: day.Add(time.Second)}, want: false},
		"too late":            {f: Filter{Until: day.Add(-time.Second)}, want: false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tt.f.matches(h); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRestKey(t *testing.T) {
	sub := uint64(3)
	rec := kinesisRecord("arn:src", "k", 77, nil)
	kpl := kinesisRecord("arn:src", "k", 78, nil)
	kpl.Kinesis.Kinesis.SubSequenceNumber = &sub
	base := "p/source=kinesis/stream=s/dt=2025-01-01/shardId-000000000000/1-9.jsonl.gz"
	tests := map[string]struct {
		key  string
		rest []batch.Record
		want string
	}{
		"first rest":      {key: base, rest: []batch.Record{rec, rec}, want: "p/source=kinesis/stream=s/dt=2025-01-01/shardId-000000000000/1-9.rest-" + rec.SequenceNumber() + "-2.jsonl.gz"},
		"rest of a rest":  {key: strings.TrimSuffix(base, ".jsonl.gz") + ".rest-5-9.jsonl.gz", rest: []batch.Record{rec}, want: "p/source=kinesis/stream=s/dt=2025-01-01/shardId-000000000000/1-9.rest-" + rec.SequenceNumber() + "-1.jsonl.gz"},
		"kpl sub-records": {key: base, rest: []batch.Record{kpl}, want: fmt.Sprintf("p/source=kinesis/stream=s/dt=2025-01-01/shardId-000000000000/1-9.rest-%s_3-1.jsonl.gz", kpl.SequenceNumber())},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := restKey(tt.key, &archive.Document{Records: tt.rest}); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestOrderByShardAndChain: a round's failures are sorted by shard and sequence, and
// each waits for the earlier one of its shard at the same target only: two
// consumers of one stream fail independently.
// Partition 0 of two topics, or of one topic on two self-managed clusters, are
// different shards: their failures never wait for each other.
func TestShardOfKafka(t *testing.T) {
	mk := func(cluster, servers, topic string) *unit {
		return &unit{doc: &archive.Document{Hydration: archive.Hydration{StreamARN: cluster, ShardID: "0",
			Kafka: &archive.KafkaHydration{Topic: topic, BootstrapServers: []string{servers}}}}}
	}
	const msk = "arn:aws:kafka:us-east-1:123456789012:cluster/c/1"
	if shardOf(mk(msk, "b-1:9098", "orders")) == shardOf(mk(msk, "b-1:9098", "payments")) {
		t.Error("two topics of one cluster: got one shard")
	}
	if shardOf(mk("", "a:9092", "orders")) == shardOf(mk("", "b:9092", "orders")) {
		t.Error("one topic on two self-managed clusters: got one shard")
	}
	if a, b := mk(msk, "b-1:9098", "orders"), mk(msk, "b-1:9098", "orders"); shardOf(a) != shardOf(b) {
		t.Error("one partition: got two shards")
	}
}

func TestOrderByShardAndChain(t *testing.T) {
	mk := func(shard, start, target string) *unit {
		return &unit{target: target, doc: &archive.Document{Hydration: archive.Hydration{StreamARN: "arn:s", ShardID: shard, Start: start}}}
	}
	late, early := mk("shard-1", "200", "lambda:a"), mk("shard-1", "99", "lambda:a")
	other := mk("shard-1", "150", "lambda:b")
	elsewhere := mk("shard-2", "1", "lambda:a")
	units := []*unit{late, elsewhere, other, early}
	orderByShard(units)
	if units[0] != early || units[1] != other || units[2] != late || units[3] != elsewhere {
		t.Fatalf("got order %v %v %v %v, want shard-1 by sequence (99, 150, 200), then shard-2",
			units[0].doc.Hydration.Start, units[1].doc.Hydration.Start, units[2].doc.Hydration.Start, units[3].doc.Hydration.Start)
	}
	r := New(nil)
	r.chainShards(units)
	if late.after != early || other.after != nil || early.after != nil || elsewhere.after != nil {
		t.Errorf("got late after %p (want %p), other after %p, want only the same target's failures chained", late.after, early, other.after)
	}
}
