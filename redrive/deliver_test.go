package redrive

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// TestKinesisKeepsKeyOrderUnderFailures: records of a few hot keys, with a third of
// the entries failing (throttled or InternalFailure), must each be written once, in
// their key's order, and no call may carry two records of one key.
func TestKinesisKeepsKeyOrderUnderFailures(t *testing.T) {
	tests := map[string]struct {
		keys, records int
		failRate      float64
	}{
		"few hot keys":   {keys: 3, records: 120, failRate: 0.3},
		"many keys":      {keys: 200, records: 1000, failRate: 0.3},
		"nothing fails":  {keys: 5, records: 100, failRate: 0},
		"most fail once": {keys: 10, records: 200, failRate: 0.8},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			clock := newSimClock()
			api, _ := simStream(clock, 2, 10*time.Millisecond)
			written := map[string][]string{} // key → data in write order
			rng := rand.New(rand.NewPCG(1, 2))
			api.putRecords = func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
				seen := map[string]bool{}
				out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
				for i, r := range in.Records {
					k := aws.ToString(r.PartitionKey)
					if seen[k] {
						t.Errorf("one call carries two records of key %s", k)
					}
					seen[k] = true
					if rng.Float64() < tt.failRate {
						code := []string{"ProvisionedThroughputExceededException", "InternalFailure"}[rng.IntN(2)]
						out.Records[i] = types.PutRecordsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected")}
						continue
					}
					written[k] = append(written[k], string(r.Data))
					out.Records[i] = types.PutRecordsResultEntry{SequenceNumber: aws.String("1"), ShardId: aws.String("s")}
				}
				clock.Advance(10 * time.Millisecond)
				return out, nil
			}
			target, err := NewKinesisTarget(context.Background(), api, "arn:aws:kinesis:us-east-1:123456789012:stream/t")
			if err != nil {
				t.Fatal(err)
			}
			d := newDeliverer(target, Throttle{}, clock, deliveryOptions{maxAttempts: 1000})
			want := map[string][]string{}
			var items []*item
			for i := range tt.records {
				k := fmt.Sprintf("key-%d", i%tt.keys)
				data := fmt.Sprintf("%s/%04d", k, i)
				want[k] = append(want[k], data)
				e, err := target.Prepare(kinesisRecord("arn:src", k, i, []byte(data)), Origin{})
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, &item{rec: e.Record, entry: e})
			}
			if err := d.deliver(context.Background(), items, time.Time{}); err != nil {
				t.Fatal(err)
			}
			for k, w := range want {
				if got := fmt.Sprint(written[k]); got != fmt.Sprint(w) {
					t.Errorf("key %s: got %v, want %v", k, got, w)
				}
			}
			if d.stats.Delivered != tt.records {
				t.Errorf("got %d delivered, want %d", d.stats.Delivered, tt.records)
			}
		})
	}
}

// TestGivingUpBlocksTheKey: a record that keeps failing is left after maxAttempts,
// and the later records of its key are left behind it while other keys go on.
func TestGivingUpBlocksTheKey(t *testing.T) {
	clock := newSimClock()
	api, _ := simStream(clock, 1, time.Millisecond)
	var written []string
	api.putRecords = func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
		for i, r := range in.Records {
			if string(r.Data) == "a1" {
				out.Records[i] = types.PutRecordsResultEntry{ErrorCode: aws.String("InternalFailure")}
				continue
			}
			written = append(written, string(r.Data))
		}
		return out, nil
	}
	target, err := NewKinesisTarget(context.Background(), api, "arn:aws:kinesis:us-east-1:123456789012:stream/t")
	if err != nil {
		t.Fatal(err)
	}
	d := newDeliverer(target, Throttle{}, clock, deliveryOptions{maxAttempts: 3})
	var items []*item
	for i, kd := range [][2]string{{"a", "a0"}, {"b", "b0"}, {"a", "a1"}, {"b", "b1"}, {"a", "a2"}, {"b", "b2"}} {
		e, _ := target.Prepare(kinesisRecord("arn:src", kd[0], i, []byte(kd[1])), Origin{})
		items = append(items, &item{rec: e.Record, entry: e})
	}
	if err := d.deliver(context.Background(), items, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(written), "[a0 b0 b1 b2]"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	states := fmt.Sprint(items[2].state == stateLeft, items[4].state == stateLeft, d.stats.Left)
	if want := "true true 2"; states != want {
		t.Errorf("got a1 left, a2 left, left count %v, want %v", states, want)
	}
	// A later round of the same run: key a stays stopped, key b goes on.
	var later []*item
	for i, kd := range [][2]string{{"a", "a3"}, {"b", "b3"}} {
		e, _ := target.Prepare(kinesisRecord("arn:src", kd[0], 10+i, []byte(kd[1])), Origin{})
		later = append(later, &item{rec: e.Record, entry: e})
	}
	if err := d.deliver(context.Background(), later, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(written), "[a0 b0 b1 b2 b3]"; got != want {
		t.Errorf("got %v after the later round, want %v", got, want)
	}
	if !errors.Is(later[0].err, ErrBlocked) {
		t.Errorf("got a3 left with %v, want %v", later[0].err, ErrBlocked)
	}
}

// TestTimeBudgetLeavesPending: at stopAt no call is started and what is pending is
// left with ErrTimeBudget.
func TestTimeBudgetLeavesPending(t *testing.T) {
	clock := newSimClock()
	api, _ := simStream(clock, 1, 100*time.Millisecond)
	target, err := NewKinesisTarget(context.Background(), api, "arn:aws:kinesis:us-east-1:123456789012:stream/t")
	if err != nil {
		t.Fatal(err)
	}
	d := newDeliverer(target, Throttle{Start: Rate{Records: 100, Bytes: 1 << 20}, Ceiling: Rate{Records: 100, Bytes: 1 << 20}}, clock, deliveryOptions{})
	var items []*item
	for i := range 1000 {
		e, _ := target.Prepare(kinesisRecord("arn:src", fmt.Sprint(i), i, []byte("x")), Origin{})
		items = append(items, &item{rec: e.Record, entry: e})
	}
	stopAt := clock.Now().Add(2 * time.Second)
	if err := d.deliver(context.Background(), items, stopAt); err != nil {
		t.Fatal(err)
	}
	if clock.Now().After(stopAt.Add(100 * time.Millisecond)) {
		t.Errorf("got the loop running until %v, want it to stop at %v", clock.Now(), stopAt)
	}
	if d.stats.Delivered < 150 || d.stats.Delivered > 320 {
		t.Errorf("got %d delivered in 2s at 100/s, want about 200", d.stats.Delivered)
	}
	if d.stats.Delivered+d.stats.Left != 1000 {
		t.Errorf("got %d delivered + %d left, want 1000", d.stats.Delivered, d.stats.Left)
	}
	for _, it := range items {
		if it.state == stateLeft && it.err != ErrTimeBudget {
			t.Fatalf("got left with %v, want %v", it.err, ErrTimeBudget)
		}
	}
}

// TestBigRecords: a stream that takes records up to 10 MiB gets requests sized for
// them, so a 6 MiB record is written rather than kept forever; one larger than the
// stream's maximum is rejected at once, saying why.
func TestBigRecords(t *testing.T) {
	clock := newSimClock()
	var written []int
	api := oneShardStream(10240, func(in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}
		for _, r := range in.Records {
			written = append(written, len(r.Data))
		}
		return out, nil
	})
	target, err := NewKinesisTarget(context.Background(), api, "arn:aws:kinesis:us-east-1:123456789012:stream/big")
	if err != nil {
		t.Fatal(err)
	}
	from := Origin{StreamARN: "arn:src", ShardID: "shardId-0"}
	if _, err := target.Prepare(kinesisRecord("arn:src", "k", 1, make([]byte, 10<<20)), from); err == nil || !strings.Contains(err.Error(), "maximum record size") {
		t.Errorf("got %v for a record over 10 MiB, want a *RejectedError naming the maximum record size", err)
	}
	e, err := target.Prepare(kinesisRecord("arn:src", "k", 2, make([]byte, 6<<20)), from)
	if err != nil {
		t.Fatal(err)
	}
	d := newDeliverer(target, Throttle{}, clock, deliveryOptions{})
	items := []*item{{rec: e.Record, entry: e}}
	if err := d.deliver(context.Background(), items, clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if items[0].state != stateDelivered || len(written) != 1 || written[0] != 6<<20 {
		t.Errorf("got state %v (%v), written %v, want the 6 MiB record delivered", items[0].state, items[0].err, written)
	}
}

// oneShardStream is a one-shard stream taking records up to maxKiB, whose PutRecords
// is put.
func oneShardStream(maxKiB int32, put func(*kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error)) *fakeKinesis {
	return &fakeKinesis{
		describeStreamSummary: func(context.Context, *kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error) {
			return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{MaxRecordSizeInKiB: aws.Int32(maxKiB)}}, nil
		},
		listShards: func(context.Context, *kinesis.ListShardsInput) (*kinesis.ListShardsOutput, error) {
			return &kinesis.ListShardsOutput{Shards: []types.Shard{{ShardId: aws.String("shardId-0"),
				HashKeyRange: &types.HashKeyRange{StartingHashKey: aws.String("0"), EndingHashKey: aws.String(maxHashKey.String())}}}}, nil
		},
		putRecords: func(_ context.Context, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
			return put(in)
		},
	}
}

// TestRefusedCallIsolatesTheRecord: a call refused as a whole is split into calls of
// one record, so one invalid record is rejected alone and the others arrive; a
// refusal of a lone record for another reason (access denied) takes the target down
// after one more call, leaving its records with the *TargetError.
func TestRefusedCallIsolatesTheRecord(t *testing.T) {
	tests := map[string]struct {
		refuse                      func(in *kinesis.PutRecordsInput) error
		wantDelivered, wantRejected int
		wantCalls                   int
		wantDead                    bool
	}{
		"one invalid record": {refuse: func(in *kinesis.PutRecordsInput) error {
			for _, r := range in.Records {
				if string(r.Data) == "r3" {
					return &smithy.GenericAPIError{Code: "InvalidArgumentException", Message: "bad", Fault: smithy.FaultClient}
				}
			}
			return nil
		}, wantDelivered: 5, wantRejected: 1, wantCalls: 1 + 6},
		"access denied": {refuse: func(*kinesis.PutRecordsInput) error {
			return &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no", Fault: smithy.FaultClient}
		}, wantCalls: 2, wantDead: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			calls := 0
			api := oneShardStream(1024, func(in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
				calls++
				if err := tt.refuse(in); err != nil {
					return nil, err
				}
				return &kinesis.PutRecordsOutput{Records: make([]types.PutRecordsResultEntry, len(in.Records))}, nil
			})
			target, err := NewKinesisTarget(context.Background(), api, "arn:aws:kinesis:us-east-1:123456789012:stream/s")
			if err != nil {
				t.Fatal(err)
			}
			d := newDeliverer(target, Throttle{}, newSimClock(), deliveryOptions{})
			var items []*item
			for i := range 6 {
				e, err := target.Prepare(kinesisRecord("arn:src", fmt.Sprint("k", i), i, fmt.Appendf(nil, "r%d", i)), Origin{})
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, &item{rec: e.Record, entry: e})
			}
			if err := d.deliver(context.Background(), items, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if d.stats.Delivered != tt.wantDelivered || d.stats.Rejected != tt.wantRejected || calls != tt.wantCalls || (d.dead != nil) != tt.wantDead {
				t.Errorf("got delivered %d, rejected %d, %d calls, dead %v, want %d, %d, %d, %v",
					d.stats.Delivered, d.stats.Rejected, calls, d.dead, tt.wantDelivered, tt.wantRejected, tt.wantCalls, tt.wantDead)
			}
			for _, it := range items {
				var te *TargetError
				if tt.wantDead && (it.state != stateLeft || !errors.As(it.err, &te)) {
					t.Errorf("got %v (%v), want left with the *TargetError", it.state, it.err)
				}
			}
		})
	}
}

func TestKinesisValidatesEntries(t *testing.T) {
	target := &KinesisTarget{streamARN: "arn:aws:kinesis:us-east-1:1:stream/s", maxRecord: 1 << 20,
		shards: []hashRange{{id: "shardId-0", start: new(big.Int), end: maxHashKey}}}
	tests := map[string]struct {
		key, hashKey string
		wantErr      bool
	}{
		"plain":                 {key: "k"},
		"longest key":           {key: strings.Repeat("k", 256)},
		"key too long":          {key: strings.Repeat("k", 257), wantErr: true},
		"empty key":             {key: "", wantErr: true},
		"hash key zero":         {key: "k", hashKey: "0"},
		"hash key top":          {key: "k", hashKey: maxHashKey.String()},
		"hash key over the top": {key: "k", hashKey: new(big.Int).Add(maxHashKey, big.NewInt(1)).String(), wantErr: true},
		"hash key negative":     {key: "k", hashKey: "-1", wantErr: true},
		"hash key not decimal":  {key: "k", hashKey: "0x10", wantErr: true},
		"hash key with sign":    {key: "k", hashKey: "+5", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			rec := kinesisRecord("arn:src", tt.key, 1, []byte("x"))
			rec.Kinesis.Kinesis.ExplicitHashKey = tt.hashKey
			_, err := target.Prepare(rec, Origin{})
			var re *RejectedError
			if tt.wantErr != errors.As(err, &re) {
				t.Errorf("got %v, want a *RejectedError: %v", err, tt.wantErr)
			}
		})
	}
}
