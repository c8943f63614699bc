// Package hydrate turns on-failure records into hydrated failures: it reads the records
// an on-failure record names back from their Kinesis or DynamoDB stream or Kafka topic
// (or takes them from an S3 on-failure object), and hands the result to Capture, which
// archives it to S3, queues it on the SQS DLQ and announces it on EventBridge.
//
// A Kafka on-failure record (Amazon MSK or self-managed) may name several
// topic-partitions: each is its own item, failure and capture, under the message's ID
// (kafka.go). It is allowed by cluster ARN and bootstrap servers, vouched for by the
// consumer's mapping on its topic (for self-managed Kafka: a mapping of the function
// whose bootstrap servers include the failure's), read committed by direct assignment
// from the record's servers or, for MSK when it names none or another listener's, from
// kafka:GetBootstrapBrokers (kafka_brokers.go), and captured like a stream's failure:
// the consumer in its key, superseded while incomplete; a retry reads the whole range.
//
// Before reading, a failure must be vouched for by an event source mapping of its
// function that sends failures to this stack (mapping.go), and an S3 object's payload
// records must all belong to its failure (payload.go). Streams are read through a client
// of their own account (role map) and region. Rehydrator (rehydrate.go), run by its own
// schedule through Dispatch, drains the hydrator's own failure queue while the records
// are still in the stream.
//
// Memory follows the page, not the range: a stream is read one GetRecords page at a
// time (Kinesis pages bounded to 2 MiB of data), and past Config.SpoolAbove records
// (1,000) a document's records go to a gzip spool file in the temporary directory
// (archive.Document.SpoolAbove), from which the archive object (a multipart upload
// when large) and the DLQ claim check are written; Handler closes the document, which
// removes the file. Superseding an incomplete capture streams too: the archived
// capture is read back into a spool and merged with the new one record by record into
// a third. One path still holds a whole range: a Kafka read (one Fetch).
//
// Error contract. Hydrate returns a *NotAllowedError for a stream outside the
// allowlist (before any call is made), a *MappingError for a failure no event source
// mapping vouches for, an *envelope.ParseError for bad input (an S3 payload record
// that is not the failure's included), and otherwise only transient errors worth
// retrying. What the stream could not give is a gap in the document, never an error:
// a final gap (batch.Gap.Final: trimmed, compacted, shard-ended) for records proven
// gone — trimmed includes a shard past retention: not found in a stream that exists,
// named by a failure older than the stream's retention period (Kinesis: its
// RetentionPeriodHours; DynamoDB Streams: 24 h) — and a
// transient one for everything else (access or KMS denied, throttled, deadline, short
// read, stream or topic not found, a shard not found while its records could still be
// retained), which makes the document incomplete.
//
// Capture.Run queues and announces only complete captures (final gaps allowed). An
// incomplete one is archived (StatusIncomplete), so what was read is kept at once,
// and Run returns an *IncompleteError naming the missing ranges; the next attempt
// (Handler: Capture.Incomplete, then Hydrator.Resume) reads only what it misses,
// merges (union of records by sequence and sub-sequence number) and overwrites the
// incomplete object with If-Match on its ETag, until it is complete; only then is it
// queued, once. A complete archive is never overwritten; a
// repeated delivery of it is a duplicate. A failure is identified by consumer
// (function ARN without qualifier), stream, shard and range (archive.Key).
//
// Handler.Handle logs each item's outcome once and returns the error for non-SQS
// inputs, so that Lambda retries the invocation and finally parks it in the
// function's own OnFailure destination; for SQS inputs it answers with
// batchItemFailures listing every item not completely captured. Items are taken in
// turn, each with the whole time left; after the first, an item with less than it
// needs (HandlerOptions.ItemTime, or the longest item so far) is handed back
// unstarted with a *DeferredError. A dry run (no Capture) returns an
// *IncompleteError for an incomplete document too.
package hydrate
