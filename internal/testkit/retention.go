package testkit

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	dstypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/middleware"
)

// Retention makes a shard's records before First look past the stream's retention
// period, the way the services show it: GetShardIterator refuses a trimmed starting
// sequence number (Kinesis with InvalidArgumentException naming
// StartingSequenceNumber, DynamoDB Streams with TrimmedDataAccessException) and
// TRIM_HORIZON starts at First. No emulator trims, so this is how the demo and the
// tests produce a real "trimmed" gap while streamdlq's code runs unchanged.
type Retention struct {
	StreamARN string // only this stream; empty: any
	ShardID   string // only this shard; empty: any
	First     string // the oldest record still retained
	// LastTrimmed, when set, is the record just before First: an iterator after it is
	// served, since the record it starts at is retained. Unset, any starting sequence
	// number before First is refused.
	LastTrimmed string
	// Refused, when set, is the error for a trimmed starting point instead of the
	// service's own.
	Refused func(seq, shard string) error
}

// Add is the APIOptions entry.
func (r *Retention) Add(stack *middleware.Stack) error {
	return Middleware("testkitRetention", func(ctx context.Context, c Call, next Next) (any, error) {
		params, err := r.Apply(c.Params)
		if err != nil {
			return nil, err
		}
		return next(ctx, params)
	})(stack)
}

// Apply returns a call's input as the service would serve it: a copy starting at
// First for TRIM_HORIZON, the error it would answer for a trimmed start, or the input
// itself.
func (r *Retention) Apply(params any) (any, error) {
	switch in := params.(type) {
	case *kinesis.GetShardIteratorInput:
		if !r.matches(aws.ToString(in.StreamARN), aws.ToString(in.ShardId)) {
			return params, nil
		}
		at := *in
		seq := aws.ToString(in.StartingSequenceNumber)
		switch in.ShardIteratorType {
		case ktypes.ShardIteratorTypeTrimHorizon:
			at.ShardIteratorType, at.StartingSequenceNumber = ktypes.ShardIteratorTypeAtSequenceNumber, aws.String(r.First)
			return &at, nil
		case ktypes.ShardIteratorTypeAtSequenceNumber, ktypes.ShardIteratorTypeAfterSequenceNumber:
			if r.trimmed(seq, in.ShardIteratorType == ktypes.ShardIteratorTypeAfterSequenceNumber) {
				return nil, r.refused(seq, aws.ToString(in.ShardId), kinesisTrimmed(seq, in))
			}
		}
	case *dynamodbstreams.GetShardIteratorInput:
		if !r.matches(aws.ToString(in.StreamArn), aws.ToString(in.ShardId)) {
			return params, nil
		}
		at := *in
		seq := aws.ToString(in.SequenceNumber)
		switch in.ShardIteratorType {
		case dstypes.ShardIteratorTypeTrimHorizon:
			at.ShardIteratorType, at.SequenceNumber = dstypes.ShardIteratorTypeAtSequenceNumber, aws.String(r.First)
			return &at, nil
		case dstypes.ShardIteratorTypeAtSequenceNumber, dstypes.ShardIteratorTypeAfterSequenceNumber:
			if r.trimmed(seq, in.ShardIteratorType == dstypes.ShardIteratorTypeAfterSequenceNumber) {
				return nil, r.refused(seq, aws.ToString(in.ShardId), &dstypes.TrimmedDataAccessException{
					Message: aws.String("The operation attempted to read past the oldest stream record in a shard.")})
			}
		}
	}
	return params, nil
}

func (r *Retention) matches(stream, shard string) bool {
	return (r.StreamARN == "" || stream == r.StreamARN) && (r.ShardID == "" || shard == r.ShardID)
}

func (r *Retention) trimmed(seq string, after bool) bool {
	if after && r.LastTrimmed != "" {
		return compareSequence(seq, r.LastTrimmed) < 0
	}
	return compareSequence(seq, r.First) < 0
}

func (r *Retention) refused(seq, shard string, own error) error {
	if r.Refused != nil {
		return r.Refused(seq, shard)
	}
	return own
}

func kinesisTrimmed(seq string, in *kinesis.GetShardIteratorInput) error {
	stream := aws.ToString(in.StreamName)
	if stream == "" {
		stream = aws.ToString(in.StreamARN)
	}
	return &ktypes.InvalidArgumentException{Message: aws.String(fmt.Sprintf(
		"StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account 000000000000 is invalid.",
		seq, aws.ToString(in.ShardId), stream))}
}

// compareSequence orders decimal sequence numbers (no leading zeros) without
// importing the reader under test.
func compareSequence(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	switch {
	case len(a) != len(b):
		return len(a) - len(b)
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
