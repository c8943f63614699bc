package kafka

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// broker connects to the local Kafka and returns a client and an admin client on it.
func broker(t *testing.T, opts ...kgo.Opt) (*kgo.Client, *kadm.Client) {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(testkit.KafkaBrokers(t)...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl, kadm.NewClient(cl)
}

// createTopic creates a one-partition topic with configs and returns its name.
func createTopic(t *testing.T, adm *kadm.Client, configs map[string]*string) string {
	t.Helper()
	name := testkit.Name(t, "t")
	resp, err := adm.CreateTopic(context.Background(), 1, 1, configs, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	return name
}

// produce writes n records with keys k<i> and values v<from+i>, returning their offsets.
func produce(t *testing.T, cl *kgo.Client, topic string, from, n int) []int64 {
	t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(from+i)), Value: []byte("v" + strconv.Itoa(from+i))}
	}
	res := cl.ProduceSync(context.Background(), recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
	offs := make([]int64, n)
	for i, r := range res {
		offs[i] = r.Record.Offset
	}
	return offs
}

func read(t *testing.T, cl *kgo.Client, r Range) Result {
	t.Helper()
	res, err := NewReader(cl).Read(context.Background(), r)
	if err != nil {
		t.Fatalf("read %s: %v", r, err)
	}
	return res
}

// values decodes the records' values, and checks offsets ascend within the range.
func values(t *testing.T, r Range, recs []batch.Record) []string {
	t.Helper()
	var out []string
	prev := int64(-1)
	for _, rec := range recs {
		k := rec.Kafka
		if k == nil || k.Topic != r.Topic || k.Partition != int64(r.Partition) || k.Offset < r.First || k.Offset > r.Last || k.Offset <= prev {
			t.Fatalf("got record %+v after offset %d, want one of %s in order", k, prev, r)
		}
		prev = k.Offset
		v, err := base64.StdEncoding.DecodeString(k.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(v))
	}
	return out
}

func wantValues(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, "v"+strconv.Itoa(i))
	}
	return out
}

func sameStrings(a, b []string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func TestReadRange(t *testing.T) {
	cl, adm := broker(t)
	topic := createTopic(t, adm, nil)
	produce(t, cl, topic, 0, 20)
	headers := &kgo.Record{Topic: topic, Value: []byte("v20"), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte{0xff, 0}}}}
	if err := cl.ProduceSync(context.Background(), headers).FirstErr(); err != nil {
		t.Fatal(err)
	}

	r := Range{Topic: topic, Partition: 0, First: 5, Last: 20}
	res := read(t, cl, r)
	if got := values(t, r, res.Records); !sameStrings(got, wantValues(5, 20)) {
		t.Fatalf("got values %v, want v5..v20", got)
	}
	if len(res.Gaps) != 0 || res.Aborted != 0 {
		t.Fatalf("got gaps %v aborted %d, want none", res.Gaps, res.Aborted)
	}
	// The minimum: one Metadata request and one Fetch for a range within one page.
	if res.Fetches != 1 || res.Calls != 2 {
		t.Errorf("got %d fetches, %d calls, want 1 and 2", res.Fetches, res.Calls)
	}
	first, last := res.Records[0].Kafka, res.Records[len(res.Records)-1].Kafka
	if first.Key != base64.StdEncoding.EncodeToString([]byte("k5")) || first.TimestampType != "CREATE_TIME" || first.Timestamp.IsZero() {
		t.Errorf("got first record %+v, want key k5 with a create time", first)
	}
	if last.Key != "" || len(last.Headers) != 1 || string(last.Headers[0]["h"]) != "\xff\x00" {
		t.Errorf("got last record key %q headers %v, want no key and header h=[255 0]", last.Key, last.Headers)
	}
}

func TestReadPaged(t *testing.T) {
	cl, adm := broker(t)
	topic := createTopic(t, adm, nil)
	produce(t, cl, topic, 0, 50)
	r := Range{Topic: topic, Partition: 0, First: 0, Last: 49}
	res, err := NewReader(cl, func(o *Options) { o.PartitionMaxBytes = 1 }).Read(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(t, r, res.Records); !sameStrings(got, wantValues(0, 49)) {
		t.Fatalf("got values %v, want v0..v49", got)
	}
	// One byte a page still returns a whole batch per Fetch, so pages follow batches.
	if res.Fetches < 1 || len(res.Gaps) != 0 {
		t.Fatalf("got %d fetches, gaps %v", res.Fetches, res.Gaps)
	}
}

func TestReadTrimmed(t *testing.T) {
	cl, adm := broker(t)
	topic := createTopic(t, adm, nil)
	produce(t, cl, topic, 0, 20)
	offs := make(kadm.Offsets)
	offs.AddOffset(topic, 0, 8, -1)
	resp, err := adm.DeleteRecords(context.Background(), offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("delete records: %v", err)
	}

	tests := map[string]struct {
		r        Range
		values   []string
		wantGaps []batch.Gap
	}{
		"partly trimmed": {r: Range{Topic: topic, First: 3, Last: 12}, values: wantValues(8, 12),
			wantGaps: []batch.Gap{{From: "3", To: "7", Reason: batch.GapTrimmed}}},
		"all trimmed": {r: Range{Topic: topic, First: 0, Last: 5},
			wantGaps: []batch.Gap{{From: "0", To: "5", Reason: batch.GapTrimmed}}},
		"past the end": {r: Range{Topic: topic, First: 18, Last: 25}, values: wantValues(18, 19),
			wantGaps: []batch.Gap{{From: "20", To: "25", Reason: batch.GapUnreadable, Detail: "past the partition's end offset 20"}}},
		"all past the end": {r: Range{Topic: topic, First: 30, Last: 31},
			wantGaps: []batch.Gap{{From: "30", To: "31", Reason: batch.GapUnreadable, Detail: "past the partition's end offset"}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			res := read(t, cl, tt.r)
			if got := values(t, tt.r, res.Records); !sameStrings(got, tt.values) {
				t.Errorf("got values %v, want %v", got, tt.values)
			}
			if fmt.Sprint(res.Gaps) != fmt.Sprint(tt.wantGaps) {
				t.Errorf("got gaps %+v, want %+v", res.Gaps, tt.wantGaps)
			}
		})
	}
}

func TestReadTransactions(t *testing.T) {
	_, adm := broker(t)
	topic := createTopic(t, adm, nil)
	txn, _ := broker(t, kgo.TransactionalID(testkit.Name(t, "txn")), kgo.DefaultProduceTopic(topic))
	ctx := context.Background()
	for i, commit := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort, kgo.TryCommit} {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		produce(t, txn, topic, 2*i, 2)
		if err := txn.EndTransaction(ctx, commit); err != nil {
			t.Fatalf("end transaction %d: %v", i, err)
		}
	}
	// Offsets: v0 v1 COMMIT(2) v2 v3 ABORT(5) v4 v5 COMMIT(8).
	r := Range{Topic: topic, First: 0, Last: 8}
	plain, _ := broker(t)
	res := read(t, plain, r)
	if got := values(t, r, res.Records); !sameStrings(got, []string{"v0", "v1", "v4", "v5"}) {
		t.Errorf("got values %v, want v0 v1 v4 v5", got)
	}
	if res.Aborted != 2 || res.Markers != 3 || len(res.Gaps) != 0 {
		t.Errorf("got %d aborted, %d markers, gaps %v, want 2, 3 and none", res.Aborted, res.Markers, res.Gaps)
	}
}

func TestReadOpenTransaction(t *testing.T) {
	_, adm := broker(t)
	topic := createTopic(t, adm, nil)
	plain, _ := broker(t)
	produce(t, plain, topic, 0, 2)
	txn, _ := broker(t, kgo.TransactionalID(testkit.Name(t, "txn")), kgo.DefaultProduceTopic(topic))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produce(t, txn, topic, 2, 2)
	t.Cleanup(func() { _ = txn.EndTransaction(context.Background(), kgo.TryAbort) })

	r := Range{Topic: topic, First: 0, Last: 3}
	res := read(t, plain, r)
	if got := values(t, r, res.Records); !sameStrings(got, wantValues(0, 1)) {
		t.Errorf("got values %v, want v0 v1", got)
	}
	want := []batch.Gap{{From: "2", To: "3", Reason: batch.GapUnreadable, Detail: "in an open transaction (last stable offset 2)"}}
	if fmt.Sprint(res.Gaps) != fmt.Sprint(want) {
		t.Errorf("got gaps %+v, want %+v", res.Gaps, want)
	}
}

// TestReadCompacted lets the broker's log cleaner compact a topic (segments roll
// after 100 ms and any dirty ratio is enough; localaws.sh wakes the cleaner every
// second) and waits, up to a bound, until it has.
func TestReadCompacted(t *testing.T) {
	cl, adm := broker(t)
	str := func(s string) *string { return &s }
	topic := createTopic(t, adm, map[string]*string{
		"cleanup.policy": str("compact"), "segment.ms": str("100"), "min.cleanable.dirty.ratio": str("0.001"),
		"min.compaction.lag.ms": str("0"), "delete.retention.ms": str("0"),
	})
	// Offsets 0..5 with keys a b a b c a: compaction keeps 3 (b), 4 (c), 5 (a).
	ctx := context.Background()
	for i, k := range []string{"a", "b", "a", "b", "c", "a"} {
		rec := &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte("v" + strconv.Itoa(i))}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	r := Range{Topic: topic, First: 0, Last: 5}
	deadline := time.Now().Add(60 * time.Second)
	var res Result
	for i := 6; ; i++ {
		// The active segment is never cleaned: a new record after segment.ms rolls it.
		time.Sleep(300 * time.Millisecond)
		produce(t, cl, topic, i, 1)
		if res = read(t, cl, r); len(res.Gaps) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if got := values(t, r, res.Records); !sameStrings(got, []string{"v3", "v4", "v5"}) {
		t.Errorf("got values %v, want v3 v4 v5", got)
	}
	want := []batch.Gap{{From: "0", To: "2", Reason: batch.GapCompacted}}
	if fmt.Sprint(res.Gaps) != fmt.Sprint(want) {
		t.Errorf("got gaps %+v, want %+v", res.Gaps, want)
	}
}

func TestReadRefused(t *testing.T) {
	cl, adm := broker(t)
	topic := createTopic(t, adm, nil)
	missing := testkit.Name(t, "missing")
	tests := map[string]struct {
		r          Range
		wantReason string
	}{
		"no topic":     {r: Range{Topic: missing, First: 0, Last: 1}, wantReason: "topic not found"},
		"no partition": {r: Range{Topic: topic, Partition: 3, First: 0, Last: 1}, wantReason: "partition not found"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewReader(cl).Read(context.Background(), tt.r)
			var ue *UnreadableError
			if !errors.As(err, &ue) || ue.Reason != tt.wantReason {
				t.Fatalf("got error %v, want an UnreadableError %q", err, tt.wantReason)
			}
		})
	}
	// Reading must not create the topic it looked for.
	topics, err := adm.ListTopics(context.Background(), missing)
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has(missing) {
		t.Errorf("reading created topic %s", missing)
	}
}
