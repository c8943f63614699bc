package emf

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	now := time.UnixMilli(1700000000123)
	err := Write(&buf, now, map[string]string{"Function": "hydrate"},
		Metric{"FailuresHydrated", Count, 2}, Metric{"BytesArchived", Bytes, 512})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Function         string
		FailuresHydrated float64
		BytesArchived    float64
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.Bytes())
	}
	if got.AWS.Timestamp != now.UnixMilli() {
		t.Errorf("Timestamp = %d, want %d", got.AWS.Timestamp, now.UnixMilli())
	}
	cw := got.AWS.CloudWatchMetrics
	if len(cw) != 1 || cw[0].Namespace != Namespace || len(cw[0].Metrics) != 2 || cw[0].Metrics[1].Unit != Bytes {
		t.Errorf("CloudWatchMetrics = %+v", cw)
	}
	if len(cw[0].Dimensions) != 1 || len(cw[0].Dimensions[0]) != 1 || cw[0].Dimensions[0][0] != "Function" {
		t.Errorf("Dimensions = %v, want [[Function]]", cw[0].Dimensions)
	}
	if got.Function != "hydrate" || got.FailuresHydrated != 2 || got.BytesArchived != 512 {
		t.Errorf("values = %+v", got)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		t.Error("line does not end in a newline")
	}
}
