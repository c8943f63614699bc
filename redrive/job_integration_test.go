package redrive

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/testkit/lambdafn"
)

// TestJobResumes: a replay from the archive as a job records each object fully
// redriven; the next run of the job sends only the rest, so every record arrives
// exactly once, and ListJobs shows the progress. A job resumed with another
// selection is refused.
func TestJobResumes(t *testing.T) {
	e := newEnv(t)
	docs := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/orders", 3, 4, 2)
	for _, d := range docs {
		if _, err := e.archive.Put(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	broken := strings.Split(recordID(docs[1].Records[0]), "/")[0] + "/"
	failing := true
	fn := &lambdafn.Function{Respond: func(ids, _ []string) (int, string, string) {
		if failing && strings.HasPrefix(ids[0], broken) {
			return 200, "Unhandled", `{"errorType":"Boom"}`
		}
		return 200, "", ""
	}}
	lc := startFunction(t, fn, e.cfg)
	filter := archive.Filter{Source: "kinesis", Stream: "orders"}
	run := func(f archive.Filter) (Report, error) {
		src := NewArchiveSource(e.archive, f, 0).WithJob(NewJob(e.s3, e.bucket, "failures", "backfill-1"))
		return New(src, func(o *Options) {
			o.Lambda, o.MaxAttempts = lc, 1
			o.Routes = []Route{{Pattern: "*", Target: "lambda:consumer"}}
		}).Run(context.Background())
	}
	if rep, err := run(filter); err != nil || rep.Removed != 2 {
		t.Fatalf("first run: got %d done (%v), want 2", rep.Removed, err)
	}
	failing = false
	if rep, err := run(filter); err != nil || rep.Messages != 1 || rep.Removed != 1 {
		t.Fatalf("second run: got %d read, %d done (%v), want only the unfinished object", rep.Messages, rep.Removed, err)
	}
	if got := sorted(fn.Got()); !slices.Equal(got, dataOf(docs)) {
		t.Errorf("got %v, want %v, each once", got, dataOf(docs))
	}
	jobs, err := ListJobs(context.Background(), e.s3, e.bucket, "failures")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Name != "backfill-1" || jobs[0].Done != 3 || jobs[0].Filter.Stream != "orders" {
		t.Errorf("got jobs %+v, want backfill-1 with 3 objects done", jobs)
	}
	if _, err := run(archive.Filter{Source: "kinesis", Stream: "payments"}); err == nil || !strings.Contains(err.Error(), "another selection") {
		t.Errorf("got %v resuming with another selection, want a refusal", err)
	}
}

// TestScheduledFunctionCarriesAJob: a schedule input naming a job makes each run of
// the function go on with that archive replay, so the second run sends nothing the
// first one did; a malformed job is an error.
func TestScheduledFunctionCarriesAJob(t *testing.T) {
	e := newEnv(t)
	docs := kinesisDocs("arn:aws:kinesis:us-east-1:123456789012:stream/orders", 2, 3, 1)
	for _, d := range docs {
		if _, err := e.archive.Put(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	sink := e.createQueue(t, "sink")
	h := NewHandler(e.cfg, Config{DLQURL: e.dlq, ArchiveBucket: e.bucket, ArchivePrefix: "failures",
		Routes: []Route{{Pattern: "*", Target: "sqs:" + sink}}}, io.Discard)
	event := json.RawMessage(`{"source":"streamdlq.schedule","job":{"name":"nightly","source":"kinesis","stream":"orders","since":"2020-01-01"}}`)
	for i, want := range []int{2, 0} {
		rep, err := h.Handle(context.Background(), event)
		if err != nil || rep.Messages != want {
			t.Fatalf("run %d: got %d objects read (%v), want %d", i+1, rep.Messages, err, want)
		}
	}
	if n := e.depth(t, sink); n != 6 {
		t.Errorf("got %d messages on the target, want the 6 records once", n)
	}
	if _, err := h.Handle(context.Background(), json.RawMessage(`{"job":{"name":"a/b","since":"yesterday"}}`)); err == nil {
		t.Error("got no error for a malformed job, want one")
	}
}
