package archive

import "io"

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

// ReadAt reads the chunks at off, as io.ReaderAt does.
func (c *chunks) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < c.size {
		k := copy(p[n:], c.parts[off/chunkCap][off%chunkCap:])
		n, off = n+k, off+int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
