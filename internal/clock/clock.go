// Package clock holds the one way streamdlq waits: for a duration, or until the context
// ends, whichever comes first. Every retry and pacing wait goes through Sleep so that
// none of them outlives a cancelled invocation.
package clock

import (
	"context"
	"time"
)

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
