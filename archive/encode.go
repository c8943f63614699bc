package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// FormatVersion is the value of the "streamdlq" key that marks an archive object's
// header line.
const FormatVersion = 1

// chunkSize is how much encoded text is gathered before it is handed on (to gzip, to
// a counter, to an S3 upload): large enough to keep per-call overhead negligible,
// small enough that the whole JSON text is never held at once.
const chunkSize = 64 << 10

// pieces produces a Document's encoding piece by piece: one header, one piece per
// record, one trailer. Both encodings share it, so the archive object's record lines
// and the DLQ body's record elements are the same bytes.
type pieces struct {
	doc   *Document
	lines bool // JSON Lines (archive object) rather than one JSON value (DLQ body)
	next  int  // -1 before the header, len(Records) at the trailer
	done  bool
	ddb   ddbEncoder
	// spooled reads a spooled document's record lines; opened at the first record.
	spooled *spoolLines
}

func newPieces(doc *Document, lines bool) *pieces {
	return &pieces{doc: doc, lines: lines, next: -1}
}

// reset starts the encoding again from the beginning.
func (p *pieces) reset() {
	p.next, p.done = -1, false
	p.closeSpool()
}

func (p *pieces) closeSpool() {
	if p.spooled != nil {
		p.spooled.close()
		p.spooled = nil
	}
}

// fill appends pieces to b until it holds at least min bytes or the encoding ends;
// it returns io.EOF (with whatever was appended) once nothing is left.
func (p *pieces) fill(b []byte, min int) ([]byte, error) {
	for len(b) < min {
		if p.done {
			return b, io.EOF
		}
		var err error
		if b, err = p.piece(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (p *pieces) piece(b []byte) ([]byte, error) {
	var err error
	switch {
	case p.next < 0:
		b, err = p.header(b)
	case p.next < p.doc.Len():
		if !p.lines && p.next > 0 {
			b = append(b, ',')
		}
		if b, err = p.nextRecord(b); err == nil && p.lines {
			b = append(b, '\n')
		}
	default:
		b, err = p.trailer(b)
		p.done = true
		p.closeSpool()
	}
	p.next++
	return b, err
}

// nextRecord appends record p.next: encoded now, or as the spool holds it.
func (p *pieces) nextRecord(b []byte) ([]byte, error) {
	if p.doc.spool == nil {
		return p.record(b, &p.doc.Records[p.next])
	}
	if p.spooled == nil {
		l, err := p.doc.spool.lines()
		if err != nil {
			return b, err
		}
		p.spooled = l
	}
	return p.spooled.next(b)
}

// header opens the encoding. The archive object's first line is the failure and the
// hydration summary, marked by a leading "streamdlq" key that no record has.
func (p *pieces) header(b []byte) ([]byte, error) {
	failure, err := json.Marshal(p.doc.Failure)
	if err != nil {
		return b, fmt.Errorf("encode failure: %w", err)
	}
	// A raw record keeps its bytes; invalid UTF-8 in it would make SQS refuse the
	// message and extended-client readers fail to decode the body.
	if !utf8.Valid(failure) {
		failure = bytes.ToValidUTF8(failure, []byte("\uFFFD"))
	}
	if !p.lines {
		b = append(append(append(b, `{"failure":`...), failure...), `,"Records":`...)
		if p.doc.noRecords() {
			return append(b, "null"...), nil // as encoding/json writes a nil slice
		}
		return append(b, '['), nil
	}
	hy, err := json.Marshal(p.doc.Hydration)
	if err != nil {
		return b, fmt.Errorf("encode hydration: %w", err)
	}
	b = fmt.Appendf(b, `{"streamdlq":%d,"records":%d,"failure":`, FormatVersion, p.doc.Len())
	b = append(append(append(b, failure...), `,"hydration":`...), hy...)
	return append(b, "}\n"...), nil
}

func (p *pieces) trailer(b []byte) ([]byte, error) {
	if p.lines {
		return b, nil
	}
	hy, err := json.Marshal(p.doc.Hydration)
	if err != nil {
		return b, fmt.Errorf("encode hydration: %w", err)
	}
	if !p.doc.noRecords() {
		b = append(b, ']')
	}
	b = append(append(b, `,"hydration":`...), hy...)
	return append(b, '}'), nil
}

var errEmptyRecord = errors.New("record is neither Kinesis, DynamoDB nor Kafka")

// record appends r exactly as batch.Record.MarshalJSON would.
func (p *pieces) record(b []byte, r *batch.Record) ([]byte, error) {
	switch {
	case r.Kinesis != nil:
		return appendKinesis(b, r.Kinesis), nil
	case r.DynamoDB != nil:
		b, err := p.ddb.record(b, r.DynamoDB)
		if err != nil {
			return b, fmt.Errorf("encode record %d: %w", p.next, err)
		}
		return b, nil
	case r.Kafka != nil:
		kb, err := json.Marshal(r.Kafka)
		if err != nil {
			return b, fmt.Errorf("encode record %d: %w", p.next, err)
		}
		return append(b, kb...), nil
	}
	return b, fmt.Errorf("encode record %d: %w", p.next, errEmptyRecord)
}

// encodedSize returns the length of doc's encoding without holding it.
func encodedSize(doc *Document, lines bool) (int, error) {
	p := newPieces(doc, lines)
	if doc.spool != nil && !lines {
		return spooledBodySize(p)
	}
	buf := make([]byte, 0, chunkSize+4096)
	n := 0
	for {
		var err error
		buf, err = p.fill(buf[:0], chunkSize)
		n += len(buf)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// spooledBodySize is the DLQ body's length for a spooled document, from the
// spool's counts: header, the records' JSON, the commas between them, trailer.
func spooledBodySize(p *pieces) (int, error) {
	head, err := p.header(nil)
	if err != nil {
		return 0, err
	}
	tail, err := p.trailer(nil)
	if err != nil {
		return 0, err
	}
	s := p.doc.spool
	return len(head) + int(s.recBytes) + max(s.count-1, 0) + len(tail), nil
}

// encodeTo writes doc's encoding to w in chunks.
func encodeTo(w io.Writer, doc *Document, lines bool) error {
	p := newPieces(doc, lines)
	buf := make([]byte, 0, chunkSize+4096)
	for {
		var err error
		buf, err = p.fill(buf[:0], chunkSize)
		if _, werr := w.Write(buf); werr != nil {
			return werr
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
