package redrive

import (
	"io"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/internal/emf"
)

// Why a run stopped.
const (
	StoppedDrained    = "drained"     // the source had nothing more
	StoppedTimeBudget = "time-budget" // the deadline, less the safety margin, came
	StoppedCancelled  = "cancelled"   // ctx was cancelled; nothing was settled after it
	StoppedError      = "error"       // the source failed
	StoppedLeased     = "leased"      // another redrive holds the source's lease
)

// maxReportErrors bounds the errors a report keeps.
const maxReportErrors = 20

// Report is what a run did. Messages are DLQ messages or archive objects, one failure
// each; records are the stream records in them.
type Report struct {
	Source string `json:"source"`
	DryRun bool   `json:"dryRun"`

	Messages  int   `json:"messages"`
	Records   int   `json:"records"`
	Bytes     int64 `json:"bytes"`
	Delivered int   `json:"delivered"`
	Throttled int   `json:"throttled"`
	Retried   int   `json:"retried"`
	Rejected  int   `json:"rejected"`
	// FilteredOut counts records the consumer's mapping filters out: not sent to it,
	// done all the same (the archive keeps them).
	FilteredOut int `json:"filteredOut"`
	Left        int `json:"left"` // records not delivered
	Removed     int `json:"removed"`
	Replaced    int `json:"replaced"`
	Parked      int `json:"parked"`
	Requeued    int `json:"requeued"`   // sent again with their failed attempts counted
	Kept        int `json:"kept"`       // messages left on the queue as they were
	Filtered    int `json:"filtered"`   // of Kept: not selected by the filter
	NoRoute     int `json:"noRoute"`    // of Kept: no target for the stream
	Unreadable  int `json:"unreadable"` // messages that could not be decoded

	Elapsed time.Duration `json:"elapsed"`
	Stopped string        `json:"stopped"`
	Errors  []string      `json:"errors,omitempty"`
	Targets []TargetStats `json:"targets"`
}

// addError keeps err unless the report already holds the same message.
func (r *Report) addError(err error) {
	if err != nil && len(r.Errors) < maxReportErrors && !slices.Contains(r.Errors, err.Error()) {
		r.Errors = append(r.Errors, err.Error())
	}
}

// Rate is the delivered records per second over the run.
func (r Report) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Delivered) / r.Elapsed.Seconds()
}

// MarshalZerologObject logs the report's counts as fields.
func (r Report) MarshalZerologObject(e *zerolog.Event) {
	e.Str("source", r.Source).Bool("dryRun", r.DryRun).
		Int("messages", r.Messages).Int("records", r.Records).Int64("bytes", r.Bytes).
		Int("delivered", r.Delivered).Int("throttled", r.Throttled).Int("retried", r.Retried).
		Int("rejected", r.Rejected).Int("filteredOut", r.FilteredOut).Int("left", r.Left).
		Int("removed", r.Removed).Int("replaced", r.Replaced).Int("parked", r.Parked).Int("requeued", r.Requeued).
		Int("kept", r.Kept).Int("filtered", r.Filtered).Int("noRoute", r.NoRoute).Int("unreadable", r.Unreadable).
		Dur("elapsed", r.Elapsed).Float64("rate", r.Rate()).Str("stopped", r.Stopped).
		Strs("errors", r.Errors)
	arr := zerolog.Arr()
	for _, t := range r.Targets {
		arr.Object(t)
	}
	e.Array("targets", arr)
}

// MarshalZerologObject logs one target's counts.
func (t TargetStats) MarshalZerologObject(e *zerolog.Event) {
	e.Str("target", t.Target).Int("failures", t.Failures).Int("records", t.Records).Int64("bytes", t.Bytes).
		Int("delivered", t.Delivered).Int("throttled", t.Throttled).Int("retried", t.Retried).
		Int("rejected", t.Rejected).Int("left", t.Left).Int("calls", t.Calls)
	if t.Error != "" {
		e.Str("error", t.Error)
	}
}

// WriteMetrics writes the report as EMF lines: the run's totals, and one line per
// target with a Target dimension.
func (r Report) WriteMetrics(w io.Writer, now time.Time) error {
	err := emf.Write(w, now, map[string]string{"Service": "redrive"},
		emf.Metric{Name: "RedriveMessages", Unit: emf.Count, Value: float64(r.Messages)},
		emf.Metric{Name: "RedriveRecords", Unit: emf.Count, Value: float64(r.Records)},
		emf.Metric{Name: "RedriveDelivered", Unit: emf.Count, Value: float64(r.Delivered)},
		emf.Metric{Name: "RedriveThrottled", Unit: emf.Count, Value: float64(r.Throttled)},
		emf.Metric{Name: "RedriveRetried", Unit: emf.Count, Value: float64(r.Retried)},
		emf.Metric{Name: "RedriveParked", Unit: emf.Count, Value: float64(r.Parked)},
		emf.Metric{Name: "RedriveLeft", Unit: emf.Count, Value: float64(r.Left)},
		emf.Metric{Name: "RedriveRate", Unit: emf.CountPerSecond, Value: r.Rate()},
	)
	for _, t := range r.Targets {
		if e := emf.Write(w, now, map[string]string{"Service": "redrive", "Target": t.Target},
			emf.Metric{Name: "RedriveDelivered", Unit: emf.Count, Value: float64(t.Delivered)},
			emf.Metric{Name: "RedriveThrottled", Unit: emf.Count, Value: float64(t.Throttled)},
			emf.Metric{Name: "RedriveBytes", Unit: emf.Bytes, Value: float64(t.Bytes)},
		); e != nil && err == nil {
			err = e
		}
	}
	return err
}
