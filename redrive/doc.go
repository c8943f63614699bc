// Package redrive replays hydrated failures to their targets under throttle awareness.
//
// It reads failures from the SQS DLQ or the S3 archive (both through package archive),
// routes each by its source stream to a Target — the source Kinesis stream by default,
// or a consumer Lambda function, an EventBridge bus or an SQS queue — and sends the
// records in calls that keep the target's request limits, an adaptive rate per target
// (per shard for Kinesis: AIMD over token buckets, never above a ceiling), and each
// ordering key's order.
//
// No-loss contract. A DLQ message is deleted only after every one of its records was
// delivered. A partly delivered message is replaced by a message holding only the
// undelivered records, sent before the old one is deleted, so a crash at any point
// leaves every undelivered record on the queue (at worst a delivered record is sent
// again after a crash). A message that cannot be decoded, holds a record its target
// can never take, or has failed MaxReceiveCount times is moved to the parking queue
// with the last error as a message attribute.
//
// Error contract. Run returns an error only when it could not work at all (the source
// unreadable) or when ctx was cancelled; per-record and per-target failures are counted
// in the Report, and what was not delivered stays queued. A target that refuses a call
// outright (missing resource, access denied) is reported as a *TargetError; a record a
// target can never take as a *RejectedError; a consumer function's failure as a
// *FunctionError.
package redrive
