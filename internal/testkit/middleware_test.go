package testkit

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// call runs params through a stack built by add, as the SDK would for op, and says
// whether they reached the service.
func call(t *testing.T, add func(*middleware.Stack) error, op string, params any) (sent bool, err error) {
	t.Helper()
	stack := middleware.NewStack(op, smithyhttp.NewStackRequest)
	if err := add(stack); err != nil {
		t.Fatal(err)
	}
	service := middleware.HandlerFunc(func(context.Context, any) (any, middleware.Metadata, error) {
		sent = true
		return nil, middleware.Metadata{}, nil
	})
	ctx := middleware.WithOperationName(context.Background(), op)
	_, _, err = middleware.DecorateHandler(service, stack).Handle(ctx, params)
	return sent, err
}

func TestCalls(t *testing.T) {
	c := &Calls{}
	c.FailNext("GetRecords", 2)
	var failed int
	for range 3 {
		if _, err := call(t, c.Add, "GetRecords", &kinesis.GetRecordsInput{}); err != nil {
			failed++
		}
	}
	if _, err := call(t, c.Add, "PutRecords", &kinesis.PutRecordsInput{}); err != nil {
		t.Errorf("PutRecords: got %v, want it sent", err)
	}
	if failed != 2 || c.Count("GetRecords") != 3 || c.Count("PutRecords") != 1 {
		t.Errorf("got %d failed, counts %v; want 2 failed of GetRecords 3, PutRecords 1", failed, c.Counts())
	}
	c.Reset()
	if n := c.Count("GetRecords"); n != 0 {
		t.Errorf("after Reset: got %d, want 0", n)
	}
}

func TestNth(t *testing.T) {
	answered := errors.New("answered")
	nth := Nth(func(*kinesis.GetRecordsInput) (any, error) { return nil, answered }, 2)
	var got []error
	for range 3 {
		_, err := call(t, nth, "GetRecords", &kinesis.GetRecordsInput{})
		got = append(got, err)
	}
	if got[0] != nil || !errors.Is(got[1], answered) || got[2] != nil {
		t.Errorf("got %v, want only the second call answered", got)
	}
	if sent, err := call(t, nth, "PutRecords", &kinesis.PutRecordsInput{}); !sent || err != nil {
		t.Errorf("other input: got sent %v, %v; want it sent", sent, err)
	}
}

func TestRetention(t *testing.T) {
	r := &Retention{StreamARN: "arn", ShardID: "s-1", First: "300", LastTrimmed: "200"}
	in := func(typ string, seq string) *kinesis.GetShardIteratorInput {
		return &kinesis.GetShardIteratorInput{StreamARN: aws.String("arn"), ShardId: aws.String("s-1"), ShardIteratorType: ktypes.ShardIteratorType(typ), StartingSequenceNumber: aws.String(seq)}
	}
	tests := map[string]struct {
		r       *Retention
		in      *kinesis.GetShardIteratorInput
		refused bool
		start   string // the starting sequence number served, if not refused
	}{
		"at retained":             {r, in("AT_SEQUENCE_NUMBER", "300"), false, "300"},
		"at trimmed":              {r, in("AT_SEQUENCE_NUMBER", "299"), true, ""},
		"at trimmed, longer":      {r, in("AT_SEQUENCE_NUMBER", "99"), true, ""},
		"after last trimmed":      {r, in("AFTER_SEQUENCE_NUMBER", "200"), false, "200"},
		"after before it":         {r, in("AFTER_SEQUENCE_NUMBER", "199"), true, ""},
		"after, no last trimmed":  {&Retention{First: "300"}, in("AFTER_SEQUENCE_NUMBER", "200"), true, ""},
		"trim horizon":            {r, in("TRIM_HORIZON", ""), false, "300"},
		"other shard":             {&Retention{ShardID: "s-2", First: "300"}, in("AT_SEQUENCE_NUMBER", "1"), false, "1"},
		"other stream":            {&Retention{StreamARN: "other", First: "300"}, in("AT_SEQUENCE_NUMBER", "1"), false, "1"},
		"leading zeros compared ": {r, in("AT_SEQUENCE_NUMBER", "0300"), false, "0300"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			orig := *tc.in
			out, err := tc.r.Apply(tc.in)
			if (err != nil) != tc.refused {
				t.Fatalf("got error %v, want refused %v", err, tc.refused)
			}
			if err == nil && aws.ToString(out.(*kinesis.GetShardIteratorInput).StartingSequenceNumber) != tc.start {
				t.Errorf("got start %s, want %s", aws.ToString(out.(*kinesis.GetShardIteratorInput).StartingSequenceNumber), tc.start)
			}
			if tc.in.ShardIteratorType != orig.ShardIteratorType || tc.in.StartingSequenceNumber != orig.StartingSequenceNumber {
				t.Error("the caller's input was changed, want a copy")
			}
		})
	}
}
