package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A shard that stays throttled: the run stops at --timeout and exits 4, saying what is
// missing and what a rerun does, instead of backing off forever.
func TestHydrateTimeoutReportsWhatIsMissing(t *testing.T) {
	kinesis := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard"}`))
	}))
	defer kinesis.Close()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": kinesis.URL, "AWS_ENDPOINT_URL_KINESIS": kinesis.URL, "AWS_REGION": "us-east-2", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"hydrate", "--dry-run", "--timeout", "2s", "--check-mappings", "false",
		"--allowed-streams", "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
		"--event", "../../internal/envelope/testdata/kinesis-onfailure.json"}, &stdout, &stderr)
	if code != exitIncomplete {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitIncomplete, stderr.String())
	}
	for _, want := range []string{"not completely captured", "shardId-000000000001", "a rerun reads the range again"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
		}
	}
}

func TestHydrateTimeoutMustBePositive(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"hydrate", "--timeout", "0s", "--event", "x"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
}
