package archive

import (
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// compressor is a gzip writer: compress/gzip's and klauspost's both fit, and
// BenchmarkEncode compares them.
type compressor interface {
	io.WriteCloser
	Reset(w io.Writer)
}

// gzipper compresses archive objects with pooled writers: a deflate writer carries
// about a megabyte of state that is worth keeping between invocations.
type gzipper struct{ pool sync.Pool }

func newGzipper(newWriter func() compressor) *gzipper {
	return &gzipper{pool: sync.Pool{New: func() any { return newWriter() }}}
}

// defaultGzip uses klauspost/compress at BestSpeed: the same gzip format as
// compress/gzip. Measured on Kinesis-shaped JSON (BenchmarkEncode, figures in
// docs/FORMAT.md) it is the only choice above the 100 MB/s-per-core floor: about
// 1.8x compress/gzip at BestSpeed and 3x either at the default level, for objects
// about 18% larger than the default level's.
var defaultGzip = newGzipper(func() compressor {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
	return w
})

// compress returns doc's archive object: gzip-compressed JSON Lines. Only the
// compressed bytes are held; the JSON text passes through in chunks.
func (g *gzipper) compress(doc *Document) (*chunks, error) {
	return g.gzip(func(w io.Writer) error { return encodeTo(w, doc, true) })
}

// compressBytes returns b as one gzip member.
func (g *gzipper) compressBytes(b []byte) (*chunks, error) {
	return g.gzip(func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// gzip returns, as one gzip member, what write writes, using a pooled writer.
func (g *gzipper) gzip(write func(io.Writer) error) (*chunks, error) {
	out := new(chunks)
	zw := g.pool.Get().(compressor)
	zw.Reset(out)
	err := write(zw)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	zw.Reset(nil)
	g.pool.Put(zw)
	if err != nil {
		return nil, err
	}
	return out, nil
}
