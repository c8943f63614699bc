// Package kafka reads a failed range of one Kafka topic-partition back, for Amazon MSK
// and self-managed Apache Kafka event sources. A Reader turns a Range (topic,
// partition, first and last offset, inclusive) into a Result: the records in exactly
// the shape Lambda gave them to the consumer (batch.Record with Kafka set:
// events.KafkaRecord), the Gaps that could not be read, the records of aborted
// transactions that were skipped, and the requests made. franz-go types stop here.
//
// # Reading
//
// Nothing here joins a consumer group or commits an offset: the reader sends Fetch
// requests for the one partition straight to its leader (one Metadata request finds
// the leader and the topic ID), so the failed consumer's group offsets are never
// touched. It does not use kgo's consumer (ConsumePartitions), because that hides
// what the gap rules need: which missing offsets were aborted transactional records,
// which were transaction markers, which were removed by compaction, and where a fetch
// ended when the tail of the range holds no record at all. Instead each Fetch
// (isolation READ_COMMITTED, PartitionMaxBytes 8 MiB by default) is decoded twice by
// kgo.ProcessFetchPartition: once read-uncommitted with control records, which lists
// every offset the log still holds, and once read-committed, which says which of them
// are committed. A range of N bytes costs 1 Metadata request plus about
// ceil(N / PartitionMaxBytes) Fetch requests, the minimum being one per partition
// page.
//
// # Gaps and skipped records
//
//   - trimmed (final, batch.Gap.Final): offsets below the partition's log start
//     offset (retention, or DeleteRecords). The broker answers OFFSET_OUT_OF_RANGE;
//     one ListOffsets request finds the log start, and the read continues there.
//   - compacted (final): offsets inside the range that the log no longer holds, read
//     around; one gap per run of missing offsets. Only offsets below one the fetch
//     returned are named so, which proves the log has passed them for good.
//   - unreadable (transient): offsets at or past the partition's end (a recreated
//     topic) or in a transaction still open (past the last stable offset), or what a
//     deadline left; a later attempt may read them.
//
// Records of aborted transactions are not returned; Result.Aborted counts them.
// Transaction markers (control records) take an offset each and are neither records
// nor gaps.
//
// # Reaching a cluster
//
// ClientOptions turns a ClientConfig (settings.KafkaTLS, KafkaTLSCA, KafkaAuth,
// KafkaSecretARN, read by LoadClientConfig through a settings.Loader) into franz-go
// options: TLS (system roots plus an
// optional CA file), SASL/SCRAM-SHA-512 or -256 and mutual TLS with credentials from
// Secrets Manager in the shapes Lambda's Kafka mappings use (read at each
// authentication, so rotation is picked up), or MSK IAM (SASL/OAUTHBEARER tokens
// signed by aws-msk-iam-sasl-signer-go with the caller's credentials).
//
// # Error contract
//
// Read returns partial data whenever it has any. Gaps, a deadline reached included,
// come with a nil error. When the topic or partition does not exist or access is
// denied, Read returns an *UnreadableError: retrying will not help. Any other error (a
// cancelled ctx, a broker the client could not reach) is returned wrapped, with what
// was read so far, for the caller to retry the whole read. Payloads are never logged.
package kafka
