package chaos

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/redrive"
)

// TestRehydratedOnceRefusalClears is issue 9's end-to-end promise, deterministic: a
// failure whose reads are refused (KMSAccessDeniedException after one page) in every
// attempt Lambda makes is parked on the hydrator's failure queue; once the refusal
// clears, the rehydration schedule (the deployed function's path) hydrates it, and
// after a redrive every record is on the target exactly once.
func TestRehydratedOnceRefusalClears(t *testing.T) {
	cfg := testkit.Config(t, testkit.Kinesis, testkit.Moto)
	ctx := context.Background()
	w, err := NewWorld(ctx, cfg, testkit.Name(t, "rehydrate"))
	if err != nil {
		t.Fatal(err)
	}
	name := w.name + "-1"
	q, err := w.createQueues(ctx, name, 262144)
	if err != nil {
		t.Fatal(err)
	}
	p := plan{records: 9, failures: 1, keys: 3, consumers: 1}
	recs := w.records(1, rand.New(rand.NewPCG(1, 1)), p)
	if err := w.write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	inj := NewInjector(rand.New(rand.NewPCG(1, 2)), map[Class]bool{Denied: true}, 0)
	inj.source = w.source
	inj.Deny(asyncAttempts, 2) // every attempt Lambda makes is refused after 2 records
	r := &Run{Injected: inj.Injected}
	e := &runEnv{World: w, inj: inj, cfg: w.faulty(inj), q: q, prefix: name, run: r, trimmed: map[string]bool{}, consumers: 1,
		from: source{kind: "kinesis", arn: w.source, shard: w.sourceShard, route: redrive.PrefixKinesis + w.target}, failedAt: time.Now().UTC()}
	if err := e.deliverSNS(ctx, []json.RawMessage{e.onFailure(recs, 0, consumerARNs[0])}); err != nil {
		t.Fatal(err)
	}
	if r.ParkedEvents != 1 || inj.Injected[Denied] < asyncAttempts {
		t.Fatalf("got %d events parked after %d refusals, want 1 after at least %d: the refusal must outlast Lambda's retries",
			r.ParkedEvents, inj.Injected[Denied], asyncAttempts)
	}
	if err := e.rehydrate(ctx); err != nil {
		t.Fatal(err)
	}
	if r.Rehydrated != 1 || r.RehydrateTicks != 1 {
		t.Errorf("got %d events rehydrated in %d ticks, want 1 in 1 (errors %v)", r.Rehydrated, r.RehydrateTicks, r.Errors)
	}
	if err := e.redrive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.check(ctx, e, recs); err != nil {
		t.Fatal(err)
	}
	if r.Delivered != len(recs) || r.Duplicates != 0 || r.Lost != 0 || r.Parked != 0 || r.Queued != 0 {
		t.Errorf("got %+v, want all %d records delivered exactly once", r.Tally, len(recs))
	}
	for _, problem := range r.Problems {
		t.Error(problem)
	}
}
