package hydrate

import (
	"context"
	"fmt"
	"time"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/stream"
)

// expiredShard returns the final gap for a Kinesis range refused as not found whose
// shard is proven gone: Kinesis drops a closed shard once its records pass the
// stream's retention (ListShards no longer lists it, GetShardIterator answers
// ResourceNotFoundException for it), so a shard not found in a stream that exists,
// named by a failure older than that retention, held nothing that could still be
// read. Anything short of that proof — the stream itself not found, its retention
// unknown, a failure young enough that the shard should still be there (a wrong or
// not yet visible shard) — leaves the refusal transient: ok is false.
func (h *Hydrator) expiredShard(ctx context.Context, f *batch.Failure, r stream.Range, refused *stream.UnreadableError) (gap batch.Gap, ok bool) {
	if f.Source != batch.SourceKinesis || refused.Reason != stream.UnreadableNotFound {
		return batch.Gap{}, false
	}
	// Lambda gave up after every record of the batch arrived: once the failure is
	// older than the retention, so is each of its records.
	failed := f.Timestamp
	if failed.IsZero() {
		failed = f.LastArrival
	}
	if failed.IsZero() {
		return batch.Gap{}, false
	}
	retention, err := streamRetention(ctx, h.readers.forAccountRegion(f.AccountID, f.Region).summary, f)
	if err != nil {
		return batch.Gap{}, false // not found either, or unknown: no proof
	}
	age := h.clock.Now().Sub(failed)
	if age <= retention {
		return batch.Gap{}, false
	}
	return batch.Gap{From: r.Start, To: r.End, Reason: batch.GapTrimmed,
		Detail: fmt.Sprintf("shard %s is no longer in the stream, and the failure (%s) is older than its %v retention",
			r.ShardID, failed.UTC().Format(time.RFC3339), retention)}, true
}
