package kinesislimit

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
)

// Discard answers PutRecords itself, as if every record was written, and passes every
// other call to Next. Put it under a Transport to measure a client against the
// limiter alone where the emulator cannot keep up (kinesis-local slows down as its
// shards fill).
type Discard struct {
	Next http.RoundTripper // http.DefaultTransport when nil
	seq  atomic.Int64
}

// RoundTrip implements http.RoundTripper.
func (d *Discard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("X-Amz-Target") != putRecordsTarget || req.Body == nil {
		next := d.Next
		if next == nil {
			next = http.DefaultTransport
		}
		return next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("kinesislimit: read PutRecords body: %w", err)
	}
	var in struct{ Records []json.RawMessage }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("kinesislimit: PutRecords body: %w", err)
	}
	results := make([]*resultEntry, len(in.Records))
	for i := range results {
		results[i] = &resultEntry{SequenceNumber: strconv.FormatInt(d.seq.Add(1), 10), ShardID: "discarded"}
	}
	return respond(req, results)
}
