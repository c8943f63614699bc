package clock

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

func TestBackoffBounds(t *testing.T) {
	b := Backoff{}.Defaults(100*time.Millisecond, time.Second)
	var got []time.Duration
	for attempt := range 6 {
		got = append(got, b.Bound(attempt))
		for range 50 {
			if d := b.Delay(attempt); d < 0 || d > b.Bound(attempt) {
				t.Fatalf("Delay(%d) = %v, want within [0, %v]", attempt, d, b.Bound(attempt))
			}
		}
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("bounds: got %v, want %v", got, want)
	}
}

func TestBackoffWaitIsDeadlineAware(t *testing.T) {
	var slept []time.Duration
	b := Backoff{
		Jitter: func(bound time.Duration) time.Duration { return bound },
		Sleep:  func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
	}.Defaults(time.Second, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if d, err := b.Wait(ctx, 2); err != nil || d != 4*time.Second {
		t.Errorf("Wait with an hour left: got %v, %v; want 4s, nil", d, err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShort()
	if _, err := b.Wait(short, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past the deadline: got %v, want context.DeadlineExceeded", err)
	}
	if want := []time.Duration{4 * time.Second}; !slices.Equal(slept, want) {
		t.Errorf("slept %v, want %v: a wait past the deadline is not started", slept, want)
	}
}

func TestThrottled(t *testing.T) {
	tests := map[string]struct {
		err  error
		want bool
	}{
		"kinesis shard limit":   {&ktypes.ProvisionedThroughputExceededException{}, true},
		"kinesis KMS throttled": {&ktypes.KMSThrottlingException{}, true},
		"SDK code":              {&smithy.GenericAPIError{Code: "TooManyRequestsException"}, true},
		"S3 slow down":          {&smithy.GenericAPIError{Code: "SlowDown"}, true},
		"wrapped":               {errors.Join(errors.New("put"), &smithy.GenericAPIError{Code: "ThrottlingException"}), true},
		"access denied":         {&ktypes.AccessDeniedException{}, false},
		"plain error":           {errors.New("ThrottlingException"), false},
		"nil":                   {nil, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Throttled(tc.err); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for code, want := range map[string]bool{"ProvisionedThroughputExceededException": true, "KMSThrottlingException": true, "InternalFailure": false, "": false} {
		if got := ThrottleCode(code); got != want {
			t.Errorf("ThrottleCode(%q): got %v, want %v", code, got, want)
		}
	}
}
