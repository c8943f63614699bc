// Command hydrate is the hydrate Lambda function: subscribed to the on-failure SNS
// topic (and able to take SQS, S3 and direct inputs), it reads failed records back from
// their stream, archives them, queues them on the DLQ and announces them. Its
// rehydration schedule drains its own failure queue while the records are in the stream.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
)

func main() {
	// First, before any work: the collector should know the function's memory
	// before the first record is read.
	limit := awsenv.SetMemoryLimit(os.LookupEnv)
	log := awsenv.Logger(os.Stdout)
	c, err := hydrate.LoadConfig(os.LookupEnv, true)
	if err != nil {
		log.Fatal().Err(err).Msg("configuration")
	}
	log.Debug().Int64("memoryLimit", limit).Msg("soft memory limit")
	ctx := log.WithContext(context.Background())
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Fatal().Err(err).Msg("load AWS config")
	}
	handler := hydrate.FunctionFromConfig(cfg, c, func(o *hydrate.HandlerOptions) { o.Metrics = os.Stdout })
	lambda.StartWithOptions(handler, lambda.WithContext(ctx))
}
