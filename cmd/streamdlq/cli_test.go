package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
	"github.com/streamdlq/streamdlq/redrive"
)

// An operator hydrates a record by hand, finds and reads it with ls and show, plans a
// redrive with --dry-run (which changes nothing), then redrives it.
func TestOperatorFlow(t *testing.T) {
	cfg := testkit.Config(t, testkit.Kinesis, testkit.Moto)
	ctx := context.Background()
	k := kinesis.NewFromConfig(cfg)
	streamARN := testkit.Stream(t, k, 1)
	name := streamARN[strings.LastIndex(streamARN, "/")+1:]
	var entries []ktypes.PutRecordsRequestEntry
	for i := range 30 {
		entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: fmt.Appendf(nil, "secret-payload-%d", i)})
	}
	put, err := k.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: &streamARN, Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	bucket, queueURL := testkit.Bucket(t, awsenv.S3(cfg), "b"), testkit.Queue(t, sqs.NewFromConfig(cfg), "q", nil)
	const consumerARN = "arn:aws:lambda:us-east-1:000000000000:function:orders-consumer:live"
	event := filepath.Join(t.TempDir(), "event.json")
	rec := onfailure.Record(onfailure.Batch{Source: "kinesis", StreamARN: streamARN, ShardID: *put.Records[0].ShardId,
		Start: *put.Records[5].SequenceNumber, End: *put.Records[14].SequenceNumber, BatchSize: 10, FunctionARN: consumerARN})
	if err := os.WriteFile(event, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STREAMDLQ_ALLOWED_STREAMS", streamARN)
	t.Setenv("STREAMDLQ_ARCHIVE_BUCKET", bucket)
	t.Setenv("STREAMDLQ_ARCHIVE_PREFIX", "")
	t.Setenv("STREAMDLQ_DLQ_URL", queueURL)
	t.Setenv("STREAMDLQ_CHECK_MAPPINGS", "false") // moto holds no event source mapping for the record's function

	out := mustRun(t, "hydrate", "--event", event)
	var doc archive.Document
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.Records) != 10 || doc.Hydration.Status != archive.StatusComplete {
		t.Fatalf("hydrate printed %d records, status %q (%v), want 10 complete", len(doc.Records), doc.Hydration.Status, err)
	}
	var sum archive.Summary
	if err := json.Unmarshal(mustRun(t, "ls", "--json", "--stream", name), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Records != 10 || sum.Status != archive.StatusComplete || sum.Start != doc.Hydration.Start {
		t.Fatalf("ls = %+v, want the hydrated failure with 10 records", sum)
	}
	shown := string(mustRun(t, "show", sum.Key))
	if !strings.Contains(shown, *put.Records[14].SequenceNumber) || strings.Contains(shown, "secret-payload") {
		t.Errorf("show without --payloads must list the records and hide payloads:\n%s", shown)
	}
	if shown = string(mustRun(t, "show", "--payloads", "s3://"+bucket+"/"+sum.Key)); !strings.Contains(shown, "secret-payload-14") {
		t.Errorf("show --payloads does not print the payloads:\n%s", shown)
	}

	var plan redrive.Report
	if err := json.Unmarshal(mustRun(t, "redrive", "--dry-run", "--json", "--to", "kinesis"), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.Targets) != 1 || plan.Targets[0].Target != "kinesis:"+streamARN || plan.Targets[0].Records != 10 || plan.Targets[0].Failures != 1 || plan.Delivered != 0 {
		t.Fatalf("dry-run plan = %+v, want 1 failure of 10 records to kinesis:%s, nothing sent", plan, streamARN)
	}
	text := string(mustRun(t, "redrive", "--dry-run", "--to", "kinesis"))
	if !strings.Contains(text, "would redrive (dry run)") || !strings.Contains(text, "kinesis:"+streamARN) {
		t.Errorf("dry-run output does not state the plan:\n%s", text)
	}
	var consumer redrive.Report
	if err := json.Unmarshal(mustRun(t, "redrive", "--dry-run", "--json"), &consumer); err != nil {
		t.Fatal(err)
	}
	if want := "lambda:" + consumerARN; len(consumer.Targets) != 1 || consumer.Targets[0].Target != want {
		t.Errorf("dry-run plan without --to = %+v, want the consumer target %s", consumer.Targets, want)
	}
	missing := "kinesis:arn:aws:kinesis:us-east-1:000000000000:stream/" + name + "-missing"
	if code, stderr := runCode(t, "redrive", "--to", missing); code != exitLeft || !strings.Contains(stderr, "10 records were not delivered") {
		t.Errorf("redrive to a missing stream: exit %d, want %d naming the record left:\n%s", code, exitLeft, stderr)
	}
	var done redrive.Report
	if err := json.Unmarshal(mustRun(t, "redrive", "--json", "--to", "kinesis"), &done); err != nil {
		t.Fatal(err)
	}
	if done.Delivered != 10 || done.Removed != 1 || done.Left != 0 {
		t.Errorf("redrive = delivered %d, removed %d, left %d; want 10, 1, 0 (the dry runs must have left the message)", done.Delivered, done.Removed, done.Left)
	}
	for i, want := range []int{10, 0} { // a job resumed sends nothing twice
		var rep redrive.Report
		if err := json.Unmarshal(mustRun(t, "redrive", "--from-archive", "s3://"+bucket, "--job", "replay-1", "--to", "kinesis", "--json"), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Delivered != want {
			t.Errorf("job run %d: delivered %d, want %d", i+1, rep.Delivered, want)
		}
	}
	var job redrive.JobStatus
	if err := json.Unmarshal(mustRun(t, "jobs", "--archive", "s3://"+bucket, "--json"), &job); err != nil || job.Name != "replay-1" || job.Done != 1 {
		t.Errorf("jobs = %+v (%v), want replay-1 with 1 object done", job, err)
	}
}

func runCode(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	return run(context.Background(), args, &stdout, &stderr), stderr.String()
}

func mustRun(t *testing.T, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("streamdlq %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.Bytes()
}
