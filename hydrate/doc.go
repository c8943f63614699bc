// Package hydrate turns on-failure records into hydrated failures: it reads the records
// an on-failure record names back from their Kinesis or DynamoDB stream (or takes them
// from an S3 on-failure object), and hands the result to Capture, which archives it to
// S3, queues it on the SQS DLQ and announces it on EventBridge.
//
// Before reading, a failure must be vouched for by an event source mapping of its
// function that sends failures to this stack (mapping.go), and an S3 object's payload
// records must all belong to its failure (payload.go). Streams are read through a client
// of their own account (role map) and region. Rehydrator (rehydrate.go), run by its own
// schedule through Dispatch, drains the hydrator's own failure queue while the records
// are still in the stream.
//
// Error contract. Hydrate returns a *NotAllowedError for a stream outside the
// allowlist (before any call is made), a *MappingError for a failure no event source
// mapping vouches for, an *envelope.ParseError for bad input (an S3 payload record
// that is not the failure's included), and
// otherwise only transient errors worth retrying: anything the stream could not give
// (trimmed, deleted, access denied, deadline) is a gap in the document, never an error,
// so the failure itself is still archived and queued. Handler.Handle logs each item's
// outcome once and returns the error for non-SQS inputs, so that Lambda retries the
// invocation and finally parks it in the function's own OnFailure destination; for SQS
// inputs it answers with batchItemFailures instead. Capture is idempotent per failure:
// a retry finds the archive object and its queued tag and continues with the next step.
package hydrate
