// Package clock holds the one way streamdlq tells time and waits: a Clock (the wall
// clock, or a simulated one in tests), Sleep, which ends with the context, the one
// retry backoff (full jitter, deadline-aware), and the one classification of the
// errors that ask a caller to slow down. Every retry and pacing wait goes through it
// so that none of them outlives a cancelled invocation.
//
// Errors: Sleep and Backoff.Wait return the context's error when it ends first;
// Backoff.Wait returns context.DeadlineExceeded at once for a wait that would outlast
// the context's deadline.
package clock

import (
	"context"
	"time"
)

// Clock is a time source. Real is the wall clock; tests and simulations pass their
// own so that runs are repeatable and take no wall-clock time.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
var Real Clock = wall{}

type wall struct{}

func (wall) Now() time.Time                                   { return time.Now() }
func (wall) Sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, d) }

// Sleep waits d, returning nil, or until ctx is done, returning ctx.Err(). A d of
// zero or less returns at once with ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
