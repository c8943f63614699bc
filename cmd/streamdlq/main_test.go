package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	cases := map[string]struct {
		args    []string
		env     map[string]string
		code    int
		wantErr string
	}{
		"no command":        {nil, nil, exitUsage, "usage: streamdlq COMMAND"},
		"help":              {[]string{"--help"}, nil, exitOK, "commands:"},
		"unknown command":   {[]string{"frobnicate"}, nil, exitUsage, `unknown command "frobnicate"`},
		"bad flag":          {[]string{"hydrate", "--nope"}, nil, exitUsage, "flag provided but not defined"},
		"command help":      {[]string{"hydrate", "--help"}, nil, exitOK, "--dry-run"},
		"missing event":     {[]string{"hydrate"}, nil, exitUsage, "--event is required"},
		"no allowlist":      {[]string{"hydrate", "--dry-run", "--event", "../../internal/envelope/testdata/kinesis-onfailure.json"}, map[string]string{"STREAMDLQ_ALLOWED_STREAMS": ""}, exitUsage, "set STREAMDLQ_ALLOWED_STREAMS"},
		"capture needs dlq": {[]string{"hydrate", "--allowed-streams", "*", "--event", "../../internal/envelope/testdata/kinesis-onfailure.json"}, map[string]string{"STREAMDLQ_DLQ_URL": "", "STREAMDLQ_ARCHIVE_BUCKET": ""}, exitUsage, "STREAMDLQ_DLQ_URL is not set"},
		"not json":          {[]string{"hydrate", "--dry-run", "--allowed-streams", "*", "--event", "main_test.go"}, nil, exitUsage, "not JSON"},
		"refused stream": {[]string{"hydrate", "--dry-run", "--allowed-streams", "arn:aws:kinesis:us-east-1:000000000000:stream/other",
			"--event", "../../internal/envelope/testdata/kinesis-onfailure.json"}, nil, exitRefused, "not in the allowlist"},
		"ls without archive": {[]string{"ls"}, map[string]string{"STREAMDLQ_ARCHIVE_BUCKET": ""}, exitUsage, "no archive"},
		"ls bad day":         {[]string{"ls", "--archive", "s3://b", "--since", "yesterday"}, nil, exitUsage, "want YYYY-MM-DD"},
		"show needs a key":   {[]string{"show", "--archive", "s3://b"}, nil, exitUsage, "want 1 arguments"},
		"kafka servers, no stream allowlist": {[]string{"hydrate", "--dry-run", "--allowed-kafka-servers", "kafka.internal:9092",
			"--event", "../../internal/envelope/testdata/kafka/kafka-self-managed-onfailure.json"}, map[string]string{"STREAMDLQ_ALLOWED_STREAMS": ""}, exitRefused, "not in the allowlist"},
		"bad kafka auth": {[]string{"hydrate", "--dry-run", "--allowed-streams", "*", "--kafka-auth", "kerberos",
			"--event", "../../internal/envelope/testdata/kafka-onfailure.json"}, nil, exitUsage, "STREAMDLQ_KAFKA_AUTH"},
		"kafka routed to kinesis": {[]string{"redrive", "--redrive-targets", "arn:aws:kafka:*:*:cluster/*=kinesis"},
			map[string]string{"STREAMDLQ_DLQ_URL": "https://sqs.us-east-1.amazonaws.com/1/q", "STREAMDLQ_ARCHIVE_BUCKET": "b"}, exitUsage, "a Kafka failure cannot go to Kinesis"},
		"dynamodb routed to kinesis": {[]string{"redrive", "--redrive-targets", "arn:aws:dynamodb:*:*:table/carts/stream/*=kinesis"},
			map[string]string{"STREAMDLQ_DLQ_URL": "https://sqs.us-east-1.amazonaws.com/1/q", "STREAMDLQ_ARCHIVE_BUCKET": "b"}, exitUsage, "a DynamoDB failure cannot go to Kinesis"},
		"redrive since after until":          {[]string{"redrive", "--from-archive", "s3://b", "--since", "2026-11-03", "--until", "2026-11-01"}, nil, exitUsage, "--since 2026-11-03 is after --until 2026-11-01"},
		"redrive two sources":                {[]string{"redrive", "--dlq-url", "https://sqs.us-east-1.amazonaws.com/1/q", "--from-archive", "s3://b"}, nil, exitUsage, "choose one source"},
		"redrive queue not a url":            {[]string{"redrive", "--dlq-url", "dlq"}, nil, exitUsage, `--dlq-url "dlq": want a queue URL`},
		"redrive env queue not a url":        {[]string{"redrive"}, map[string]string{"STREAMDLQ_DLQ_URL": "dlq", "STREAMDLQ_ARCHIVE_BUCKET": "b"}, exitUsage, `STREAMDLQ_DLQ_URL (--dlq-url) "dlq"`},
		"redrive negative rate":              {[]string{"redrive", "--from-archive", "s3://b", "--redrive-rate", "-5"}, nil, exitUsage, "--redrive-rate -5"},
		"redrive negative budget":            {[]string{"redrive", "--from-archive", "s3://b", "--budget", "-1m"}, nil, exitUsage, "--budget -1m0s: must not be negative"},
		"redrive bad archive names its flag": {[]string{"redrive", "--from-archive", "b/x"}, nil, exitUsage, `--from-archive "b/x"`},
		"redrive every bad flag at once":     {[]string{"redrive", "--dlq-url", "q", "--redrive-rate", "-1", "--budget", "-1s"}, nil, exitUsage, "--budget -1s"},
		"redrive job needs the archive":      {[]string{"redrive", "--dlq-url", "https://sqs.us-east-1.amazonaws.com/1/q", "--job", "j"}, nil, exitUsage, "--job: only with --from-archive"},
		"redrive bad job name":               {[]string{"redrive", "--from-archive", "s3://b", "--job", "a/b"}, nil, exitUsage, `--job: job name "a/b"`},
		"redrive help warns of --to kinesis": {[]string{"redrive", "--help"}, nil, exitOK, "every consumer of the stream sees them again"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), c.args, &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.wantErr) {
				t.Errorf("stderr does not mention %q:\n%s", c.wantErr, stderr.String())
			}
		})
	}
}
