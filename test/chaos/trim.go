package chaos

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/internal/stream"
)

// trimPoint makes a shard's records before first look past the retention period, the
// way Kinesis shows it: GetShardIterator refuses a starting sequence number that is
// trimmed with InvalidArgumentException naming StartingSequenceNumber, and
// TRIM_HORIZON starts at first. No emulator trims, so this is the only way a real
// "trimmed" gap can be produced and checked.
type trimPoint struct {
	streamARN, shardID string
	first              string // the oldest record still retained
	lastTrimmed        string // the record just before it
}

// Trim declares the records of the shard before first (the one before it being
// lastTrimmed) trimmed for the rest of the run.
func (i *Injector) Trim(streamARN, shardID, first, lastTrimmed string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.trim = &trimPoint{streamARN: streamARN, shardID: shardID, first: first, lastTrimmed: lastTrimmed}
}

func (i *Injector) trimMiddleware(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	p, ok := in.Parameters.(*kinesis.GetShardIteratorInput)
	i.mu.Lock()
	t := i.trim
	i.mu.Unlock()
	if !ok || t == nil || aws.ToString(p.StreamARN) != t.streamARN || aws.ToString(p.ShardId) != t.shardID {
		return next.HandleInitialize(ctx, in)
	}
	seq := aws.ToString(p.StartingSequenceNumber)
	switch p.ShardIteratorType {
	case ktypes.ShardIteratorTypeTrimHorizon:
		at := *p
		at.ShardIteratorType, at.StartingSequenceNumber = ktypes.ShardIteratorTypeAtSequenceNumber, &t.first
		in.Parameters = &at
	case ktypes.ShardIteratorTypeAtSequenceNumber:
		if stream.CompareSequence(seq, t.first) < 0 {
			return middleware.InitializeOutput{}, middleware.Metadata{}, i.trimmed(seq, t)
		}
	case ktypes.ShardIteratorTypeAfterSequenceNumber:
		if stream.CompareSequence(seq, t.lastTrimmed) < 0 {
			return middleware.InitializeOutput{}, middleware.Metadata{}, i.trimmed(seq, t)
		}
	}
	return next.HandleInitialize(ctx, in)
}

func (i *Injector) trimmed(seq string, t *trimPoint) error {
	i.mu.Lock()
	i.Injected[Trimmed]++
	i.mu.Unlock()
	msg := fmt.Sprintf("StartingSequenceNumber %s used in GetShardIterator on shard %s is older than the stream's retention period (chaos)", seq, t.shardID)
	return responseError(400, &ktypes.InvalidArgumentException{Message: &msg})
}
