package batch

// Gap reasons.
const (
	// GapTrimmed: the records were past the stream's retention period when read (for
	// Kafka: below the partition's log start offset, by retention or DeleteRecords).
	GapTrimmed = "trimmed"
	// GapCompacted: offsets inside a Kafka range that the log no longer holds, removed
	// by compaction (cleanup.policy compact) after the consumer was given them.
	GapCompacted = "compacted"
	// GapUnreadable: the range could not be read at all (stream deleted, access denied,
	// deadline reached); Detail says why.
	GapUnreadable = "unreadable"
	// GapCountMismatch: fewer records were read than the consumer was given, and no
	// reader error explains it; the whole range is named since the missing records
	// cannot be placed.
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
