package stream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// Backoff is how a reader waits after a throttled call that the SDK's own retries did
// not get through: exponential bounds with full jitter, so readers of a busy shard
// spread out instead of retrying in step.
type Backoff struct {
	// Base is the first bound; default 200ms. Each further throttle in a row doubles
	// it, up to Cap (default 5s).
	Base, Cap time.Duration
	// Jitter draws the wait from [0, bound]; default uniform. Tests make it return the
	// bound to see the bounds grow.
	Jitter func(bound time.Duration) time.Duration
	// Sleep waits d or until ctx is done, returning ctx's error then; default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = 200 * time.Millisecond
	}
	if b.Cap <= 0 {
		b.Cap = 5 * time.Second
	}
	b.Cap = max(b.Cap, b.Base)
	if b.Jitter == nil {
		b.Jitter = func(bound time.Duration) time.Duration { return rand.N(bound + 1) }
	}
	if b.Sleep == nil {
		b.Sleep = clock.Sleep
	}
	return b
}

// bound is the largest wait after attempt throttles in a row (0-based).
func (b Backoff) bound(attempt int) time.Duration {
	d := b.Base
	for i := 0; i < attempt && d < b.Cap; i++ {
		d *= 2
	}
	return min(d, b.Cap)
}

// backoff waits before retrying a throttled call. A wait that would outlast ctx's
// deadline is not started: the read stops there with a deadline gap, keeping the time
// left for the caller to save what was read.
func (s *scan[T]) backoff(ctx context.Context, cause error) error {
	d := s.opt.backoff.Jitter(s.opt.backoff.bound(s.throttled))
	s.throttled++
	zerolog.Ctx(ctx).Debug().Str("shard", s.r.ShardID).Int("attempt", s.throttled).Dur("wait", d).Err(cause).Msg("throttled")
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		s.stop(batch.GapUnreadable, "deadline")
		return nil
	}
	err := s.opt.backoff.Sleep(ctx, d)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		s.stop(batch.GapUnreadable, "deadline")
		return nil
	}
	return fmt.Errorf("read %s: %w", s.r.ShardID, err)
}
