// Package kinesislimit makes kinesis-local behave like a real stream at its write
// limit, for tests and benchmarks: no emulator throttles, so without it the redrive
// rate controller would never be tested against a limit.
//
// A Limiter admits or refuses each record by the shard its key hashes to, holding every
// shard to 1,000 records and 1 MiB (data plus partition key) in any sliding one-second
// window, as Kinesis does. Transport wraps an http.RoundTripper in front of
// kinesis-local: it lets only admitted records of a PutRecords call through and answers
// for the others with ProvisionedThroughputExceededException in the per-record result,
// the way Kinesis reports a partial failure. All other calls pass unchanged.
//
// Errors: Transport returns the underlying transport's error, or an error for a
// PutRecords body it cannot read; it never invents whole-call failures.
package kinesislimit
