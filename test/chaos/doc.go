// Package chaos is the fault matrix that measures streamdlq's reliability: seeded,
// reproducible runs of the whole flow — records written to a source stream, their
// batch given up on, the on-failure record delivered through SNS to the hydrate
// handler, archived, queued on the DLQ, announced, and redriven to a target stream or
// back to the consumer function (played by internal/testkit/lambdafn behind the Invoke
// API) — against the local AWS, with faults injected into every SDK call the flow makes.
//
// An Injector, added to the clients' middleware stacks, fails call attempts with a
// retryable 500, a throttle, a timeout or an access denial, before the request is
// sent or after the service acted on it (which is what makes duplicates); expires
// Kinesis iterators; trims the first records of a run's shard the way Kinesis
// reports it; and crashes a process by cancelling its context at a random call.
// World.Run plays Lambda's part around the handlers — a fresh process per attempt,
// two async retries and then the event parked in the function's OnFailure
// destination (its failure queue), which the rehydration schedule then drains through
// the deployed function's path; SNS duplicates; hostile inputs (a forged on-failure
// record, a foreign S3 on-failure object); scheduled redrive runs, the first one cut
// mid-call in some runs — and then an oracle reads the target stream (or what the
// consumer function accepted), the queues, the parked events and the archive with
// clean clients and puts each record in exactly one class: delivered, queued, parked
// (trimmed before any attempt, its failure never hydrated), in a final gap, or lost. Duplicates count as explained only in runs with a crash or an
// after-send fault. Matrix totals runs per fault class and WriteReport writes its
// table into RELIABILITY.md.
//
// A run's random choices come from its seed, so a seed replays the same plan and,
// since the flow's SDK calls come in the same order, the same faults (redrive's
// concurrent visibility heartbeats aside).
//
// Error contract: World.Run returns an error only when the local AWS itself failed
// the setup or the oracle (which use no faults); what went wrong in the flow is in
// Run.Problems. Nothing here logs record payloads; the tests scan for them.
package chaos
