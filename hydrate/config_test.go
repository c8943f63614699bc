package hydrate

import (
	"strings"
	"testing"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig(lookupFrom(map[string]string{
		"STREAMDLQ_ALLOWED_STREAMS": "arn:aws:kinesis:*:111122223333:stream/*",
		"STREAMDLQ_ROLE_MAP":        "444455556666=arn:aws:iam::444455556666:role/streamdlq-reader",
		"STREAMDLQ_DEAGGREGATE":     "true",
		"STREAMDLQ_ARCHIVE_BUCKET":  "archive",
		"STREAMDLQ_ARCHIVE_PREFIX":  "/failures/",
		"STREAMDLQ_DLQ_URL":         "http://127.0.0.1:5000/000000000000/dlq",
	}), true)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Allowed.Allows("arn:aws:kinesis:us-east-1:111122223333:stream/a") || !c.Deaggregate ||
		c.Roles["444455556666"] != "arn:aws:iam::444455556666:role/streamdlq-reader" || c.ArchivePrefix != "failures" {
		t.Errorf("got %+v", c)
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, err := LoadConfig(lookupFrom(map[string]string{
		"STREAMDLQ_ALLOWED_STREAMS": "orders",
		"STREAMDLQ_ROLE_MAP":        "1234=role",
		"STREAMDLQ_DEAGGREGATE":     "yes please",
	}), true)
	if err == nil {
		t.Fatal("got nil error, want one naming every bad variable")
	}
	for _, name := range []string{"STREAMDLQ_ALLOWED_STREAMS", "STREAMDLQ_ROLE_MAP", "STREAMDLQ_DEAGGREGATE", "STREAMDLQ_ARCHIVE_BUCKET", "STREAMDLQ_DLQ_URL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestLoadConfigDryRunNeedsNoDestinations(t *testing.T) {
	if _, err := LoadConfig(lookupFrom(nil), false); err != nil {
		t.Errorf("got %v, want nil", err)
	}
}
