package stream

// Range is the part of one shard that an on-failure record names.
type Range struct {
	StreamARN string
	ShardID   string
	// Start and End are inclusive sequence numbers: decimal strings of up to 128 bits.
	Start, End string
	// BatchSize is what the consumer was given; used only to cross-check the count.
	BatchSize int
	// Region is the stream's region, copied into each record's awsRegion.
	Region string
}

// Gap reasons.
const (
	// GapTrimmed: the records were past the stream's retention period when read.
	GapTrimmed = "trimmed"
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

// Result is what a reader got for a Range.
type Result struct {
	// Records in stream order, each with Start <= sequence number <= End.
	Records []Record
	// Gaps are the parts of the range that could not be read, in order.
	Gaps []Gap
	// Calls counts the stream API calls made (iterators and GetRecords), for cost
	// reporting.
	Calls int
	// ShardClosed reports that the shard ended (resharding) before End was reached.
	ShardClosed bool
}
