// Package bench turns `go test -bench` output into the tables of BENCHMARKS.md: each
// figure the design sets a limit for, its measured value, the floor (the limit or the
// least possible), the ratio to it and whether it is met. Its _test files hold the
// benchmarks that span packages or need whole processes: DynamoDB Streams read cost,
// hydrate end to end on the local AWS, the built bootstraps' cold start, size and
// peak RSS.
//
// scripts/bench.sh (`make bench`) runs the benchmarks and test/bench/benchreport, which uses
// Parse, Evaluate and Insert to add a dated table at the top of BENCHMARKS.md's
// "Latest" part.
//
// Error contract: Parse skips lines that are not benchmark results; Insert returns
// an error only when the file cannot be read. A figure whose benchmark did not run is
// listed as missing, never dropped, so a table always shows every floor.
package bench
