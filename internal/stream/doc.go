// Package stream owns reading records back from the streams Lambda consumes: a
// KinesisReader and a DynamoDBReader each turn a Range (one shard, an inclusive
// sequence-number range from an on-failure record) into a Result holding the records
// in exactly the shape Lambda gave them to the consumer (batch.Record), the Gaps that could
// not be read, the API calls made and whether the shard closed. It also owns KPL
// de-aggregation and sequence-number comparison. SDK types stop here.
//
// # Reading
//
// A read gets one iterator AT_SEQUENCE_NUMBER Start and follows NextShardIterator with
// GetRecords (Limit 10,000 for Kinesis, 1,000 for DynamoDB Streams) until it reads a
// record at or past End, the shard ends (NextShardIterator nil: Result.ShardClosed, as
// records after a split live in child shards and were never part of the batch), or
// Kinesis reports an empty page at the tip (MillisBehindLatest 0). A read that stops
// before End is never silently short: a closed shard whose last record lies before End
// leaves a final batch.GapShardEnded for the rest (nothing more can exist there), and
// the tip reached before End a transient batch.GapShortRead. Empty pages behind the
// tip are followed; MaxEmptyPages of them in a row end the read with a transient
// unreadable gap. Only records with Start <= sequence number <= End are kept,
// compared as numbers.
// A contiguous Kinesis range of N records costs 1 + ceil(N/10,000) calls. Result.Calls
// counts every GetShardIterator and GetRecords call the reader made, including its own
// retries, but not the SDK retryer's attempts inside one call.
//
// An expired iterator is replaced AFTER_SEQUENCE_NUMBER the last record read (AT Start
// before any), so nothing is read twice or skipped. Throttling that outlasts the SDK's
// retries is retried here after a full-jitter exponential wait (Backoff); a wait that
// would pass ctx's deadline is not begun.
//
// # Trimmed records
//
// When Start (or the resume point) has passed the retention period, the read falls
// back to TRIM_HORIZON and the trimmed part becomes batch.Gap{Reason: batch.GapTrimmed} from that
// position to just before the first record TRIM_HORIZON gives (or to End). DynamoDB
// Streams says so with TrimmedDataAccessException, from GetShardIterator or
// GetRecords. Kinesis has no such error: GetShardIterator refuses the sequence number
// with InvalidArgumentException naming StartingSequenceNumber, which is what this
// package treats as trimmed, except the messages that mean a sequence number of
// another shard or stream.
//
// The rule for "the first record is past Start": it is a gap only after a
// TRIM_HORIZON fallback, where Start itself was refused. An iterator granted AT Start
// that returns a later record first is not reported here, because sequence numbers
// are sparse and a Range need not start at a record (the CLI takes ranges by hand).
// Should Kinesis ever grant such an iterator for trimmed data, the caller's count
// cross-check (fewer records than BatchSize, batch.GapCountMismatch) names the loss.
//
// # Error contract
//
// Read returns partial data whenever it has any. Gaps say whether their records are
// proven gone (batch.Gap.Final: trimmed, shard-ended) or may still be read by a later
// attempt (unreadable, short-read). A trimmed range, a deadline reached
// (batch.Gap{batch.GapUnreadable, Detail "deadline"}) and a refusal after some records
// were read are gaps with a nil error. When nothing could be read because the stream
// refused (not found, access or KMS denied, invalid argument), Read returns an
// *UnreadableError with the Range and a Reason; that is not proof that the records
// are gone, and callers treat it as transient. Any other error (a cancelled ctx, a
// transient failure the SDK gave up on) is returned wrapped, together with the
// records read so far, for the caller to retry the whole read. Payloads are never
// logged.
package stream
