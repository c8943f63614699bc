package redrive

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestReportLogAndMetrics(t *testing.T) {
	rep := Report{
		Source: "sqs:q", Messages: 3, Records: 30, Delivered: 20, Throttled: 4, Left: 10, Replaced: 1, Removed: 2,
		Elapsed: 2 * time.Second, Stopped: StoppedDrained,
		Targets: []TargetStats{{Target: "kinesis:arn", Delivered: 20, Throttled: 4, Bytes: 2000}},
	}
	var logged bytes.Buffer
	log := zerolog.New(&logged)
	log.Info().EmbedObject(rep).Send()
	var fields map[string]any
	if err := json.Unmarshal(logged.Bytes(), &fields); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]any{"delivered": 20.0, "throttled": 4.0, "left": 10.0, "rate": 10.0, "stopped": "drained"} {
		if fields[name] != want {
			t.Errorf("log field %s: got %v, want %v", name, fields[name], want)
		}
	}
	var metrics bytes.Buffer
	if err := rep.WriteMetrics(&metrics, time.Unix(1700000000, 0)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(metrics.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d EMF lines, want the run's and one per target", len(lines))
	}
	var line struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace string
				Metrics   []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		RedriveDelivered float64
		RedriveRate      float64
		Target           string
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	if ns := line.AWS.CloudWatchMetrics[0].Namespace; ns != "streamdlq" || line.RedriveDelivered != 20 || line.RedriveRate != 10 {
		t.Errorf("got namespace %s, delivered %v, rate %v, want streamdlq, 20, 10", ns, line.RedriveDelivered, line.RedriveRate)
	}
	if err := json.Unmarshal([]byte(lines[1]), &line); err != nil || line.Target != "kinesis:arn" {
		t.Errorf("got target %q (%v), want kinesis:arn", line.Target, err)
	}
}

// FuzzFirstFailure: a consumer function's response is outside input; whatever it
// says, the first undelivered index stays within the batch.
func FuzzFirstFailure(f *testing.F) {
	f.Add(`{"batchItemFailures":[{"itemIdentifier":"00000000000000000000000000000000000000000000000000000002"}]}`)
	f.Add(`{"batchItemFailures":[{"itemIdentifier":null}]}`)
	f.Add(`{"batchItemFailures":{}}`)
	f.Add(`[]`)
	entries := make([]*Entry, 3)
	for i := range entries {
		entries[i] = &Entry{Record: kinesisRecord("arn:s", "k", i+1, nil)}
	}
	f.Fuzz(func(t *testing.T, payload string) {
		i, err := firstFailure([]byte(payload), entries)
		if i < 0 || i > len(entries) || (i < len(entries)) != (err != nil) {
			t.Errorf("got %d, %v for %q", i, err, payload)
		}
	})
}

// FuzzParseRoute: routes come from configuration; a parsed route always has a pattern
// and a target spec the Redriver knows.
func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"a=kinesis", "orders-*=lambda:fn", "x=sqs:https://q", "[=kinesis", "=", "a=events:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoute(s)
		if err == nil && (r.Pattern == "" || validSpec(r.Target) != nil) {
			t.Errorf("got %+v without error for %q", r, s)
		}
	})
}
