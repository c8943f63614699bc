// Package archive owns the two durable forms of a hydrated failure (a Document):
// the S3 archive object and the SQS DLQ message. It is the one place that writes and
// reads them; docs/FORMAT.md specifies both for other readers (Athena, the SQS
// Extended Clients, operators' scripts).
//
//   - Archive.Put writes one gzip JSON Lines object per failure under a partitioned,
//     deterministic key (Key: stream, shard, range and consumer), with a conditional
//     create so a duplicate delivery neither overwrites nor duplicates it.
//     Archive.Replace overwrites an incomplete capture (StatusIncomplete) with a
//     conditional write on the ETag that GetForUpdate (or GetSpooledForUpdate) read, so a later attempt that
//     read more supersedes it and concurrent attempts cannot undo each other; a
//     complete capture is never replaced. Archive.Get and Archive.List read them.
//     An object larger than Options.PartSize (8 MiB) is written with a multipart
//     upload whose CompleteMultipartUpload carries the same condition; any failure
//     aborts the upload.
//   - A Document can hold its records in a gzip spool file instead of Records
//     (SpoolAbove, Add): its archive object is then the header as one gzip member
//     followed by the spool as another, and its DLQ body is made from the spool's
//     lines, so neither the range nor its encoding is ever held in memory. All
//     iterates the records, held or spooled, one at a time. Close removes the file.
//   - Queue.Send puts one message per failure on the DLQ: the Document JSON inline
//     when it fits the queue's MaximumMessageSize, otherwise a claim check in the SQS
//     Extended Client's format pointing at a copy of that JSON under
//     <prefix>/claim-check/. DecodeMessage reads either kind back.
//
// Error contract:
//   - Put returns a *ConflictError when the key holds a different failure (never
//     overwritten; permanent). An identical failure is not an error: Location.Created
//     is false, and Location.Status is the existing object's status. Replace returns
//     ErrModified (wrapped) when the object changed or vanished since its ETag was
//     read: read it again and merge.
//   - DecodeMessage returns a *PointerError for a claim check outside the archive
//     bucket (refused before any request), and a *FormatError for a body or object
//     that is not streamdlq's format; Get returns *FormatError for a malformed or
//     truncated object. Both are permanent for that input.
//   - Send returns a *TooLargeError when even a claim check does not fit the queue.
//   - Everything else is an AWS or context error, wrapped with the operation and the
//     object ("put s3://bucket/key: ..."); classify it with errors.As on the SDK's
//     types. Retries of transient errors are the SDK retryer's; Put itself retries
//     only S3's 409 ConditionalRequestConflict (a concurrent write of the same key).
//
// The package never logs: callers log once, at the top. Payloads never appear in
// errors.
package archive
