package redrive

import (
	"cmp"
	"errors"
	"slices"
	"strings"

	"github.com/streamdlq/streamdlq/archive"
)

// ErrEarlierUnfinished: an earlier failure of the same shard was not fully delivered
// in this run, so this one waits for it: a consumer sees a shard's records in
// sequence order.
var ErrEarlierUnfinished = errors.New("redrive: an earlier failure of the same shard is not delivered yet")

// shardOf names a failure's shard across streams. A Kafka partition is one of its
// topic, on its cluster: the cluster ARN (MSK) or the bootstrap servers (self-managed).
func shardOf(u *unit) string {
	h := u.doc.Hydration
	if k := h.Kafka; k != nil {
		return h.StreamARN + " " + strings.Join(k.BootstrapServers, ",") + " " + k.Topic + "/" + h.ShardID
	}
	return h.StreamARN + "/" + h.ShardID
}

// orderByShard sorts a round's failures so that those of one shard come in sequence
// order, whatever order the source returned them in; failures that could not be read
// keep their place at the end.
func orderByShard(units []*unit) {
	slices.SortStableFunc(units, func(a, b *unit) int {
		switch {
		case a.doc == nil || b.doc == nil:
			return cmp.Compare(boolInt(a.doc == nil), boolInt(b.doc == nil))
		case shardOf(a) != shardOf(b):
			return cmp.Compare(shardOf(a), shardOf(b))
		}
		return compareSeq(a.doc.Hydration.Start, b.doc.Hydration.Start)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compareSeq compares decimal sequence numbers of any length.
func compareSeq(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// lineOf is what a failure keeps order within: its shard, at its target. Two
// consumers of one stream fail independently, and their failures go to different
// targets (each its own deliverer), so they never wait for each other.
func lineOf(u *unit) string { return u.target + " " + shardOf(u) }

// chainShards makes each planned failure wait for the one before it of its shard
// (at the same target) in this round, and holds back a failure behind an earlier
// one that an earlier round left unfinished or whose message could not be read.
func (r *Redriver) chainShards(units []*unit) {
	last := map[string]*unit{}
	unread := unreadShards(units)
	for _, u := range units {
		if u.doc == nil || u.skip == skipFiltered {
			continue
		}
		s, h := lineOf(u), u.doc.Hydration
		if start, ok := r.unfinished[s]; ok && compareSeq(start, h.Start) < 0 {
			u.waitErr = ErrEarlierUnfinished
		}
		if start, ok := unread[h.StreamARN+"/"+h.ShardID]; ok && compareSeq(start, h.Start) < 0 {
			u.waitErr = ErrEarlierUnfinished
		}
		u.after, last[s] = last[s], u
	}
}

// unreadShards are the shards of the failures whose message could not be read this
// round (a claim check S3 would not give, say), each with its earliest start: the
// message's attributes still name its stream, shard and start, though not its target,
// so every later failure of that shard waits for the next run, whatever its target.
// A Kafka failure's shard is its partition number on its cluster ARN (empty when
// self-managed), so it holds back the same partition of every self-managed topic: a
// wait, never a reorder. A message that can never be read (permanent) holds nothing
// back; it is parked.
func unreadShards(units []*unit) map[string]string {
	unread := map[string]string{}
	for _, u := range units {
		if u.doc != nil || u.permanent || u.msg == nil {
			continue
		}
		s, start := attr(u.msg, archive.AttrStreamARN)+"/"+attr(u.msg, archive.AttrShardID), attr(u.msg, archive.AttrStart)
		if old, ok := unread[s]; start != "" && (!ok || compareSeq(start, old) < 0) {
			unread[s] = start
		}
	}
	return unread
}

// noteUnfinished remembers a failure left (partly) undelivered, so that later
// failures of its shard wait for the next run.
func (r *Redriver) noteUnfinished(u *unit, v verdict) {
	if u.doc == nil || u.skip == skipFiltered || v == remove {
		return
	}
	s, start := lineOf(u), u.doc.Hydration.Start
	if old, ok := r.unfinished[s]; !ok || compareSeq(start, old) < 0 {
		r.unfinished[s] = start
	}
}

// waiting reports whether an item must not be sent yet: an earlier failure of its
// shard is still being delivered. When that failure ended undelivered, the item is
// held for this run with ErrEarlierUnfinished instead.
func (u *unit) waiting() (wait bool, held error) {
	if u == nil {
		return false, nil
	}
	if u.waitErr != nil {
		return false, u.waitErr
	}
	a := u.after
	if a == nil {
		return false, nil
	}
	if a.pending > 0 {
		return true, nil
	}
	if !a.allDelivered() {
		u.waitErr = ErrEarlierUnfinished
		return false, u.waitErr
	}
	return false, nil
}

// allDelivered reports whether every record of the unit was delivered in this run.
func (u *unit) allDelivered() bool {
	if u.err != nil || u.skip != "" || u.waitErr != nil {
		return false
	}
	for _, it := range u.items {
		if it.state != stateDelivered && it.state != stateFilteredOut {
			return false
		}
	}
	return true
}
