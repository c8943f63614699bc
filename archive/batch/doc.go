// Package batch holds the types that describe a failed batch and what was read back
// for it: the Failure named by an on-failure record, the Records read from the stream
// in the shape Lambda delivers them, and the Gaps that could not be read. They are the
// vocabulary shared by hydrate, archive and redrive, and by programs outside this
// module that call the hydrator or write their own redrive target.
//
// Error contract: Record's JSON methods return an error for a record that is neither
// a Kinesis, a DynamoDB nor a Kafka record; nothing else here fails.
package batch
