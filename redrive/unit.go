package redrive

import (
	"errors"
	"sync/atomic"

	"github.com/streamdlq/streamdlq/archive/batch"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streamdlq/streamdlq/archive"
)

// unit is one failure being redriven: a DLQ message or an archive object.
type unit struct {
	id  string
	doc *archive.Document
	// err is why the failure could not be read or routed; permanent says retrying
	// cannot help (a bad format, a pointer outside the bucket).
	err       error
	permanent bool
	// skip says why the unit was left untouched (filtered out, dry run); its items
	// are nil.
	skip   string
	target string
	items  []*item
	// consumer is the Lambda function ARN the failure names, empty when none;
	// batchSize the size of the batch it failed on (0 when unknown).
	consumer  string
	batchSize int
	// routeErr says why the unit has no target (wraps ErrNoRoute).
	routeErr error
	// after is the failure of the same shard before this one in the round: this
	// one's records wait until it is delivered. waitErr, when set, holds the unit
	// back for the run (ErrEarlierUnfinished).
	after   *unit
	waitErr error
	// pending counts the records still being delivered; the deliverer of the unit's
	// target owns it. settled is set once the unit's verdict was applied.
	pending int
	settled atomic.Bool
	// attempt numbers this try of the failure: 1 + the failed attempts its message
	// records (AttrAttempts). Receives are not counted: a dry run, a wait or a
	// time-out is no attempt.
	attempt int
	msg     *types.Message // the DLQ message, for the SQS source
}

// Skip reasons.
const (
	skipFiltered = "filtered"
	skipDryRun   = "dry-run"
	skipNoRoute  = "no-route"
	skipTarget   = "target-unavailable"
)

// verdict is what happens to a unit after its round.
type verdict int

const (
	// keep: leave the message on the queue as it is.
	keep verdict = iota
	// remove: every record was delivered.
	remove
	// replace: some records were delivered; queue the rest and remove the original.
	replace
	// park: move the message to the parking queue with the last error.
	park
	// requeue: this attempt failed for the message's own reason; queue it again, as it
	// is, with its attempt count advanced.
	requeue
)

// counts tallies the unit's items.
func (u *unit) counts() (delivered, rejected, left int) {
	for _, it := range u.items {
		switch it.state {
		case stateDelivered, stateFilteredOut:
			delivered++
		case stateRejected:
			rejected++
		default:
			left++
		}
	}
	return delivered, rejected, left
}

// verdict decides a unit's fate. A message is removed only when all its records
// arrived; progress is kept by replacing it with the rest; it is parked only when
// nothing of it can be delivered and retrying cannot help (or it failed maxReceives
// attempts). A failed attempt is counted on the message (requeue); records left for
// reasons outside the failure (time, an earlier failure, a target down) count
// nothing. A record rejected in a partly delivered message is parked with
// the replacement's next round.
func (u *unit) verdict(maxReceives int) verdict {
	if u.err != nil {
		if u.permanent || (maxReceives > 0 && u.attempt >= maxReceives) {
			return park
		}
		return requeue
	}
	if u.skip != "" {
		return keep
	}
	delivered, rejected, left := u.counts()
	switch {
	case rejected+left == 0:
		return remove
	case delivered > 0:
		return replace
	case rejected > 0:
		return park
	case u.timedOut():
		return keep
	case maxReceives > 0 && u.attempt >= maxReceives:
		return park
	}
	return requeue
}

// timedOut reports whether the unit's records were left only because time ran out,
// an earlier failure of the shard held them back or the target is down: that says
// nothing about the message, so it never counts towards parking.
func (u *unit) timedOut() bool {
	for _, it := range u.items {
		if it.state == stateLeft && !notItsFault(it.err) {
			return false
		}
	}
	return true
}

// lastError is the error to report for an undelivered unit.
func (u *unit) lastError() error {
	if u.err != nil {
		return u.err
	}
	var last error
	for _, it := range u.items {
		if it.state == stateRejected {
			return it.err
		}
		if it.state != stateDelivered && it.err != nil {
			last = it.err
		}
	}
	return last
}

// undelivered is the document holding only the records not delivered, in order.
func (u *unit) undelivered() *archive.Document {
	rest := *u.doc
	rest.Records = make([]batch.Record, 0, len(u.items))
	for _, it := range u.items {
		if it.state != stateDelivered && it.state != stateFilteredOut {
			rest.Records = append(rest.Records, it.rec)
		}
	}
	return &rest
}

// notItsFault reports whether a record was left for a reason outside its failure.
func notItsFault(err error) bool {
	var te *TargetError
	return errors.Is(err, ErrTimeBudget) || errors.Is(err, ErrEarlierUnfinished) || errors.As(err, &te)
}

// onlyRejectedLeft reports whether every record not delivered is one the target can
// never take.
func (u *unit) onlyRejectedLeft() bool {
	_, rejected, left := u.counts()
	return rejected > 0 && left == 0
}
