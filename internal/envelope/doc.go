// Package envelope is the only package that knows how an on-failure record reaches
// us. Lambda event source mappings on Kinesis and DynamoDB streams, and EventBridge
// Pipes with such sources, give up on a batch by writing an on-failure record
// (KinesisBatchInfo or DDBStreamBatchInfo: stream, shard, sequence range) to SNS,
// SQS or S3. Parse takes whatever payload invoked us — an SNS event, an SQS event
// (with raw or SNS-wrapped bodies), an S3 event notification or EventBridge
// "Object Created" event naming an on-failure object, or a bare record from a direct
// invoke, or either of those wrapped as the hydrator's own failure queue holds them: a
// Lambda asynchronous-invocation record's requestPayload, an SNS notification that
// could not be delivered — and returns our own types: Input, Item, batch.Failure. aws-lambda-go's events
// types stop here.
//
// Every record is validated before anyone calls AWS with it: the stream ARN must be a
// Kinesis stream or DynamoDB stream ARN matching the batch-info kind, the shard ID
// well-formed, the sequence numbers decimal (at most 128 digits) with start <= end.
// Where AWS varies the parser does too: any condition, null or missing
// responseContext, qualified function ARNs, times with or without fractions, unknown
// fields, absent batchSize.
//
// Kafka event source mappings (Amazon MSK, self-managed Apache Kafka) write
// KafkaBatchInfo, which may name several topic-partitions (recordsInfo) or one offset
// placed by the failed event it carries (recordInfo). ParseRecords gives one
// batch.Failure per topic-partition (Source kafka, StreamName the topic, ShardID the
// partition, Start and End the offsets, Kafka the rest), and Item.Failures holds them
// all. An MSK record is known by its cluster ARN, a self-managed one by its bootstrap
// servers; one of the two must be present.
//
// Error contract: every error is a *ParseError naming the unit (MessageID) and the
// JSON field at fault. Parse returns one only when the payload as a whole is unusable
// (over MaxPayloadSize, not JSON, no recognizable shape); a bad unit gets its own
// ParseError in Item.Err and the others are still returned, so that an SQS consumer
// can report exactly the bad messages in batchItemFailures. ParseError is permanent:
// retrying the same bytes cannot help. Nothing here logs, and no error quotes more
// than a short prefix of a field's value, so payload data stays out of logs.
//
// Size caps: Parse refuses payloads over MaxPayloadSize (6 MiB, Lambda's synchronous
// invocation limit); ParseRecord refuses records over MaxObjectSize (8 MiB, room for
// an S3 destination object carrying a 6 MB invocation event as an escaped string),
// and S3 notifications of larger objects become item errors before anything is
// fetched.
package envelope
