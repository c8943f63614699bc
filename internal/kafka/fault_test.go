package kafka

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeCluster is franz-go's in-memory Kafka with one topic of 5 records, for faults
// the real broker cannot be made to show on demand.
func fakeCluster(t *testing.T) (*kfake.Cluster, *kgo.Client, string) {
	t.Helper()
	const topic = "orders"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	for i := range 5 {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return c, cl, topic
}

// failFetch answers a Fetch with code for the partition.
func failFetch(code int16) func(kmsg.Request) (kmsg.Response, error, bool) {
	return func(r kmsg.Request) (kmsg.Response, error, bool) {
		req := r.(*kmsg.FetchRequest)
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewFetchResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewFetchResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	}
}

// TestReadLeaderMoved: a Fetch refused because leadership moved is retried after
// a metadata refresh, and the read completes.
func TestReadLeaderMoved(t *testing.T) {
	c, cl, topic := fakeCluster(t)
	c.ControlKey(int16(kmsg.Fetch), failFetch(kerr.NotLeaderForPartition.Code))
	res, err := NewReader(cl).Read(context.Background(), Range{Topic: topic, First: 0, Last: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 5 || len(res.Gaps) != 0 {
		t.Fatalf("got %d records, gaps %v, want 5 and none", len(res.Records), res.Gaps)
	}
	if res.Fetches != 2 || res.Calls != 4 {
		t.Errorf("got %d fetches, %d calls, want 2 (one refused) and 4 (two metadata)", res.Fetches, res.Calls)
	}
}

// TestReadLeaderNeverSettles: leadership errors without end give up after
// MaxRetries refreshes with an error for the caller to retry, not a loop.
func TestReadLeaderNeverSettles(t *testing.T) {
	c, cl, topic := fakeCluster(t)
	fail := failFetch(kerr.NotLeaderForPartition.Code)
	c.ControlKey(int16(kmsg.Fetch), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl() // for every Fetch, not only the first
		return fail(r)
	})
	res, err := NewReader(cl, func(o *Options) { o.MaxRetries = 2 }).Read(context.Background(), Range{Topic: topic, First: 0, Last: 4})
	if err == nil || !strings.Contains(err.Error(), "NOT_LEADER") {
		t.Fatalf("got error %v, want the leadership error", err)
	}
	if res.Fetches != 3 {
		t.Errorf("got %d fetches, want 3 (one and two retries)", res.Fetches)
	}
}
