package hydrate

import (
	"cmp"
	"slices"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/stream"
)

// merge combines an archived incomplete capture with a later attempt's read of the
// same failure: the records of both, once each, in stream order; a gap only where
// neither attempt read anything; and final where either attempt proved the records
// gone (also when the other attempt did not look there). The later attempt's metadata (hydratedAt, from) is kept, its API calls added.
func merge(old, cur *archive.Document) *archive.Document {
	out := *cur
	out.Records = unionRecords(old.Records, cur.Records)
	out.Hydration.Gaps = mergeGaps(withoutCountCheck(old.Hydration.Gaps), withoutCountCheck(cur.Hydration.Gaps), out.Records)
	out.Hydration.Calls = old.Hydration.Calls + cur.Hydration.Calls
	settle(&out)
	return &out
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

// unionRecords merges two record lists, each in stream order, keeping one copy of a
// record both hold (the later attempt's).
func unionRecords(old, cur []batch.Record) []batch.Record {
	out := make([]batch.Record, 0, max(len(old), len(cur)))
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur):
			out, i = append(out, old[i]), i+1
		case i == len(old):
			out, j = append(out, cur[j]), j+1
		default:
			switch c := compareKeys(keyOf(old[i]), keyOf(cur[j])); {
			case c < 0:
				out, i = append(out, old[i]), i+1
			case c > 0:
				out, j = append(out, cur[j]), j+1
			default:
				out, i, j = append(out, cur[j]), i+1, j+1
			}
		}
	}
	return slices.CompactFunc(out, func(a, b batch.Record) bool { return compareKeys(keyOf(a), keyOf(b)) == 0 })
}

// mergeGaps is intersectGaps plus every final gap one attempt found where the other
// left none and no record of either lies: records proven gone stay accounted for when
// the later attempt read only the parts still missing (a resumed read) or read the
// range whole after a count mismatch, which has no gap to intersect with.
func mergeGaps(old, cur []batch.Gap, recs []batch.Record) []batch.Gap {
	out := intersectGaps(old, cur)
	for _, g := range slices.Concat(old, cur) {
		if g.Final() && !overlaps(out, g) && !holdsRecord(recs, g) {
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

func holdsRecord(recs []batch.Record, g batch.Gap) bool {
	for _, r := range recs {
		s := r.SequenceNumber()
		if stream.CompareSequence(g.From, s) <= 0 && stream.CompareSequence(s, g.To) <= 0 {
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
