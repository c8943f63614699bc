package hydrate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// env is one test's slice of the local AWS: a stream, the archive bucket, the DLQ, and
// a bus whose events land in a queue the test reads.
type env struct {
	cfg       aws.Config
	faults    *testkit.Calls
	streamARN string
	bucket    string
	dlqURL    string
	eventsURL string
	bus       string
	s3        *s3.Client
	sqs       *sqs.Client
}

func newEnv(t *testing.T, queueAttrs map[string]string) *env {
	t.Helper()
	cfg := testkit.Config(t, testkit.Kinesis, testkit.Moto)
	e := &env{cfg: cfg, faults: &testkit.Calls{}}
	e.cfg.APIOptions = append(e.cfg.APIOptions, e.faults.Add)
	e.s3, e.sqs = awsenv.S3(cfg), sqs.NewFromConfig(cfg)
	e.streamARN = testkit.Stream(t, kinesis.NewFromConfig(cfg), 2)
	e.bucket = testkit.Bucket(t, e.s3, "b")
	e.dlqURL = testkit.Queue(t, e.sqs, "dlq", queueAttrs)
	e.eventsURL = testkit.Queue(t, e.sqs, "ev", nil)
	e.bus = testkit.Name(t, "bus")
	routeBusToQueue(t, eventbridge.NewFromConfig(cfg), e.sqs, e.bus, e.eventsURL)
	return e
}

func (e *env) config() hydrate.Config {
	allowed, _ := hydrate.ParseAllowlist(e.streamARN)
	return hydrate.Config{Allowed: allowed, ArchiveBucket: e.bucket, ArchivePrefix: "failures", DLQURL: e.dlqURL, EventBus: e.bus}
}

func (e *env) handler(t *testing.T) *hydrate.Handler {
	return hydrate.NewFromConfig(e.cfg, e.config(), false)
}

func (e *env) archive() *archive.Archive {
	return archive.New(e.s3, func(o *archive.Options) { o.Bucket, o.Prefix = e.bucket, "failures" })
}

func routeBusToQueue(t *testing.T, eb *eventbridge.Client, q *sqs.Client, bus, queueURL string) {
	t.Helper()
	ctx := context.Background()
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &bus}); err != nil {
		t.Fatal(err)
	}
	queueARN, err := testkit.QueueARN(ctx, q, queueURL)
	if err != nil {
		t.Fatal(err)
	}
	rule := "all-streamdlq"
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &rule, EventBusName: &bus, EventPattern: aws.String(`{"source":["streamdlq"]}`)}); err != nil {
		t.Fatal(err)
	}
	target := eventbridgeTarget(queueARN)
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &rule, EventBusName: &bus, Targets: target}); err != nil {
		t.Fatal(err)
	}
}

// written is what a test put on one shard, in stream order.
type written struct {
	seqs []string
	data map[string][]byte // by sequence number
}

// putRecords writes n records across the stream and returns them per shard.
func putRecords(t *testing.T, k *kinesis.Client, streamARN string, n, size int) map[string]*written {
	t.Helper()
	shards := map[string]*written{}
	for start := 0; start < n; start += 500 {
		var entries []ktypes.PutRecordsRequestEntry
		for i := start; i < min(start+500, n); i++ {
			data := fmt.Appendf(nil, `{"i":%d,"pad":"%0*d"}`, i, max(size-20, 1), i)
			entries = append(entries, ktypes.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprint("pk-", i%13))})
		}
		out, err := k.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamARN: &streamARN, Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
			t.Fatalf("put records: %v (failed %d)", err, aws.ToInt32(out.FailedRecordCount))
		}
		for i, r := range out.Records {
			w := shards[aws.ToString(r.ShardId)]
			if w == nil {
				w = &written{data: map[string][]byte{}}
				shards[aws.ToString(r.ShardId)] = w
			}
			w.seqs = append(w.seqs, aws.ToString(r.SequenceNumber))
			w.data[aws.ToString(r.SequenceNumber)] = entries[i].Data
		}
	}
	return shards
}

// busiest returns the shard that got the most records.
func busiest(shards map[string]*written) (string, *written) {
	ids := make([]string, 0, len(shards))
	for id := range shards {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	best := ids[0]
	for _, id := range ids {
		if len(shards[id].seqs) > len(shards[best].seqs) {
			best = id
		}
	}
	return best, shards[best]
}

// receiveAll drains up to max messages from a queue, waiting briefly for stragglers.
func receiveAll(t *testing.T, c *sqs.Client, url string, max int) []sqstypes.Message {
	t.Helper()
	var msgs []sqstypes.Message
	seen := map[string]bool{}
	deadline := time.Now().Add(3 * time.Second)
	for len(msgs) < max && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
			VisibilityTimeout: 60,
		})
		if err != nil {
			t.Fatal(err)
		}
		// A message received twice is one message; a message sent twice has two ids.
		for _, m := range out.Messages {
			if !seen[*m.MessageId] {
				seen[*m.MessageId] = true
				msgs = append(msgs, m)
			}
		}
	}
	return msgs
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}

func eventbridgeTarget(queueARN string) []ebtypes.Target {
	return []ebtypes.Target{{Id: aws.String("queue"), Arn: &queueARN}}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itoa(n int) string { return fmt.Sprint(n) }

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
