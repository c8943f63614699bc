package chaos_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/test/chaos"
)

var (
	runs   = flag.Int("chaos.runs", 50, "seeded runs of the fault matrix (make chaos: 500)")
	seed   = flag.Int64("chaos.seed", 1, "seed of the first run; run i uses seed+i, so -chaos.seed=S -chaos.runs=1 replays run S")
	report = flag.String("chaos.report", "", "file whose fault matrix section to rewrite (make chaos: RELIABILITY.md)")
)

// TestChaos plays seeded runs of the whole flow against the local AWS with faults
// injected at every SDK call, and fails on any record lost, any duplicate no fault
// explains, any key delivered out of order, and any payload in the logs.
func TestChaos(t *testing.T) {
	cfg := testkit.Config(t, testkit.Kinesis, testkit.DynamoDB, testkit.DynamoDBStreams, testkit.Moto)
	logs := &testkit.SyncBuffer{}
	ctx := zerolog.New(logs).Level(zerolog.DebugLevel).WithContext(context.Background())
	w, err := chaos.NewWorld(ctx, cfg, testkit.Name(t, "chaos"))
	if err != nil {
		t.Fatal(err)
	}
	var m chaos.Matrix
	var payloads [][]byte
	settings := chaos.DefaultSettings
	if testing.Verbose() && *runs == 1 {
		settings.Trace = func(call int, service, op, fate string) { t.Logf("call %2d %s %s: %s", call, service, op, fate) }
	}
	start := time.Now()
	for i := range *runs {
		r, err := w.Run(ctx, *seed+int64(i), settings)
		if err != nil {
			t.Fatalf("seed %d: %v", *seed+int64(i), err)
		}
		m.Add(r)
		payloads = append(payloads, r.Payloads...)
		for _, p := range r.Problems {
			t.Errorf("seed %d (faults %v, injected %v): %s", r.Seed, r.Enabled, r.Injected, p)
		}
		if len(r.Problems) > 0 || testing.Verbose() && *runs == 1 {
			for _, e := range r.Errors {
				t.Logf("seed %d: %s", r.Seed, e)
			}
		}
	}
	t.Logf("%d runs from seed %d in %v, %d events parked, %d rehydrated in %d rehydration ticks\n%s", m.Runs, *seed,
		time.Since(start).Round(time.Second), m.ParkedEvents, m.Rehydrated, m.RehydrateTicks, m.Table())
	if m.Total.Lost > 0 || m.Total.Unexplained > 0 || m.Total.OutOfOrder > 0 {
		t.Errorf("got %d lost, %d unexplained duplicates, %d out of order; want 0 each", m.Total.Lost, m.Total.Unexplained, m.Total.OutOfOrder)
	}
	checkNoPayloadLogged(t, logs.Bytes(), payloads)
	if *report != "" {
		how := fmt.Sprintf("Last run: %s, %d runs, seeds %d..%d (`go test ./test/chaos -run 'TestChaos$' -args -chaos.seed=%d -chaos.runs=%d` under scripts/localaws.sh run), %d on-failure events parked after Lambda's retries and %d of them hydrated by the rehydration schedule, %d log bytes scanned for payloads.",
			time.Now().UTC().Format("2006-01-02"), m.Runs, *seed, *seed+int64(m.Runs)-1, *seed, m.Runs, m.ParkedEvents, m.Rehydrated, len(logs.Bytes()))
		if err := chaos.WriteReport(*report, &m, how); err != nil {
			t.Fatal(err)
		}
	}
}

// checkNoPayloadLogged scans everything the flow logged for each payload, raw, as
// JSON-escaped text and base64 (how the SDK and encoding/json would print it).
func checkNoPayloadLogged(t *testing.T, logs []byte, payloads [][]byte) {
	t.Helper()
	if len(logs) == 0 {
		t.Fatal("the flow logged nothing; the scan would prove nothing")
	}
	for _, p := range payloads {
		for _, form := range [][]byte{p, []byte(base64.StdEncoding.EncodeToString(p)), bytes.ReplaceAll(p, []byte(`"`), []byte(`\"`)), secretOf(p)} {
			if bytes.Contains(logs, form) {
				t.Errorf("the logs contain a record payload (%.20s...)", form)
				break
			}
		}
	}
}

// secretOf is the part of a payload unique to it.
func secretOf(p []byte) []byte {
	if i := bytes.Index(p, []byte("s3cr3t-")); i >= 0 {
		return bytes.TrimSuffix(p[i:], []byte(`"}`))
	}
	return p
}
