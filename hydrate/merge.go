package hydrate

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/stream"
)

// merge combines an archived incomplete capture with a later attempt's read of the
// same failure: the records of both, once each, in stream order; a gap only where
// neither attempt read anything; and final where either attempt proved the records
// gone (also when the other attempt did not look there). The later attempt's metadata
// (hydratedAt, from) is kept, its API calls added.
//
// The records stream from both documents, held or spooled, into a new document that
// spools past spoolAbove records (0: never): memory holds a page, not the range. The
// inputs are left as they were; the caller closes the result.
func merge(old, cur *archive.Document, spoolAbove int) (*archive.Document, error) {
	out := &archive.Document{Failure: cur.Failure, Hydration: cur.Hydration}
	out.SpoolAbove(spoolAbove, "")
	oldGaps, curGaps := withoutCountCheck(old.Hydration.Gaps), withoutCountCheck(cur.Hydration.Gaps)
	held := gapHits{gaps: slices.Concat(oldGaps, curGaps)}
	held.hit = make([]bool, len(held.gaps))
	w := pager{doc: out}
	err := unionRecords(old, cur, func(r batch.Record) error {
		held.see(r.SequenceNumber())
		return w.add(r)
	})
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("merge with incomplete capture: %w", err)
	}
	out.Hydration.Gaps = mergeGaps(oldGaps, curGaps, held.hit)
	out.Hydration.Calls = old.Hydration.Calls + cur.Hydration.Calls
	settle(out)
	return out, nil
}

// mergePage is how many merged records are gathered before they go to the document.
const mergePage = 500

// pager adds records to a document a page at a time.
type pager struct {
	doc  *archive.Document
	page []batch.Record
}

func (p *pager) add(r batch.Record) error {
	p.page = append(p.page, r)
	if len(p.page) < mergePage {
		return nil
	}
	return p.flush()
}

func (p *pager) flush() error {
	if len(p.page) == 0 {
		return nil
	}
	err := p.doc.Add(p.page)
	p.page = p.page[:0]
	return err
}

// gapHits records which gaps hold a record of the merge, as the records go by, so
// that mergeGaps need not hold the records.
type gapHits struct {
	gaps []batch.Gap
	hit  []bool
}

func (h *gapHits) see(seq string) {
	for i, g := range h.gaps {
		if !h.hit[i] && stream.CompareSequence(g.From, seq) <= 0 && stream.CompareSequence(seq, g.To) <= 0 {
			h.hit[i] = true
		}
	}
}

// recordKey orders records as the stream does: sequence number, then KPL
// sub-sequence number (none sorts first).
type recordKey struct {
	seq string
	sub int64
}

func keyOf(r batch.Record) recordKey {
	k := recordKey{seq: r.SequenceNumber(), sub: -1}
	if r.Kinesis != nil && r.Kinesis.Kinesis.SubSequenceNumber != nil {
		k.sub = int64(*r.Kinesis.Kinesis.SubSequenceNumber)
	}
	return k
}

func compareKeys(a, b recordKey) int {
	if c := stream.CompareSequence(a.seq, b.seq); c != 0 {
		return c
	}
	return cmp.Compare(a.sub, b.sub)
}

// cursor walks one document's records, keeping the current one and its key.
type cursor struct {
	next func() (batch.Record, error, bool)
	rec  batch.Record
	key  recordKey
	ok   bool
	err  error
}

func (c *cursor) advance() {
	r, err, ok := c.next()
	c.rec, c.ok, c.err = r, ok && err == nil, err
	if c.ok {
		c.key = keyOf(r)
	}
}

// unionRecords hands emit the records of two documents, each in stream order, in
// stream order and once each: the later attempt's copy of a record both hold.
func unionRecords(old, cur *archive.Document, emit func(batch.Record) error) error {
	o, stopOld := pullRecords(old)
	defer stopOld()
	c, stopCur := pullRecords(cur)
	defer stopCur()
	var last recordKey
	emitted := false
	for (o.ok || c.ok) && o.err == nil && c.err == nil {
		var take *cursor
		switch {
		case !c.ok || o.ok && compareKeys(o.key, c.key) < 0:
			take = o
		case !o.ok || compareKeys(o.key, c.key) > 0:
			take = c
		default: // both hold it: keep the later attempt's copy
			o.advance()
			take = c
		}
		r, k := take.rec, take.key
		take.advance()
		if emitted && compareKeys(k, last) == 0 {
			continue // a record one document holds twice
		}
		if err := emit(r); err != nil {
			return err
		}
		last, emitted = k, true
	}
	return errors.Join(o.err, c.err)
}

func pullRecords(d *archive.Document) (*cursor, func()) {
	next, stop := iter.Pull2(d.All())
	c := &cursor{next: next}
	c.advance()
	return c, stop
}

// mergeGaps is intersectGaps plus every final gap one attempt found where the other
// left none and no record of either lies: records proven gone stay accounted for when
// the later attempt read only the parts still missing (a resumed read) or read the
// range whole after a count mismatch, which has no gap to intersect with.
//
// held[i] reports whether a merged record lies in the i-th gap of old and cur
// concatenated.
func mergeGaps(old, cur []batch.Gap, held []bool) []batch.Gap {
	out := intersectGaps(old, cur)
	for i, g := range slices.Concat(old, cur) {
		if g.Final() && !overlaps(out, g) && !held[i] {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b batch.Gap) int { return stream.CompareSequence(a.From, b.From) })
	return out
}

func overlaps(gaps []batch.Gap, g batch.Gap) bool {
	for _, o := range gaps {
		if stream.CompareSequence(o.From, g.To) <= 0 && stream.CompareSequence(g.From, o.To) <= 0 {
			return true
		}
	}
	return false
}

// intersectGaps returns the parts of the range that both attempts left unread. A part
// is final when either attempt proved it gone (records do not come back); otherwise
// it carries the later attempt's reason.
func intersectGaps(old, cur []batch.Gap) []batch.Gap {
	var out []batch.Gap
	for _, o := range old {
		for _, c := range cur {
			from := maxSeq(o.From, c.From)
			to := minSeq(o.To, c.To)
			if stream.CompareSequence(from, to) > 0 {
				continue
			}
			g := c
			if o.Final() && !c.Final() {
				g = o
			}
			g.From, g.To = from, to
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b batch.Gap) int { return stream.CompareSequence(a.From, b.From) })
	return out
}

// withoutCountCheck drops count-mismatch gaps: they are a verdict on one attempt's
// records, made again by settle on the merged ones.
func withoutCountCheck(gaps []batch.Gap) []batch.Gap {
	return slices.DeleteFunc(slices.Clone(gaps), func(g batch.Gap) bool { return g.Reason == batch.GapCountMismatch })
}

func maxSeq(a, b string) string {
	if stream.CompareSequence(a, b) >= 0 {
		return a
	}
	return b
}

func minSeq(a, b string) string {
	if stream.CompareSequence(a, b) <= 0 {
		return a
	}
	return b
}
