package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/streamdlq/streamdlq/internal/settings"
)

// A command's --help lists a flag for every setting its function reads, and no second
// name for any of them.
func TestHelpListsSettings(t *testing.T) {
	tests := map[string]struct {
		reader  settings.Function
		removed []string
	}{
		"hydrate": {settings.Hydrate, nil},
		"redrive": {settings.Redrive, []string{"  -from-queue ", "  -rate "}},
	}
	for command, tc := range tests {
		t.Run(command, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{command, "--help"}, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit code %d, want %d", code, exitOK)
			}
			help := stderr.String()
			for _, s := range settings.ReadBy(tc.reader) {
				if s.Flag == "" {
					continue
				}
				if !strings.Contains(help, "  -"+s.Flag+" ") || !strings.Contains(help, s.Env) {
					t.Errorf("--help: got no -%s (env %s)", s.Flag, s.Env)
				}
			}
			for _, s := range settings.ReadBy(settings.Hydrate | settings.Redrive) {
				if s.Flag != "" && !s.Readers.Has(tc.reader) && strings.Contains(help, "  -"+s.Flag+" ") {
					t.Errorf("--help: got -%s, which %s does not read", s.Flag, command)
				}
			}
			for _, old := range tc.removed {
				if strings.Contains(help, old) {
					t.Errorf("--help: got %q, want one name per setting", old)
				}
			}
		})
	}
}

func TestFlagWinsOverVariable(t *testing.T) {
	t.Setenv(settings.RedriveRate.Env, "5")
	t.Setenv(settings.DLQURL.Env, "https://sqs.us-east-1.amazonaws.com/123456789012/env")
	t.Setenv(settings.ArchiveBucket.Env, "archive")
	fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
	env := newEnvFlags(fs, settings.Redrive)
	if err := fs.Parse([]string{"--redrive-rate", "7"}); err != nil {
		t.Fatal(err)
	}
	c, err := redriveConfig(env, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Throttle.Start.Records != 7 || c.DLQURL != "https://sqs.us-east-1.amazonaws.com/123456789012/env" {
		t.Errorf("got rate %v, DLQ %q; want 7 from the flag and the queue from the variable", c.Throttle.Start.Records, c.DLQURL)
	}
}
