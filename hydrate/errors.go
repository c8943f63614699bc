package hydrate

import (
	"fmt"
	"strings"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
)

// IncompleteError reports a failure whose capture still misses records that may be in
// the stream (transient gaps: access or KMS denied, throttled, deadline, short read,
// stream not found). What was read is archived as an incomplete capture (Archive),
// which nothing queues; the failure is not on the DLQ. The item fails so that AWS
// delivers it again, and a later attempt reads the range again, merges and, once
// complete, queues it.
type IncompleteError struct {
	StreamARN string
	ShardID   string
	// Start and End are the failure's inclusive range.
	Start, End string
	// Missing are the transient gaps still open, in order.
	Missing []batch.Gap
	// Records is how many records the capture holds so far.
	Records int
	// Archive is the key of the incomplete capture; "" when nothing was written (a
	// dry run).
	Archive string
}

func (e *IncompleteError) Error() string {
	parts := make([]string, len(e.Missing))
	for i, g := range e.Missing {
		parts[i] = fmt.Sprintf("%s..%s %s", g.From, g.To, g.Reason)
		if g.Detail != "" {
			parts[i] += " (" + g.Detail + ")"
		}
	}
	where := "not archived"
	if e.Archive != "" {
		where = "kept incomplete at " + e.Archive
	}
	return fmt.Sprintf("capture of %s %s %s..%s incomplete: %d records read, %s; missing %s; not queued; a retry reads what is missing, merges it and queues the failure once complete",
		e.StreamARN, e.ShardID, e.Start, e.End, e.Records, where, strings.Join(parts, ", "))
}

// incomplete returns an *IncompleteError for a document with transient gaps, nil for
// a complete one.
func incomplete(doc *archive.Document, key string) error {
	h := doc.Hydration
	missing := batch.Transient(h.Gaps)
	if len(missing) == 0 {
		return nil
	}
	return &IncompleteError{StreamARN: h.StreamARN, ShardID: h.ShardID, Start: h.Start, End: h.End,
		Missing: missing, Records: doc.Len(), Archive: key}
}
