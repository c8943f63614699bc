package clock

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is the wait before a retry: exponential bounds with full jitter, so that
// callers throttled together spread out instead of retrying in step.
type Backoff struct {
	// Base is the first bound; each further attempt doubles it, up to Cap.
	Base, Cap time.Duration
	// Jitter draws the wait from [0, bound]; default uniform. Tests make it return the
	// bound to see the bounds grow.
	Jitter func(bound time.Duration) time.Duration
	// Sleep waits d or until ctx is done; default Sleep. A Clock's Sleep fits.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Defaults returns b with base and limit for a zero Base or Cap, and the uniform
// jitter and the wall clock's Sleep for nil ones.
func (b Backoff) Defaults(base, limit time.Duration) Backoff {
	if b.Base <= 0 {
		b.Base = base
	}
	if b.Cap <= 0 {
		b.Cap = limit
	}
	b.Cap = max(b.Cap, b.Base)
	if b.Jitter == nil {
		b.Jitter = func(bound time.Duration) time.Duration { return rand.N(bound + 1) }
	}
	if b.Sleep == nil {
		b.Sleep = Sleep
	}
	return b
}

// Bound is the largest wait before retry attempt (0-based).
func (b Backoff) Bound(attempt int) time.Duration {
	d := b.Base
	for i := 0; i < attempt && d < b.Cap; i++ {
		d *= 2
	}
	return min(d, b.Cap)
}

// Delay draws the wait before retry attempt from [0, Bound(attempt)].
func (b Backoff) Delay(attempt int) time.Duration { return b.Jitter(b.Bound(attempt)) }

// Wait waits Delay(attempt) and returns how long it meant to wait. A wait that would
// outlast ctx's deadline is not started: it returns context.DeadlineExceeded at once,
// keeping the time left for the caller to save what it has.
func (b Backoff) Wait(ctx context.Context, attempt int) (time.Duration, error) {
	d := b.Delay(attempt)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return d, context.DeadlineExceeded
	}
	return d, b.Sleep(ctx, d)
}
