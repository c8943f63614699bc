package redrive

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/streamdlq/streamdlq/archive"
)

// Source is where failures are read from: the DLQ (NewSQSSource) or the archive
// (NewArchiveSource).
type Source interface {
	name() string
	// next returns the next units, none when the source is drained.
	next(ctx context.Context, maxWait time.Duration) ([]*unit, error)
	// settle applies a verdict, returning the one applied.
	settle(ctx context.Context, u *unit, v verdict) (verdict, error)
	// extend keeps in-flight units reserved; heartbeat says how often (0: never).
	extend(ctx context.Context, units []*unit) error
	heartbeat() time.Duration
	// release gives back what the run kept.
	release(ctx context.Context) error
	maxReceives() int
}

var (
	_ Source = (*SQSSource)(nil)
	_ Source = (*ArchiveSource)(nil)
)

// ArchiveSource reads failures from the S3 archive, selected by stream, shard and
// date partitions. The archive is never changed: redriving from it twice sends twice.
type ArchiveSource struct {
	archive *archive.Archive
	filter  archive.Filter
	batch   int
	pull    func() (archive.Object, error, bool)
	stop    func()
	// job, when set, skips the objects it already redrove and records each one
	// fully redriven.
	job     *Job
	started bool
}

// WithJob makes the replay resumable as job j.
func (s *ArchiveSource) WithJob(j *Job) *ArchiveSource {
	s.job = j
	return s
}

// NewArchiveSource returns a source over the objects of a matching f, read batch at a
// time (default 20).
func NewArchiveSource(a *archive.Archive, f archive.Filter, batch int) *ArchiveSource {
	if batch <= 0 {
		batch = 20
	}
	return &ArchiveSource{archive: a, filter: f, batch: batch}
}

func (s *ArchiveSource) name() string { return "s3://" + s.archive.Bucket() + "/" + s.archive.Prefix() }

func (s *ArchiveSource) next(ctx context.Context, _ time.Duration) ([]*unit, error) {
	if s.job != nil && !s.started {
		if err := s.job.start(ctx, s.filter); err != nil {
			return nil, err
		}
		s.started = true
	}
	if s.pull == nil {
		s.pull, s.stop = iter.Pull2(s.archive.List(ctx, s.filter))
	}
	var units []*unit
	for len(units) < s.batch {
		obj, err, ok := s.pull()
		if !ok {
			break
		}
		if err != nil {
			return units, err
		}
		if s.job != nil && s.job.done[obj.Key] {
			continue
		}
		u := &unit{id: obj.Key}
		u.doc, u.err = s.archive.Get(ctx, obj.Key)
		var fe *archive.FormatError
		u.permanent = errors.As(u.err, &fe)
		if u.err == nil && !u.doc.Hydration.Complete() {
			u.err, u.permanent = errIncomplete, true
		}
		units = append(units, u)
	}
	return units, nil
}

// errIncomplete refuses an archived capture that still has transient gaps: the
// hydrator supersedes it and queues the complete one, so redriving it now would
// deliver its records twice.
var errIncomplete = errors.New("incomplete capture (transient gaps): it is redriven from the DLQ once a later attempt completes it")

// settle changes nothing in the archive, the record of what failed; a job records
// an object fully redriven.
func (s *ArchiveSource) settle(ctx context.Context, u *unit, v verdict) (verdict, error) {
	if v == requeue {
		return keep, nil // the archive keeps no attempt count
	}
	if v == remove && s.job != nil {
		return v, s.job.markDone(ctx, u.id)
	}
	return v, nil
}

func (s *ArchiveSource) extend(context.Context, []*unit) error { return nil }

func (s *ArchiveSource) heartbeat() time.Duration { return 0 }

func (s *ArchiveSource) release(context.Context) error {
	if s.stop != nil {
		s.stop()
		s.pull, s.stop = nil, nil
	}
	return nil
}

func (s *ArchiveSource) maxReceives() int { return 0 }
