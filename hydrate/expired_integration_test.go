package hydrate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/testkit"
	"github.com/streamdlq/streamdlq/internal/testkit/onfailure"
)

// A failure naming a shard the stream does not have (as Kinesis answers for a closed
// shard dropped after the retention) is captured with a final trimmed gap when it is
// older than the stream's retention (kinesis-local's default 24 h), and fails for a
// retry, with a transient gap, while it is younger.
func TestHandleShardPastRetention(t *testing.T) {
	tests := map[string]struct {
		age       time.Duration
		wantErr   bool
		wantGap   string
		wantState string
	}{
		"older than the retention": {age: 25 * time.Hour, wantGap: batch.GapTrimmed, wantState: archive.StatusUnreadable},
		"within the retention":     {age: time.Hour, wantErr: true, wantGap: batch.GapUnreadable, wantState: archive.StatusIncomplete},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			rec := onfailure.Record(onfailure.Batch{Source: "kinesis", StreamARN: e.streamARN, ShardID: "shardId-000000000099",
				Start: "49650000000000000000000000000000000000000000000000000000", End: "49650000000000000000000000000000000000000000000000000010",
				BatchSize: 2, Time: time.Now().Add(-tt.age)})
			_, err := e.handler(t).Handle(context.Background(), onfailure.SNSEvent(topic, rec))
			checkPastRetention(t, e, err, tt.wantErr, tt.wantGap, tt.wantState)
		})
	}
}

// The same on DynamoDB Local, which answers ResourceNotFoundException for a shard id
// its stream does not have, as DynamoDB Streams does for a shard deleted after 24 h:
// older than 24 h, a final trimmed gap; younger, a retry.
func TestHandleDynamoDBShardPastRetention(t *testing.T) {
	tests := map[string]struct {
		age       time.Duration
		wantErr   bool
		wantGap   string
		wantState string
	}{
		"older than 24 h": {age: 25 * time.Hour, wantGap: batch.GapTrimmed, wantState: archive.StatusUnreadable},
		"within 24 h":     {age: time.Hour, wantErr: true, wantGap: batch.GapUnreadable, wantState: archive.StatusIncomplete},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			_, streamARN := testkit.Table(t, dynamodb.NewFromConfig(testkit.Config(t, testkit.DynamoDB, testkit.DynamoDBStreams)))
			c := e.config()
			c.Allowed, _ = hydrate.ParseAllowlist(streamARN)
			rec := onfailure.Record(onfailure.Batch{Source: "dynamodb", StreamARN: streamARN, ShardID: "shardId-00000001700000000000-0000dead",
				Start: "000000000000000000100", End: "000000000000000000110", BatchSize: 2, Time: time.Now().Add(-tt.age)})
			_, err := hydrate.NewFromConfig(e.cfg, c, false).Handle(context.Background(), onfailure.SNSEvent(topic, rec))
			checkPastRetention(t, e, err, tt.wantErr, tt.wantGap, tt.wantState)
		})
	}
}

// checkPastRetention checks a past-retention capture: Handle's error is an
// *IncompleteError exactly when wantErr, and the archive holds one gap of reason
// wantGap with status wantState.
func checkPastRetention(t *testing.T, e *env, err error, wantErr bool, wantGap, wantState string) {
	t.Helper()
	var incomplete *hydrate.IncompleteError
	if got := errors.As(err, &incomplete); got != wantErr {
		t.Fatalf("Handle: got error %v, want an *IncompleteError: %v", err, wantErr)
	}
	_, doc := archived(t, e)
	if g := doc.Hydration.Gaps; len(g) != 1 || g[0].Reason != wantGap {
		t.Errorf("got gaps %+v, want one %s gap", g, wantGap)
	}
	if doc.Hydration.Status != wantState {
		t.Errorf("got status %s, want %s", doc.Hydration.Status, wantState)
	}
}
