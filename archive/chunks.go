package archive

import (
	"errors"
	"io"
)

// chunkCap is the size of one chunk of compressed output.
const chunkCap = 256 << 10

// chunks holds the compressed object in fixed-size pieces. A bytes.Buffer doubles as
// it grows, so holding a 2 MB object briefly took 6 MB; chunks never copy.
type chunks struct {
	parts [][]byte
	size  int64
}

func (c *chunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(c.parts) == 0 || len(c.parts[len(c.parts)-1]) == chunkCap {
			c.parts = append(c.parts, make([]byte, 0, chunkCap))
		}
		last := &c.parts[len(c.parts)-1]
		k := min(len(p), chunkCap-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
	c.size += int64(n)
	return n, nil
}

// reader returns an io.ReadSeeker over the chunks, as an upload body must be.
func (c *chunks) reader() *chunkReader { return &chunkReader{c: c} }

type chunkReader struct {
	c   *chunks
	pos int64
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.pos >= r.c.size {
		return 0, io.EOF
	}
	part := r.c.parts[r.pos/chunkCap][r.pos%chunkCap:]
	n := copy(p, part)
	r.pos += int64(n)
	return n, nil
}

func (r *chunkReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.c.size
	}
	if offset < 0 {
		return r.pos, errors.New("chunkReader: seek before start")
	}
	r.pos = offset
	return offset, nil
}
