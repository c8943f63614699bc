// Package emf writes CloudWatch Embedded Metric Format lines: JSON log lines that
// CloudWatch Logs turns into metrics, so the functions need no cloudwatch:PutMetricData
// permission and make no extra calls.
//
// Write never fails the caller: a metric line that cannot be written is dropped with
// the error returned for logging, because losing a metric must not lose a record.
package emf

import (
	"encoding/json"
	"io"
	"time"
)

// Namespace is the CloudWatch namespace of every streamdlq metric.
const Namespace = "streamdlq"

// Units used by streamdlq.
const (
	Count          = "Count"
	Bytes          = "Bytes"
	CountPerSecond = "Count/Second"
	Milliseconds   = "Milliseconds"
)

// Metric is one named value.
type Metric struct {
	Name  string
	Unit  string
	Value float64
}

// Write writes one EMF line with the given dimensions (name → value, all used as one
// dimension set) and metrics.
func Write(w io.Writer, now time.Time, dims map[string]string, metrics ...Metric) error {
	type def struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	defs := make([]def, len(metrics))
	line := make(map[string]any, len(dims)+len(metrics)+1)
	for k, v := range dims {
		line[k] = v
	}
	for i, m := range metrics {
		defs[i] = def{m.Name, m.Unit}
		line[m.Name] = m.Value
	}
	line["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
