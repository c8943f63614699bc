package stream

import "github.com/streamdlq/streamdlq/archive/batch"

// Range is the part of one shard that an on-failure record names.
type Range struct {
	StreamARN string
	ShardID   string
	// Start and End are inclusive sequence numbers: decimal strings of up to 128 bits.
	Start, End string
	// After, when set, is a record known to lie before Start (the last one an earlier
	// read got): the read begins AFTER_SEQUENCE_NUMBER After instead of
	// AT_SEQUENCE_NUMBER Start, since Start itself need not be a record the stream
	// accepts as a position. Records up to Start are still skipped.
	After string
	// BatchSize is what the consumer was given; used only to cross-check the count.
	BatchSize int
	// Region is the stream's region, copied into each record's awsRegion.
	Region string
}

// Result is what a reader got for a Range.
type Result struct {
	// Records in stream order, each with Start <= sequence number <= End.
	Records []batch.Record
	// Gaps are the parts of the range that could not be read, in order.
	Gaps []batch.Gap
	// Calls counts the stream API calls made (iterators and GetRecords), for cost
	// reporting.
	Calls int
	// ShardClosed reports that the shard ended (resharding) before End was reached.
	ShardClosed bool
}
