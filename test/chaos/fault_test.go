package chaos

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streamdlq/streamdlq/internal/stream"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// The injected errors must look to the SDK's retryer exactly like the real ones,
// or the matrix would test a retry path that never happens.
func TestFaultErrorsClassifyAsReal(t *testing.T) {
	tests := map[string]struct {
		class     Class
		service   string
		retryable bool
		throttle  bool
	}{
		"500 is retried":              {Retryable, "SQS", true, false},
		"Kinesis throttle":            {Throttle, "Kinesis", true, true},
		"S3 SlowDown":                 {Throttle, "S3", true, true},
		"EventBridge throttle":        {Throttle, "EventBridge", true, true},
		"read timeout is retried":     {Timeout, "S3", true, false},
		"access denied is final":      {Permanent, "Kinesis", false, false},
		"expired iterator for stream": {Expired, "Kinesis", false, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := faultError(tt.class, tt.service, "Op")
			retryable := retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
			throttle := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
			if retryable != tt.retryable || throttle != tt.throttle {
				t.Errorf("got retryable %v throttle %v, want %v %v", retryable, throttle, tt.retryable, tt.throttle)
			}
		})
	}
	var exp *ktypes.ExpiredIteratorException
	if !errors.As(faultError(Expired, "Kinesis", "GetRecords"), &exp) {
		t.Error("got no *ExpiredIteratorException, want one the reader recognises")
	}
}

// A seed decides the same faults in the same call order: that is what makes a
// failing run replayable.
func TestInjectorRepeatsPerSeed(t *testing.T) {
	enabled := map[Class]bool{Retryable: true, Timeout: true, Crash: true, Expired: true}
	draw := func() []Class {
		inj := NewInjector(rand.New(rand.NewPCG(7, 2)), enabled, 0.3)
		var got []Class
		for range 3 {
			ctx, done := inj.Process(context.Background(), 5)
			for range 5 {
				if f := inj.decide("Kinesis", "GetRecords"); f != nil {
					got = append(got, f.class)
					if f.crash {
						inj.cancel(ErrCrash)
					}
				}
			}
			if (ctx.Err() != nil) != Crashed(ctx) {
				t.Error("got a process context ended by something other than its crash")
			}
			done()
		}
		return got
	}
	first, second := draw(), draw()
	if len(first) == 0 || len(first) != len(second) {
		t.Fatalf("got %v then %v, want the same non-empty draws", first, second)
	}
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("got %v then %v, want the same draws", first, second)
		}
	}
}

// The trimmed refusal must be what internal/stream takes for a trimmed position:
// read through a KinesisReader, it must become a trimmed gap, not an unreadable one.
func TestTrimmedErrorReadsAsTrimmed(t *testing.T) {
	inj := NewInjector(rand.New(rand.NewPCG(1, 1)), nil, 0)
	shard := "shardId-000000000000"
	api := &testkit.FakeKinesis{
		GetShardIteratorFunc: func(_ context.Context, in *kinesis.GetShardIteratorInput) (*kinesis.GetShardIteratorOutput, error) {
			if in.ShardIteratorType != ktypes.ShardIteratorTypeTrimHorizon {
				return nil, inj.trimmed(aws.ToString(in.StartingSequenceNumber), shard)
			}
			return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String("it")}, nil
		},
		GetRecordsFunc: func(context.Context, *kinesis.GetRecordsInput) (*kinesis.GetRecordsOutput, error) {
			return &kinesis.GetRecordsOutput{Records: []ktypes.Record{{SequenceNumber: aws.String("30"), PartitionKey: aws.String("k"), Data: []byte("x")}},
				MillisBehindLatest: aws.Int64(0)}, nil
		},
	}
	res, err := stream.NewKinesisReader(api).Read(context.Background(), stream.Range{StreamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/s",
		ShardID: shard, Start: "10", End: "30", BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 1 || res.Gaps[0].Reason != batch.GapTrimmed || res.Gaps[0].From != "10" || res.Gaps[0].To != "29" || len(res.Records) != 1 {
		t.Errorf("got gaps %+v and %d records, want one trimmed gap 10..29 and 1 record", res.Gaps, len(res.Records))
	}
}
