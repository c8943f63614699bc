package hydrate_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// spooling is a handler whose documents go to a spool file past 7 records, and the
// number of spool files left in the temporary directory.
func spooling(t *testing.T, e *env) (*hydrate.Handler, func() int) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	c := e.config()
	c.SpoolAbove = 7
	left := func() int {
		m, _ := filepath.Glob(filepath.Join(dir, "streamdlq-spool-*"))
		return len(m)
	}
	return hydrate.NewFromConfig(e.cfg, c, false), left
}

// A range read page by page into a spool file lands as a held one does: the archive
// object and the claim-check copy hold every record, in order, and the file is gone
// after the invocation.
func TestHandleSpooledCaptureEndToEnd(t *testing.T) {
	e := newEnv(t, map[string]string{"MaximumMessageSize": "2048"})
	rec, want := failedBatch(t, e, 240, 200, 10, 90)
	h, left := spooling(t, e)
	ctx := context.Background()
	// The records do go to the temporary directory: without one, nothing lands.
	tmp := os.Getenv("TMPDIR")
	t.Setenv("TMPDIR", filepath.Join(tmp, "missing"))
	if _, err := h.Handle(ctx, onfailure.SNSEvent(topic, rec)); err == nil || !strings.Contains(err.Error(), "spool") {
		t.Fatalf("Handle without a temporary directory: got %v, want a spool error", err)
	}
	t.Setenv("TMPDIR", tmp)
	for i := range 2 { // the second delivery is a duplicate
		if _, err := h.Handle(ctx, onfailure.SNSEvent(topic, rec)); err != nil {
			t.Fatalf("Handle %d: %v", i+1, err)
		}
	}
	_, doc := archived(t, e)
	checkRecords(t, "archive", doc, want)
	if doc.Hydration.Status != archive.StatusComplete || doc.Hydration.Fetched != 80 {
		t.Errorf("hydration %+v, want complete with 80 records", doc.Hydration)
	}
	msgs := receiveAll(t, e.sqs, e.dlqURL, 2)
	if len(msgs) != 1 || !strings.Contains(*msgs[0].Body, "PayloadS3Pointer") {
		t.Fatalf("DLQ holds %d messages, want one claim check", len(msgs))
	}
	queued, err := archive.DecodeMessage(ctx, e.s3, e.bucket, *msgs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "claim check", queued, want)
	if n := left(); n != 0 {
		t.Errorf("%d spool files left, want none", n)
	}
}

// An incomplete capture is superseded by a spooled read of what it misses: the merge
// reads the spool back, and the archive and the DLQ end with every record.
func TestHandleSpooledReadSupersedesIncomplete(t *testing.T) {
	e := newEnv(t, nil)
	rec, want := failedBatch(t, e, 100, 50, 0, 40)
	ctx := context.Background()
	var full *archive.Document
	dry := hydrate.NewFromConfig(e.cfg, e.config(), true, func(o *hydrate.HandlerOptions) {
		o.Emit = func(d *archive.Document, _ *hydrate.Captured) { full = d }
	})
	if _, err := dry.Handle(ctx, onfailure.SNSEvent(topic, rec)); err != nil || full == nil {
		t.Fatalf("dry run: %v", err)
	}
	partial := *full
	partial.Records = append([]batch.Record(nil), full.Records[2:5]...)
	partial.Hydration.Gaps = []batch.Gap{
		{From: want.seqs[0], To: want.seqs[1], Reason: batch.GapUnreadable, Detail: "throttled"},
		{From: want.seqs[5], To: want.seqs[39], Reason: batch.GapUnreadable, Detail: "deadline"},
	}
	partial.Hydration.Status, partial.Hydration.Fetched = archive.StatusIncomplete, len(partial.Records)
	if _, err := e.capture().Run(ctx, &partial); err == nil {
		t.Fatal("Run of a partial capture: got nil, want an *IncompleteError")
	}
	h, left := spooling(t, e)
	if _, err := h.Handle(ctx, onfailure.SNSEvent(topic, rec)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	_, doc := archived(t, e)
	checkRecords(t, "archive", doc, want)
	if doc.Hydration.Status != archive.StatusComplete {
		t.Errorf("status %s, want complete", doc.Hydration.Status)
	}
	msgs := receiveAll(t, e.sqs, e.dlqURL, 1)
	if len(msgs) != 1 {
		t.Fatalf("DLQ holds %d messages, want 1", len(msgs))
	}
	queued, err := archive.DecodeMessage(ctx, e.s3, e.bucket, *msgs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "DLQ", queued, want)
	if n := left(); n != 0 {
		t.Errorf("%d spool files left, want none", n)
	}
}

// A spooled capture that fails after archiving is completed by the retry from the
// archive object, which is read back into a spool too.
func TestHandleSpooledRetryAfterFault(t *testing.T) {
	for _, op := range []string{"PutObject", "SendMessage"} {
		t.Run(op, func(t *testing.T) {
			e := newEnv(t, map[string]string{"MaximumMessageSize": "2048"})
			rec, want := failedBatch(t, e, 100, 50, 0, 30)
			h, left := spooling(t, e)
			e.faults.FailNext(op, 10) // more than the SDK retries
			if _, err := h.Handle(context.Background(), onfailure.SNSEvent(topic, rec)); err == nil {
				t.Fatalf("Handle with %s failing = nil error, want an error so Lambda retries", op)
			}
			e.faults.FailNext(op, 0)
			if _, err := h.Handle(context.Background(), onfailure.SNSEvent(topic, rec)); err != nil {
				t.Fatalf("retry: %v", err)
			}
			_, doc := archived(t, e)
			checkRecords(t, "archive", doc, want)
			msgs := receiveAll(t, e.sqs, e.dlqURL, 2)
			if len(msgs) != 1 {
				t.Fatalf("DLQ holds %d messages, want 1", len(msgs))
			}
			queued, err := archive.DecodeMessage(context.Background(), e.s3, e.bucket, *msgs[0].Body)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, "claim check", queued, want)
			if n := left(); n != 0 {
				t.Errorf("%d spool files left, want none", n)
			}
		})
	}
}
