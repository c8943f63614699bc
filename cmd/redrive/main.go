// Command redrive is the scheduled redrive Lambda function: it replays the failures on
// the DLQ to their targets under throttle awareness, deleting nothing until delivered.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/redrive"
)

func main() {
	// First, before any work: the collector should know the function's memory
	// before the first record is read.
	limit := awsenv.SetMemoryLimit(os.LookupEnv)
	log := awsenv.Logger(os.Stdout)
	c, err := redrive.LoadConfig(os.LookupEnv, false)
	if err != nil {
		log.Fatal().Err(err).Msg("configuration")
	}
	log.Debug().Int64("memoryLimit", limit).Msg("soft memory limit")
	ctx := log.WithContext(context.Background())
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Fatal().Err(err).Msg("load AWS config")
	}
	lambda.StartWithOptions(redrive.NewHandler(cfg, c, os.Stdout).Handle, lambda.WithContext(ctx))
}
