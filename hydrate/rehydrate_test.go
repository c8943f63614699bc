package hydrate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// fakeQueue is the failure queue and the parking queue: it hands out msgs once and
// records what happened to each.
type fakeQueue struct {
	msgs    []sqstypes.Message
	deleted []string
	hidden  map[string]int32
	parked  map[string]string // message body -> reason
}

func (q *fakeQueue) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	n := min(int(in.MaxNumberOfMessages), len(q.msgs))
	out := q.msgs[:n]
	q.msgs = q.msgs[n:]
	return &sqs.ReceiveMessageOutput{Messages: out}, nil
}

func (q *fakeQueue) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	q.deleted = append(q.deleted, aws.ToString(in.ReceiptHandle))
	return &sqs.DeleteMessageOutput{}, nil
}

func (q *fakeQueue) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	q.hidden[aws.ToString(in.ReceiptHandle)] = in.VisibilityTimeout
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func (q *fakeQueue) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	q.parked[aws.ToString(in.MessageBody)] = aws.ToString(in.MessageAttributes[AttrLastError].StringValue)
	return &sqs.SendMessageOutput{MessageId: aws.String("parked")}, nil
}

// asyncRecord wraps the S3-destination fixture (its records in it, so hydrating needs
// no stream) as Lambda's async-invocation record of a direct invoke, first arriving at
// arrival.
func asyncRecord(t *testing.T, arrival time.Time) string {
	t.Helper()
	b, err := os.ReadFile("testdata/kinesis-onfailure-s3-object.json")
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	rec["KinesisBatchInfo"].(map[string]any)["approximateArrivalOfFirstRecord"] = arrival.UTC().Format(time.RFC3339Nano)
	out, _ := json.Marshal(map[string]any{"version": "1.0", "requestContext": map[string]any{"requestId": "r", "condition": "RetriesExhausted"},
		"requestPayload": rec, "responsePayload": map[string]any{"errorType": "x"}})
	return string(out)
}

func message(id, body string, sent time.Time) sqstypes.Message {
	return sqstypes.Message{MessageId: aws.String(id), ReceiptHandle: aws.String(id), Body: aws.String(body),
		Attributes: map[string]string{"SentTimestamp": strconv.FormatInt(sent.UnixMilli(), 10)}}
}

// rehydrator hydrates dry (no capture) with the mapping check answering listErr (a
// transient failure) or vouching for every failure, and a 24 h Kinesis retention.
func rehydrator(t *testing.T, q *fakeQueue, allowed string, listErr error, now time.Time, parkingURL string) *Rehydrator {
	h := New(aws.Config{Region: "us-east-2"}, Config{CheckMappings: true, Allowed: mustAllow(t, allowed)})
	h.mappings.client = func(string, string) listMappingsAPI {
		return &fakeLambda{list: func(*lambda.ListEventSourceMappingsInput) (*lambda.ListEventSourceMappingsOutput, error) {
			if listErr != nil {
				return nil, listErr
			}
			return &lambda.ListEventSourceMappingsOutput{EventSourceMappings: []types.EventSourceMappingConfiguration{esm(payloadStream, mapTopic)}}, nil
		}}
	}
	r := NewRehydrator(NewHandler(h, nil, nil), q, q, parkingURL)
	r.clock = testkit.NewSimClock(now)
	r.retention = func(context.Context, *batch.Failure) (time.Duration, error) { return 24 * time.Hour, nil }
	return r
}

func TestRehydrate(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	fresh, gone := asyncRecord(t, now.Add(-time.Hour)), asyncRecord(t, now.Add(-25*time.Hour))
	cases := map[string]struct {
		body       string
		allowed    string
		listErr    error
		noParking  bool
		sent       time.Time
		wantDelete bool
		wantHidden int32 // -1: not hidden
		wantParked string
		want       RehydrateReport
	}{
		"completes now: deleted": {body: fresh, wantDelete: true, wantHidden: -1, want: RehydrateReport{Hydrated: 1}},
		"still transient, in retention: kept": {body: fresh, listErr: errors.New("throttled"), wantHidden: int32(retryAfter / time.Second),
			want: RehydrateReport{Kept: 1}},
		"transient past retention: parked": {body: gone, listErr: errors.New("throttled"), wantDelete: true, wantHidden: -1,
			wantParked: "past the stream's retention", want: RehydrateReport{Parked: 1}},
		"transient near the queue's retention: parked": {body: fresh, listErr: errors.New("throttled"), sent: now.Add(-maxMessageAge - time.Hour),
			wantDelete: true, wantHidden: -1, wantParked: "14-day retention", want: RehydrateReport{Parked: 1}},
		"refused for good: parked": {body: fresh, allowed: "arn:aws:kinesis:*:*:stream/other", wantDelete: true, wantHidden: -1,
			wantParked: "not in the allowlist", want: RehydrateReport{Parked: 1}},
		"past retention without a parking queue: stays": {body: gone, listErr: errors.New("throttled"), noParking: true,
			wantHidden: int32(retryAfter / time.Second), want: RehydrateReport{Kept: 1}},
		"a failed rehydration tick: deleted": {body: `{"requestContext":{},"requestPayload":{"source":"streamdlq.rehydrate"}}`,
			wantDelete: true, wantHidden: -1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sent := tc.sent
			if sent.IsZero() {
				sent = now.Add(-time.Minute)
			}
			q := &fakeQueue{msgs: []sqstypes.Message{message("m1", tc.body, sent)}, hidden: map[string]int32{}, parked: map[string]string{}}
			allowed, parking := tc.allowed, "https://sqs.example/parking"
			if allowed == "" {
				allowed = "arn:aws:kinesis:*"
			}
			if tc.noParking {
				parking = ""
			}
			rep, err := rehydrator(t, q, allowed, tc.listErr, now, parking).Run(context.Background(), "https://sqs.example/failures")
			if err != nil {
				t.Fatal(err)
			}
			if got := len(q.deleted) == 1; got != tc.wantDelete {
				t.Errorf("deleted %t, want %t", got, tc.wantDelete)
			}
			if got, ok := q.hidden["m1"]; tc.wantHidden >= 0 && got != tc.wantHidden || tc.wantHidden < 0 && ok {
				t.Errorf("hidden for %d s (%t), want %d", got, ok, tc.wantHidden)
			}
			reason, parked := q.parked[tc.body]
			if parked != (tc.wantParked != "") || !strings.Contains(reason, tc.wantParked) {
				t.Errorf("parked %t with %q, want %q", parked, reason, tc.wantParked)
			}
			if tc.wantDelete && !parked && rep.Hydrated == 0 && !scheduleTick([]byte(tc.body)) {
				t.Error("deleted a message that was neither hydrated nor parked")
			}
			rep.Missing = nil
			if !reflect.DeepEqual(rep, tc.want) {
				t.Errorf("got %+v, want %+v", rep, tc.want)
			}
		})
	}
}

// Messages are worked oldest first, and those that no longer fit before the deadline
// are handed back at once rather than started.
func TestRehydrateOldestFirstAndHandsBack(t *testing.T) {
	now := time.Now()
	body := asyncRecord(t, now.Add(-time.Hour))
	q := &fakeQueue{hidden: map[string]int32{}, parked: map[string]string{}, msgs: []sqstypes.Message{
		message("new", body, now.Add(-time.Minute)), message("old", body, now.Add(-time.Hour)), message("mid", body, now.Add(-30*time.Minute)),
	}}
	r := rehydrator(t, q, "arn:aws:kinesis:*", nil, now, "")
	rep, err := r.Run(context.Background(), "u")
	if err != nil || rep.Hydrated != 3 || strings.Join(q.deleted, ",") != "old,mid,new" {
		t.Errorf("got %+v %v, deleted %v; want all three, oldest first", rep, err, q.deleted)
	}

	q.msgs, q.deleted = []sqstypes.Message{message("a", body, now), message("b", body, now)}, nil
	ctx, cancel := context.WithTimeout(context.Background(), itemBudget/2)
	defer cancel()
	rep, err = r.Run(ctx, "u")
	if err != nil || rep.Released != 2 || len(q.deleted) != 0 || q.hidden["a"] != 0 || q.hidden["b"] != 0 {
		t.Errorf("got %+v %v, hidden %v; want both released (visibility 0), none started", rep, err, q.hidden)
	}
}

func TestDispatch(t *testing.T) {
	q := &fakeQueue{hidden: map[string]int32{}, parked: map[string]string{}}
	r := rehydrator(t, q, "arn:aws:kinesis:*", nil, time.Now(), "")
	handle := Dispatch(r.handler, r, "u")
	resp, err := handle(context.Background(), json.RawMessage(`{"source":"streamdlq.rehydrate","scheduledTime":"x"}`))
	if _, ok := resp.(RehydrateReport); !ok || err != nil {
		t.Errorf("schedule event: got %T %v, want a RehydrateReport", resp, err)
	}
	if _, err := handle(context.Background(), json.RawMessage(`{"hello":1}`)); err == nil {
		t.Error("other input: got nil error, want the handler's parse error")
	}
}

type fakeSummary struct{ hours *int32 }

func (f fakeSummary) DescribeStreamSummary(_ context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &ktypes.StreamDescriptionSummary{RetentionPeriodHours: f.hours, StreamARN: in.StreamARN}}, nil
}

func TestStreamRetention(t *testing.T) {
	ctx := context.Background()
	if d, err := streamRetention(ctx, fakeSummary{aws.Int32(168)}, &batch.Failure{Source: batch.SourceKinesis, StreamARN: payloadStream}); err != nil || d != 168*time.Hour {
		t.Errorf("Kinesis: got %v, %v; want the stream's 168 h", d, err)
	}
	if d, err := streamRetention(ctx, nil, &batch.Failure{Source: batch.SourceDynamoDB}); err != nil || d != 24*time.Hour {
		t.Errorf("DynamoDB: got %v, %v; want 24 h without a call", d, err)
	}
	if _, err := streamRetention(ctx, fakeSummary{}, &batch.Failure{Source: batch.SourceKinesis, StreamARN: payloadStream}); err == nil {
		t.Error("no retention in the answer: got nil error")
	}
}
