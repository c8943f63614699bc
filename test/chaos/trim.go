package chaos

import (
	"context"
	"fmt"

	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// Trim declares the records of the shard before first (the one before it being
// lastTrimmed) past the retention period for the rest of the run, the way Kinesis
// shows it (testkit.Retention). No emulator trims, so this is the only way a real
// "trimmed" gap can be produced and checked.
func (i *Injector) Trim(streamARN, shardID, first, lastTrimmed string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.trim = &testkit.Retention{StreamARN: streamARN, ShardID: shardID, First: first, LastTrimmed: lastTrimmed, Refused: i.trimmed}
}

func (i *Injector) trimMiddleware(ctx context.Context, c testkit.Call, next testkit.Next) (any, error) {
	i.mu.Lock()
	t := i.trim
	i.mu.Unlock()
	if t == nil {
		return next(ctx, c.Params)
	}
	params, err := t.Apply(c.Params)
	if err != nil {
		return nil, err
	}
	return next(ctx, params)
}

func (i *Injector) trimmed(seq, shard string) error {
	i.mu.Lock()
	i.Injected[Trimmed]++
	i.mu.Unlock()
	msg := fmt.Sprintf("StartingSequenceNumber %s used in GetShardIterator on shard %s is older than the stream's retention period (chaos)", seq, shard)
	return responseError(400, &ktypes.InvalidArgumentException{Message: &msg})
}
