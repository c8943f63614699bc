// Package awsenv builds what every entry point (the two Lambda functions and the CLI)
// needs from the process environment: the AWS config, the S3 client, the logger, and
// (for the Lambda functions) the Go runtime's soft memory limit.
// It holds no logic beyond that wiring, so the three mains stay identical in how they
// talk to AWS.
package awsenv

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"

	"github.com/streamdlq/streamdlq/internal/settings"
)

// Load loads the standard SDK configuration: region, credentials, and the
// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> endpoints.
func Load(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx)
}

// S3 returns an S3 client. Path-style addressing is used when a custom S3 endpoint is
// configured, since emulators (and most S3-compatible stores) serve no virtual hosts.
func S3(cfg aws.Config) *s3.Client {
	custom := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = custom
		// Objects written without a checksum (by emulators, or by older writers) are
		// fine to read; the SDK's note about each one is noise in the logs.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// Logger returns the base JSON logger writing to w, at the level settings.LogLevel
// (AWS_LAMBDA_LOG_LEVEL) names; info by default.
func Logger(w io.Writer) zerolog.Logger {
	level := zerolog.InfoLevel
	if v := settings.NewLoader(os.LookupEnv).String(settings.LogLevel); v != "" {
		if l, err := zerolog.ParseLevel(strings.ToLower(v)); err == nil {
			level = l
		}
	}
	zerolog.TimeFieldFormat = zerolog.TimeFormatUnixMs
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
