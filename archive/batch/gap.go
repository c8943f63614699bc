package batch

// Gap reasons. A gap is final when its records are proven gone from the stream
// (trimmed, compacted, shard-ended): no later read can find them. Every other reason is
// transient: the records may still be in the stream, and a later attempt that reads
// them supersedes the capture that has the gap.
const (
	// GapTrimmed (final): the records were past the stream's retention period when
	// read: the first record the stream returned from its trim horizon lay past them,
	// or DynamoDB Streams answered TrimmedDataAccessException, or their shard is past
	// retention (not found in a stream that exists, named by a failure older than the
	// stream's retention: the service has dropped the shard); for Kafka, the offsets
	// lie below the partition's log start offset (retention or DeleteRecords).
	GapTrimmed = "trimmed"
	// GapCompacted (final): offsets inside a Kafka range that the log no longer holds,
	// removed by compaction (cleanup.policy compact) after the consumer was given
	// them. Final because a fetch that returns later offsets proves the log skipped
	// these: compaction never brings an offset back. Records of aborted transactions
	// are not a gap: a read-committed consumer never sees them either, and the
	// hydration summary counts them (Hydration.Kafka.Aborted).
	GapCompacted = "compacted"
	// GapShardEnded (final): the shard is closed and its last record lies before the
	// range's end, so nothing more can exist in that part of the range.
	GapShardEnded = "shard-ended"
	// GapUnreadable (transient): the stream did not give the records: access or its
	// KMS key denied, stream (or topic) not found, throttled or cut by the deadline,
	// too many empty pages; Detail says why.
	GapUnreadable = "unreadable"
	// GapShortRead (transient): the reader reached the open shard's tip (a caught-up
	// page) before the range's end.
	GapShortRead = "short-read"
	// GapCountMismatch (transient): fewer records were read than the consumer was
	// given, and no reader error explains it; the whole range is named since the
	// missing records cannot be placed.
	GapCountMismatch = "count-mismatch"
)

// Gap is a part of a range that was not read, with its inclusive bounds. To is the
// range's end when the gap runs to it; From is the range's start when it starts there.
type Gap struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// Final reports whether the gap's records are proven gone from the stream, so that no
// later attempt can read them. Only final gaps may remain in a complete capture.
func (g Gap) Final() bool {
	return g.Reason == GapTrimmed || g.Reason == GapCompacted || g.Reason == GapShardEnded
}

// Transient returns the gaps that are not final, in order: the parts of a range a
// later attempt must read again. It returns nil when there are none.
func Transient(gaps []Gap) []Gap {
	var out []Gap
	for _, g := range gaps {
		if !g.Final() {
			out = append(out, g)
		}
	}
	return out
}
