package archive

import (
	"errors"
	"fmt"
	"io"
)

// docReader reads a Document's JSON (the DLQ body) by encoding it chunk by chunk, and
// seeks by encoding again from the start. The SDK must be able to rewind an upload
// body (to hash it, to retry); this lets it do so without the whole text in memory.
type docReader struct {
	p    *pieces
	size int64
	pos  int64
	buf  []byte // encoded, not yet read: buf[off:]
	off  int
	err  error
}

func newDocReader(doc *Document, size int) *docReader {
	return &docReader{p: newPieces(doc, false), size: int64(size), buf: make([]byte, 0, chunkSize+4096)}
}

func (r *docReader) Read(b []byte) (int, error) {
	for r.off == len(r.buf) {
		if r.err != nil {
			return 0, r.err
		}
		if r.p.done {
			return 0, io.EOF
		}
		r.buf, r.err = r.p.fill(r.buf[:0], chunkSize)
		r.off = 0
		if r.err == io.EOF {
			r.err = nil // p.done says the same; a later Seek may start over
		}
	}
	n := copy(b, r.buf[r.off:])
	r.off += n
	r.pos += int64(n)
	return n, nil
}

var errSeek = errors.New("docReader: seek outside the body")

// Seek supports any offset within the body; moving backwards encodes from the start.
func (r *docReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.size
	}
	switch {
	case offset < 0 || offset > r.size:
		return r.pos, fmt.Errorf("%w: %d of %d", errSeek, offset, r.size)
	case offset == r.pos:
		return r.pos, nil
	case offset == r.size: // the SDK seeks to the end to learn the length
		r.p.done = true
		r.buf, r.off, r.pos, r.err = r.buf[:0], 0, r.size, nil
		return r.pos, nil
	case offset < r.pos:
		r.p.reset()
		r.buf, r.off, r.pos, r.err = r.buf[:0], 0, 0, nil
	}
	_, err := io.CopyN(io.Discard, r, offset-r.pos)
	return r.pos, err
}
