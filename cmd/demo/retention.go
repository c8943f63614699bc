package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/streamdlq/streamdlq/internal/stream"
)

// retention makes one shard behave as if its records before horizon had passed the
// stream's retention period, as real Kinesis does: an iterator AT a trimmed sequence
// number is refused with InvalidArgumentException, and TRIM_HORIZON starts at the
// oldest record kept. The local emulators never trim, so the demo simulates it at the
// SDK edge — streamdlq's own code runs unchanged.
type retention struct {
	shardID, horizon string
}

func (r retention) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("demoRetention",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if p, ok := in.Parameters.(*kinesis.GetShardIteratorInput); ok && aws.ToString(p.ShardId) == r.shardID {
				switch {
				case p.ShardIteratorType == ktypes.ShardIteratorTypeTrimHorizon:
					p.ShardIteratorType, p.StartingSequenceNumber = ktypes.ShardIteratorTypeAtSequenceNumber, aws.String(r.horizon)
				case p.StartingSequenceNumber != nil && stream.CompareSequence(*p.StartingSequenceNumber, r.horizon) < 0:
					return middleware.InitializeOutput{}, middleware.Metadata{}, &ktypes.InvalidArgumentException{Message: aws.String(fmt.Sprintf(
						"StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account 000000000000 is invalid.",
						*p.StartingSequenceNumber, r.shardID, StreamName))}
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}
