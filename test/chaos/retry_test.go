package chaos

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// TestRetryQueuesWhatWasArchived is the loss the fault matrix found (seeds 1132, 1202,
// 1232, 1254, 1289 of `make chaos`), made deterministic with the cause a real stream
// gives it: the first attempt archives every record and fails before queuing; by the
// retry (Lambda retries async invocations for up to six hours, and a parked event is
// replayed later still) the records are past retention. The archive object is found
// and kept, but the DLQ gets the retry's document — no records, a trimmed gap — so
// the redrive never delivers records the archive holds. The queued document must
// carry the archived records.
func TestRetryQueuesWhatWasArchived(t *testing.T) {
	cfg := testkit.Config(t, testkit.Kinesis, testkit.Moto)
	ctx := context.Background()
	w, err := NewWorld(ctx, cfg, testkit.Name(t, "retry"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := w.createQueues(ctx, w.name+"-q", 262144)
	if err != nil {
		t.Fatal(err)
	}
	recs := w.records(1, rand.New(rand.NewPCG(1, 1)), plan{records: 6, failures: 1, keys: 2})
	if err := w.write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	later := w.records(2, rand.New(rand.NewPCG(2, 1)), plan{records: 1, failures: 1, keys: 1})
	if err := w.write(ctx, later); err != nil {
		t.Fatal(err)
	}
	payload := onfailure.SNSEvent(topicARN, onfailure.Record(onfailure.Batch{Source: "kinesis", StreamARN: w.source,
		ShardID: w.sourceShard, Start: recs[0].seq, End: recs[len(recs)-1].seq, BatchSize: len(recs), Time: time.Now()}))
	c := hydrate.Config{ArchiveBucket: w.bucket, ArchivePrefix: "retry", DLQURL: q.dlq}
	c.Allowed, _ = hydrate.ParseAllowlist(w.source)

	// Attempt 1: archived, then SendMessage refused.
	first := w.clean.Copy()
	first.APIOptions = append(first.APIOptions, refuse("SendMessage"))
	if _, err := hydrate.NewFromConfig(first, c, false).Handle(ctx, payload); err == nil {
		t.Fatal("first attempt: got nil error, want the refused SendMessage")
	}
	// Attempt 2: every record of the range is now trimmed.
	inj := NewInjector(rand.New(rand.NewPCG(1, 2)), nil, 0)
	inj.Trim(w.source, w.sourceShard, later[0].seq, recs[len(recs)-1].seq)
	if _, err := hydrate.NewFromConfig(w.faulty(inj), c, false).Handle(ctx, payload); err != nil {
		t.Fatalf("retry: %v", err)
	}
	var f found
	f.queued = map[string]bool{}
	if err := w.readQueue(ctx, q.dlq, &f, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !f.queued[r.seq] {
			t.Errorf("record %d: got it missing from the DLQ message, want it queued as it is archived", r.index)
		}
	}
}

// refuse fails every call of op with an access denial before it is sent.
func refuse(op string) func(*middleware.Stack) error {
	return testkit.Middleware("refuse"+op, func(ctx context.Context, c testkit.Call, next testkit.Next) (any, error) {
		if c.Operation == op {
			return nil, faultError(Permanent, c.Service, op)
		}
		return next(ctx, c.Params)
	})
}
