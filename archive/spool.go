package archive

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"

	"github.com/streamdlq/streamdlq/archive/batch"
)

// spool holds a Document's records on local disk as they are read: their archive
// record lines, gzip-compressed as they will be in the archive object. The object is
// then a gzip member with the header line followed by the spool's bytes (a gzip file
// may hold several members; readers decompress them as one text), and the DLQ body
// is made from the same lines. Memory holds one page of records, never the range.
type spool struct {
	f     *os.File
	zw    compressor
	count int
	// recBytes is the JSON text of the records without their newlines; it sizes
	// the DLQ body without reading the spool.
	recBytes int64
	parents  int
	lastSeq  string
	size     int64 // compressed bytes, once finished
	done     bool
	enc      pieces // encodes records; only its ddbEncoder and counter are used
	buf      []byte
	cw       countWriter
}

// countWriter counts the compressed bytes on their way to the file.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "streamdlq-spool-*.jsonl.gz")
	if err != nil {
		return nil, fmt.Errorf("create spool: %w", err)
	}
	s := &spool{f: f, buf: make([]byte, 0, chunkSize+4096)}
	s.cw.w = f
	s.zw = defaultGzip.pool.Get().(compressor)
	s.zw.Reset(&s.cw)
	return s, nil
}

// add encodes recs as record lines into the spool.
func (s *spool) add(recs []batch.Record) error {
	if s.done {
		return errors.New("spool: add after finish")
	}
	for i := range recs {
		r := &recs[i]
		start := len(s.buf)
		var err error
		s.enc.next = s.count
		if s.buf, err = s.enc.record(s.buf, r); err != nil {
			return err
		}
		s.recBytes += int64(len(s.buf) - start)
		s.buf = append(s.buf, '\n')
		if seq := r.SequenceNumber(); s.count == 0 || seq != s.lastSeq {
			s.parents++
			s.lastSeq = seq
		}
		s.count++
		if len(s.buf) >= chunkSize {
			if err := s.flush(); err != nil {
				return err
			}
		}
	}
	return s.flush()
}

func (s *spool) flush() error {
	_, err := s.zw.Write(s.buf)
	s.buf = s.buf[:0]
	if err != nil {
		return fmt.Errorf("write spool %s: %w", s.f.Name(), err)
	}
	return nil
}

// finish ends the gzip member; the spool is read-only from then on.
func (s *spool) finish() error {
	if s.done {
		return nil
	}
	s.done = true
	err := s.zw.Close()
	s.zw.Reset(nil)
	defaultGzip.pool.Put(s.zw)
	s.zw = nil
	if err != nil {
		return fmt.Errorf("write spool %s: %w", s.f.Name(), err)
	}
	s.size = s.cw.n
	return nil
}

// close removes the spool file.
func (s *spool) close() error {
	if s.zw != nil {
		s.zw.Reset(nil)
		defaultGzip.pool.Put(s.zw)
		s.zw = nil
	}
	s.done = true
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); err == nil && !errors.Is(rerr, os.ErrNotExist) {
		err = rerr
	}
	return err
}

// lines opens a reader of the spool's record lines.
func (s *spool) lines() (*spoolLines, error) {
	if err := s.finish(); err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(io.NewSectionReader(s.f, 0, s.size))
	if err != nil {
		return nil, fmt.Errorf("read spool %s: %w", s.f.Name(), err)
	}
	return &spoolLines{zr: zr, br: bufio.NewReaderSize(zr, 64<<10)}, nil
}

// spoolLines reads a spool's record lines back, one at a time.
type spoolLines struct {
	zr *gzip.Reader
	br *bufio.Reader
}

// next appends the next record's JSON (without its newline) to b.
func (l *spoolLines) next(b []byte) ([]byte, error) {
	for {
		line, err := l.br.ReadSlice('\n')
		switch {
		case err == nil:
			return append(b, line[:len(line)-1]...), nil
		case errors.Is(err, bufio.ErrBufferFull):
			b = append(b, line...)
		case errors.Is(err, io.EOF):
			return b, fmt.Errorf("read spool: %w", io.ErrUnexpectedEOF)
		default:
			return b, fmt.Errorf("read spool: %w", err)
		}
	}
}

func (l *spoolLines) close() { _ = l.zr.Close() }
