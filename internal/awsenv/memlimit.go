package awsenv

import (
	"math"
	"runtime/debug"
	"strconv"
)

// MemoryLimitFraction is the share of the function's memory given to the Go runtime as
// its soft limit. The rest is for what the limit does not count: the bootstrap's own
// mapped code and data (the stripped binary is about 12 MB, most of it resident once
// warm), memory the kernel charges to the sandbox for sockets and buffers, and any
// Lambda extension in the same sandbox. At 128 MB that leaves about 26 MB, twice the
// binary; at larger sizes the margin only grows. Too low a limit costs extra GC work
// near it, never a failure (the limit is soft); too high a one lets garbage push the
// sandbox over its memory, which kills the invocation.
const MemoryLimitFraction = 0.8

// MemoryLimit is the soft memory limit, in bytes, for a function of the memory size
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE names (in MB), read through lookup. ok is false when
// GOMEMLIMIT is set (the operator's explicit choice, which the runtime already
// applied) or the size is absent or not a positive number (not running in Lambda).
func MemoryLimit(lookup func(string) (string, bool)) (limit int64, ok bool) {
	if v, set := lookup("GOMEMLIMIT"); set && v != "" {
		return 0, false
	}
	v, _ := lookup("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
	mb, err := strconv.ParseInt(v, 10, 64)
	if err != nil || mb <= 0 || mb > math.MaxInt64>>21 {
		return 0, false
	}
	return int64(float64(mb<<20) * MemoryLimitFraction), true
}

// SetMemoryLimit applies MemoryLimit to the runtime, so that the collector works
// harder as the heap nears the function's memory instead of the sandbox running out
// of memory while garbage waits for the next GOGC cycle. Call it first in main,
// before any work; it returns the limit set, or 0 when it set none.
func SetMemoryLimit(lookup func(string) (string, bool)) int64 {
	limit, ok := MemoryLimit(lookup)
	if !ok {
		return 0
	}
	debug.SetMemoryLimit(limit)
	return limit
}
