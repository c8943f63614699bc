package stream

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/smithy-go"
	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/internal/clock"
)

// Reasons an UnreadableError gives.
const (
	UnreadableNotFound     = "not-found"
	UnreadableAccessDenied = "access-denied"
	UnreadableInvalid      = "invalid-argument"
)

// UnreadableError reports a range of which nothing could be read because the stream
// refused it: stream or shard not found, access (or its KMS key) denied, an argument
// it rejects. A retry does not help until the cause is fixed (a policy, a key grant),
// but none of these proves the records gone, so the caller records the whole range as
// a transient unreadable gap and fails the attempt.
type UnreadableError struct {
	Range  Range
	Reason string
	Err    error
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("read %s %s..%s of %s: %s: %v", e.Range.ShardID, e.Range.Start, e.Range.End, e.Range.StreamARN, e.Reason, e.Err)
}

func (e *UnreadableError) Unwrap() error { return e.Err }

// Limits on recoveries that make no progress, so a misbehaving stream cannot keep a
// reader busy until its deadline.
const (
	maxRefreshes = 3 // consecutive expired iterators without a page in between
	maxFallbacks = 3 // TRIM_HORIZON fallbacks in one read
	// defaultMaxEmptyPages bounds consecutive empty pages before giving up on the rest.
	// Empty pages are normal mid-shard, so this is generous; it only stops a reader
	// walking an open shard whose End never comes.
	defaultMaxEmptyPages = 100
)

// posKind says where an iterator starts.
type posKind int

const (
	atSeq posKind = iota
	afterSeq
	trimHorizon
)

type position struct {
	kind posKind
	seq  string
}

// page is one GetRecords answer: the records, the next iterator (nil once a closed
// shard is read to its end), and whether the reader is at the shard's tip.
type page[T any] struct {
	records  []T
	next     *string
	caughtUp bool
}

// source is the part of a shard read that differs between Kinesis and DynamoDB
// Streams. T is the SDK's record type; errors come back as the SDK returned them.
type source[T any] interface {
	iterator(ctx context.Context, r Range, p position) (*string, error)
	page(ctx context.Context, r Range, it *string) (page[T], error)
	seq(rec *T) string
	// decode appends recs, all inside the range, to dst in Lambda's shape.
	decode(dst []batch.Record, recs []T, r Range) []batch.Record
}

type loopOptions struct {
	maxEmptyPages int
	backoff       Backoff
}

// scan is the state of one Read.
type scan[T any] struct {
	src source[T]
	opt loopOptions
	r   Range
	res Result
	it  *string
	// last is the sequence number of the last record read from the shard, inside the
	// range or not: the point an expired iterator resumes after.
	last string
	// trimFrom is set while reading from TRIM_HORIZON after a trimmed position: the
	// first sequence number not yet accounted for. The first record read settles it.
	trimFrom string
	done     bool

	throttled, refreshes, fallbacks, empty int

	// each, when set, is handed the records kept from each page (ReadPages), which
	// are then dropped from res; handed counts them.
	each   func([]batch.Record) error
	handed int
}

// read reads r from src: the loop both readers share.
func read[T any](ctx context.Context, src source[T], opt loopOptions, r Range, each func([]batch.Record) error) (Result, error) {
	if err := r.validate(); err != nil {
		return Result{}, &UnreadableError{Range: r, Reason: UnreadableInvalid, Err: err}
	}
	s := &scan[T]{src: src, opt: opt, r: r, each: each}
	err := s.run(ctx)
	return s.res, err
}

func (r Range) validate() error {
	switch {
	case r.StreamARN == "" || r.ShardID == "":
		return errors.New("stream ARN and shard ID are required")
	case !ValidSequence(r.Start) || !ValidSequence(r.End):
		return fmt.Errorf("bad sequence numbers %q..%q", r.Start, r.End)
	case CompareSequence(r.Start, r.End) > 0:
		return fmt.Errorf("start %s is after end %s", r.Start, r.End)
	case r.After != "" && (!ValidSequence(r.After) || CompareSequence(r.After, r.Start) >= 0):
		return fmt.Errorf("bad resume point %q before start %s", r.After, r.Start)
	}
	return nil
}

func (s *scan[T]) run(ctx context.Context) error {
	first := position{kind: atSeq, seq: s.r.Start}
	if s.r.After != "" {
		first, s.last = position{kind: afterSeq, seq: s.r.After}, s.r.After
	}
	if err := s.open(ctx, first); err != nil {
		return err
	}
	for !s.done {
		p, err := s.src.page(ctx, s.r, s.it)
		s.res.Calls++
		if err != nil {
			if err := s.recover(ctx, err); err != nil {
				return err
			}
			continue
		}
		s.throttled, s.refreshes = 0, 0
		s.take(p.records)
		if err := s.hand(); err != nil {
			return err
		}
		s.advance(p)
	}
	if s.trimFrom != "" {
		s.gap(s.trimFrom, s.r.End, batch.GapTrimmed, "nothing left after the trim horizon")
	}
	return nil
}

// open gets an iterator at p, falling back to TRIM_HORIZON when p is trimmed. On a
// stop (deadline, unreadable rest) it returns nil with s.done set.
func (s *scan[T]) open(ctx context.Context, p position) error {
	for !s.done {
		it, err := s.src.iterator(ctx, s.r, p)
		s.res.Calls++
		if err == nil {
			s.it = it
			return nil
		}
		switch kind, reason := classify(ctx, err); kind {
		case kindThrottled:
			err = s.backoff(ctx, err)
		case kindTrimmed:
			p, err = s.fallback(ctx, err)
		default:
			err = s.end(kind, reason, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// recover handles a GetRecords error. It returns nil when the loop can go on or has
// stopped with a gap.
func (s *scan[T]) recover(ctx context.Context, err error) error {
	switch kind, reason := classify(ctx, err); kind {
	case kindThrottled:
		return s.backoff(ctx, err)
	case kindExpired:
		if s.refreshes++; s.refreshes > maxRefreshes {
			return fmt.Errorf("read %s: iterator expired %d times in a row: %w", s.r.ShardID, s.refreshes, err)
		}
		zerolog.Ctx(ctx).Debug().Str("shard", s.r.ShardID).Str("after", s.last).Msg("shard iterator expired; refreshing")
		return s.open(ctx, s.resume())
	case kindTrimmed:
		p, err := s.fallback(ctx, err)
		if err != nil || s.done {
			return err
		}
		return s.open(ctx, p)
	default:
		return s.end(kind, reason, err)
	}
}

// resume is where a fresh iterator continues without reading anything twice.
func (s *scan[T]) resume() position {
	switch {
	case s.trimFrom != "":
		return position{kind: trimHorizon}
	case s.last == "":
		return position{kind: atSeq, seq: s.r.Start}
	}
	return position{kind: afterSeq, seq: s.last}
}

// fallback moves to TRIM_HORIZON after the next position to read was found trimmed.
// The records from there up to the first one TRIM_HORIZON gives become a trimmed gap.
func (s *scan[T]) fallback(ctx context.Context, err error) (position, error) {
	if s.fallbacks++; s.fallbacks > maxFallbacks {
		s.stop(batch.GapTrimmed, fmt.Sprintf("still trimmed after %d fallbacks", maxFallbacks))
		return position{}, nil
	}
	if s.trimFrom == "" {
		s.trimFrom = s.next()
	}
	zerolog.Ctx(ctx).Debug().Str("shard", s.r.ShardID).Str("from", s.trimFrom).Msg("position trimmed; reading from TRIM_HORIZON")
	return position{kind: trimHorizon}, nil
}

// end handles the errors that end a read: a deadline or a refusal stops it with a gap
// for the unread rest (or, when nothing was read, an UnreadableError); anything else
// is returned for the caller to retry.
func (s *scan[T]) end(kind errKind, reason string, err error) error {
	switch kind {
	case kindDeadline:
		s.stop(batch.GapUnreadable, "deadline")
		return nil
	case kindUnreadable:
		if len(s.res.Records) == 0 && s.handed == 0 && len(s.res.Gaps) == 0 && s.trimFrom == "" {
			return &UnreadableError{Range: s.r, Reason: reason, Err: err}
		}
		s.stop(batch.GapUnreadable, reason+": "+err.Error())
		return nil
	}
	return fmt.Errorf("read %s: %w", s.r.ShardID, err)
}

// hand gives the records kept so far to each, so that only one page is held.
func (s *scan[T]) hand() error {
	if s.each == nil || len(s.res.Records) == 0 {
		return nil
	}
	if err := s.each(s.res.Records); err != nil {
		return err
	}
	s.handed += len(s.res.Records)
	clear(s.res.Records)
	s.res.Records = s.res.Records[:0]
	return nil
}

// take keeps the page's records that are inside the range and not read before. Pages
// come in stream order, so the kept ones form runs decoded in one go.
func (s *scan[T]) take(recs []T) {
	from := -1
	for k := range recs {
		seq := s.src.seq(&recs[k])
		s.settleTrim(seq)
		if CompareSequence(seq, s.r.End) > 0 {
			s.done = true
			s.keep(recs, from, k)
			return
		}
		fresh := s.last == "" || CompareSequence(seq, s.last) > 0
		if fresh {
			s.last = seq
		}
		switch {
		case fresh && CompareSequence(seq, s.r.Start) >= 0:
			if from < 0 {
				from = k
			}
		default:
			s.keep(recs, from, k)
			from = -1
		}
		if CompareSequence(seq, s.r.End) == 0 {
			s.done = true
			s.keep(recs, from, k+1)
			return
		}
	}
	s.keep(recs, from, len(recs))
}

func (s *scan[T]) keep(recs []T, from, to int) {
	if from >= 0 && to > from {
		s.res.Records = s.src.decode(s.res.Records, recs[from:to], s.r)
	}
}

// settleTrim turns a pending trim into a gap ending just before seq, the first record
// TRIM_HORIZON gave. A first record at or before the trimmed position means nothing
// was lost after all.
func (s *scan[T]) settleTrim(seq string) {
	if s.trimFrom == "" {
		return
	}
	if CompareSequence(seq, s.trimFrom) > 0 {
		to := seqAdd(seq, -1)
		if CompareSequence(to, s.r.End) > 0 {
			to = s.r.End
		}
		s.gap(s.trimFrom, to, batch.GapTrimmed, "")
	}
	s.trimFrom = ""
}

// advance moves to the next page, or ends the read at a closed shard's end, at the
// shard's tip, or after too many empty pages.
func (s *scan[T]) advance(p page[T]) {
	if s.done {
		return
	}
	switch {
	case p.next == nil:
		s.res.ShardClosed = true
		s.short(batch.GapShardEnded, "the closed shard ends before the range's end")
	case len(p.records) > 0:
		s.empty = 0
	case p.caughtUp:
		s.short(batch.GapShortRead, "caught up with the shard's tip before the range's end")
	default:
		if s.empty++; s.empty >= s.opt.maxEmptyPages {
			s.stop(batch.GapUnreadable, fmt.Sprintf("%d empty pages in a row", s.empty))
		}
	}
	s.it = p.next
}

// short ends a read that ran out of shard before End. A pending trim is settled by
// run as trimmed (nothing after the trim horizon); otherwise the unread rest is a gap
// with reason, never a silently short result.
func (s *scan[T]) short(reason, detail string) {
	if s.trimFrom != "" {
		s.done = true
		return
	}
	s.stop(reason, detail)
}

// next is the first sequence number not yet accounted for.
func (s *scan[T]) next() string {
	switch {
	case s.trimFrom != "":
		return s.trimFrom
	case s.last == "" || CompareSequence(s.last, s.r.Start) < 0:
		return s.r.Start
	}
	return seqAdd(s.last, 1)
}

// stop ends the read with a gap for everything not yet read.
func (s *scan[T]) stop(reason, detail string) {
	s.gap(s.next(), s.r.End, reason, detail)
	s.trimFrom = ""
	s.done = true
}

func (s *scan[T]) gap(from, to, reason, detail string) {
	s.res.Gaps = append(s.res.Gaps, batch.Gap{From: from, To: to, Reason: reason, Detail: detail})
}

// seqAdd adds d to a sequence number; they can exceed 64 bits.
func seqAdd(seq string, d int64) string {
	n, ok := new(big.Int).SetString(seq, 10)
	if !ok {
		return seq
	}
	return n.Add(n, big.NewInt(d)).String()
}

type errKind int

const (
	kindOther errKind = iota
	kindThrottled
	kindExpired
	kindTrimmed
	kindDeadline
	kindUnreadable
)

// trimmedError marks an error a source recognised as "this position is trimmed"
// although the service has no modelled error for it (Kinesis).
type trimmedError struct{ err error }

func (e *trimmedError) Error() string { return "trimmed: " + e.err.Error() }
func (e *trimmedError) Unwrap() error { return e.err }

// classify sorts an error by the error codes both services share; the SDK's modelled
// types carry these codes.
func classify(ctx context.Context, err error) (errKind, string) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return kindDeadline, ""
	}
	if t := (*trimmedError)(nil); errors.As(err, &t) {
		return kindTrimmed, ""
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return kindOther, ""
	}
	if clock.Throttled(err) {
		return kindThrottled, ""
	}
	switch api.ErrorCode() {
	case "ExpiredIteratorException":
		return kindExpired, ""
	case "TrimmedDataAccessException":
		return kindTrimmed, ""
	case "ResourceNotFoundException":
		return kindUnreadable, UnreadableNotFound
	case "AccessDeniedException", "KMSAccessDeniedException", "KMSDisabledException", "KMSInvalidStateException", "KMSNotFoundException", "KMSOptInRequired":
		return kindUnreadable, UnreadableAccessDenied
	case "InvalidArgumentException", "ValidationException":
		return kindUnreadable, UnreadableInvalid
	}
	return kindOther, ""
}
