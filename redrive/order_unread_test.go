package redrive

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/archive"
)

// A failure whose message could not be read this round (its claim check, say) still
// names its shard and start in the message attributes: later failures of that shard
// wait for the next run, whatever their target; earlier ones, other shards, and
// failures behind a message that can never be read go ahead.
func TestChainShardsWaitsBehindUnreadMessage(t *testing.T) {
	unread := func(stream, shard, start string, permanent bool) *unit {
		attrs := map[string]types.MessageAttributeValue{}
		for k, v := range map[string]string{archive.AttrStreamARN: stream, archive.AttrShardID: shard, archive.AttrStart: start} {
			attrs[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
		return &unit{msg: &types.Message{MessageAttributes: attrs}, err: errors.New("get claim check: access denied"), permanent: permanent}
	}
	mk := func(stream, shard, start, target string) *unit {
		return &unit{target: target, doc: &archive.Document{Hydration: archive.Hydration{StreamARN: stream, ShardID: shard, Start: start}}}
	}
	tests := map[string]struct {
		blocker  *unit
		u        *unit
		wantWait bool
	}{
		"later, same shard":              {unread("arn:s", "shard-1", "100", false), mk("arn:s", "shard-1", "200", "lambda:a"), true},
		"later, same shard, elsewhere":   {unread("arn:s", "shard-1", "100", false), mk("arn:s", "shard-1", "200", "kinesis:arn:t"), true},
		"earlier, same shard":            {unread("arn:s", "shard-1", "100", false), mk("arn:s", "shard-1", "99", "lambda:a"), false},
		"another shard":                  {unread("arn:s", "shard-1", "100", false), mk("arn:s", "shard-2", "200", "lambda:a"), false},
		"never readable":                 {unread("arn:s", "shard-1", "100", true), mk("arn:s", "shard-1", "200", "lambda:a"), false},
		"a self-managed Kafka partition": {unread("", "0", "3", false), mk("", "0", "12", "kafka:orders"), true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			units := []*unit{tc.blocker, tc.u}
			orderByShard(units)
			New(nil).chainShards(units)
			if got := errors.Is(tc.u.waitErr, ErrEarlierUnfinished); got != tc.wantWait {
				t.Errorf("got wait %v (%v), want %v", got, tc.u.waitErr, tc.wantWait)
			}
		})
	}
}
