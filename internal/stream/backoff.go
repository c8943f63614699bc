package stream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// Backoff is how a reader waits after a throttled call that the SDK's own retries did
// not get through: clock.Backoff, full jitter from a 200ms bound doubling up to 5s
// by default, so readers of a busy shard spread out instead of retrying in step.
type Backoff = clock.Backoff

// withDefaults fills in a reader's backoff.
func withDefaults(b Backoff) Backoff { return b.Defaults(200*time.Millisecond, 5*time.Second) }

// backoff waits before retrying a throttled call. A wait that would outlast ctx's
// deadline is not started: the read stops there with a deadline gap, keeping the time
// left for the caller to save what was read.
func (s *scan[T]) backoff(ctx context.Context, cause error) error {
	d, err := s.opt.backoff.Wait(ctx, s.throttled)
	s.throttled++
	zerolog.Ctx(ctx).Debug().Str("shard", s.r.ShardID).Int("attempt", s.throttled).Dur("wait", d).Err(cause).Msg("throttled")
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		s.stop(batch.GapUnreadable, "deadline")
		return nil
	}
	return fmt.Errorf("read %s: %w", s.r.ShardID, err)
}
