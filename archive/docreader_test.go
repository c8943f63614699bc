package archive

import (
	"io"
	"testing"
)

func TestDocReaderSeeks(t *testing.T) {
	doc := kinesisDoc(400, 500) // several chunks
	want := mustJSON(t, doc)
	size := len(want)
	cases := map[string]struct {
		offset int64
		whence int
		pos    int64
	}{
		"start":           {0, io.SeekStart, 0},
		"middle":          {int64(size / 2), io.SeekStart, int64(size / 2)},
		"chunk boundary":  {chunkSize, io.SeekStart, chunkSize},
		"end":             {0, io.SeekEnd, int64(size)},
		"back from end":   {-10, io.SeekEnd, int64(size - 10)},
		"relative":        {7, io.SeekCurrent, int64(size/3 + 7)},
		"relative rewind": {-int64(size / 3), io.SeekCurrent, 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := newDocReader(doc, size)
			if _, err := io.CopyN(io.Discard, r, int64(size/3)); err != nil { // start mid-way
				t.Fatal(err)
			}
			pos, err := r.Seek(c.offset, c.whence)
			if err != nil || pos != c.pos {
				t.Fatalf("got %d %v, want %d", pos, err, c.pos)
			}
			rest, err := io.ReadAll(r)
			if err != nil || string(rest) != want[pos:] {
				t.Errorf("got %d bytes after seeking to %d (%v), want %d", len(rest), pos, err, size-int(pos))
			}
		})
	}
}

func TestDocReaderRefusesOutside(t *testing.T) {
	doc := kinesisDoc(2, 10)
	r := newDocReader(doc, len(mustJSON(t, doc)))
	for _, off := range []int64{-1, 1 << 30} {
		if _, err := r.Seek(off, io.SeekStart); err == nil {
			t.Errorf("Seek(%d): got nil error, want one", off)
		}
	}
}
