// Package redrive replays hydrated failures to their targets under throttle awareness.
//
// A Redriver reads failures from a Source — the SQS DLQ (NewSQSSource) or the S3
// archive (NewArchiveSource), both through package archive — keeps those the Filter
// selects, routes each by its source stream to a Target (by default the consumer
// function that failed, named by the on-failure record's functionArn and invoked with
// its qualifier — alias or version — or $LATEST when it has none; by Route the source
// Kinesis stream, where every consumer of the stream sees the records again, another
// function, an EventBridge bus or an SQS queue; the consumer target applies its
// event source mapping's FilterCriteria again, so the consumer never sees a record
// its mapping filters out, and refuses a failure whose patterns use an operator
// this package does not implement, a *FilterError),
// and sends the records in calls that keep the target's request limits, an adaptive
// rate and each ordering key's order:
//
//   - Rate: AIMD per lane (each open shard of a Kinesis target, else the whole
//     target) over token buckets for records and bytes, never above the ceiling and
//     never more than one second of it in any sliding second. Throttles — per record,
//     per entry or per call — cut the rate once per round trip.
//   - Order: a Kinesis call holds one record per partition key (PutRecords does not
//     stop at a failed record, so a later record of the key could overtake it); a
//     Lambda call holds consecutive records of one shard and one failure, never more
//     than the failed batch held (the event its mapping sent), and a partial batch
//     response leaves the named record and those after it undelivered. A record given
//     up on blocks the later records of its key for the rest of the run. Failures of
//     one shard received together are sent in sequence order, whatever order the
//     source returned them in, and a later one waits until the earlier one is
//     delivered; if it is not, the later one is held for the run
//     (ErrEarlierUnfinished, which never counts towards parking).
//   - Time: at ctx's deadline less SafetyMargin (or Budget) no new call starts; what
//     is pending is handed back and Run returns normally with its Report. Each call
//     has its own timeout (CallTimeout; 15 minutes for a function), and one still
//     running half the margin later is cut: only its own records are left.
//
// No-loss contract. A DLQ message is deleted only after every one of its records was
// delivered, and as soon as they were: each failure is settled when its last record
// is, while the rest of the round is still being sent. A partly delivered message is replaced by a message holding only the
// undelivered records (its archive location suffixed ".rest-<first>-<count>" so its
// claim check never collides with the original's), sent before the old one is
// deleted; the replacement waits for the next run, unless all it holds are records
// the target can never take: then this run parks it at once, with the reason. A crash at any point therefore
// leaves every undelivered record queued; at worst a delivered record is sent again.
// A message that cannot be decoded, holds a record its target can never take, or has
// failed MaxReceiveCount attempts is moved as it is to the parking queue with
// AttrLastError. An attempt that fails for the message's own reason sends it again
// as it is with AttrAttempts advanced (then deletes the old one); receives count for
// nothing, so a dry run (which must receive: SQS has no peek), a wait behind an
// earlier failure, a time-out or a target that is down never brings a message closer
// to parking. Messages the run holds stay hidden until it ends, so it never receives
// one twice. Messages a run leaves alone (filtered, no route,
// dry run, nothing delivered) are made visible again when it ends. The archive source
// changes nothing.
//
// One redrive per source: with Options.Lease (NewFromConfig sets it for the DLQ and
// for archive jobs) a run takes the source's lease, an S3 object written
// conditionally with an expiry, and a run finding it held returns a
// *LeaseHeldError naming the holder before reading anything.
//
// Error contract. Run returns an error only when the source failed or ctx was
// cancelled (then nothing is settled after the cancellation); everything else is
// counted in the Report and stays queued. Entries are validated before any call
// (partition key, explicit hash key, event detail). A call refused as a whole is
// split into calls of one record: a record refused alone as invalid is rejected, and
// a target that refuses a lone record for any other reason (missing resource, access
// denied) is down for the run, its records left with a *TargetError that never
// brings a failure closer to parking; a record a target can never
// take a *RejectedError; a consumer function's failure a *FunctionError; a record not
// sent for want of time is left with ErrTimeBudget, one stuck behind its key's
// undelivered record with ErrBlocked. A failure without a usable target wraps
// ErrNoRoute (ErrNoConsumer: it names no function; ErrDynamoDBToKinesis); it stays
// queued and is counted as unroutable. Payloads never appear in errors.
package redrive
