package archive

import (
	"fmt"
	"strings"
)

// ConflictError reports that an archive object already exists at a failure's key but
// holds a different failure (another requestId, stream, batch size...). Nothing was
// overwritten. It is permanent: retrying gives the same answer.
type ConflictError struct {
	Bucket, Key string
	// Differs names the metadata that differ, as "name: existing != new".
	Differs []string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("archive object s3://%s/%s holds a different failure (%s)", e.Bucket, e.Key, strings.Join(e.Differs, "; "))
}

// PointerError reports a DLQ claim check that points outside the archive bucket.
// It is refused without fetching anything: a message on the queue must not make the
// reader fetch objects its role can read elsewhere.
type PointerError struct {
	Bucket, Key string
	Allowed     string
}

func (e *PointerError) Error() string {
	return fmt.Sprintf("claim check points at s3://%s/%s, outside the archive bucket %q", e.Bucket, e.Key, e.Allowed)
}

// FormatError reports an archive object or DLQ message that is not in streamdlq's
// format (see docs/FORMAT.md): not JSON, a missing header, a truncated object. It is
// permanent for that input.
type FormatError struct {
	// What names the input: "s3://bucket/key" or "message body".
	What string
	// Line is the 1-based line of an archive object where decoding failed; 0 otherwise.
	Line int
	Err  error
}

func (e *FormatError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: not streamdlq format: %v", e.What, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: not streamdlq format: %v", e.What, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// TooLargeError reports a DLQ message that does not fit the queue even as a claim
// check: the queue's MaximumMessageSize is smaller than the pointer and attributes.
type TooLargeError struct {
	QueueURL string
	Bytes    int
	Max      int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("dlq message of %d bytes does not fit %s (MaximumMessageSize %d) even as a claim check", e.Bytes, e.QueueURL, e.Max)
}
