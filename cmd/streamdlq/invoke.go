package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/streamdlq/streamdlq/hydrate"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/redrive"
)

// runInvoke runs a Lambda handler in-process on an event file, as `sam local invoke`
// would in a container, for users without Docker. Configuration comes from the same
// STREAMDLQ_* environment variables the function gets from the template.
func runInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	event := fs.String("e", "", "event file (see events/), or - for stdin")
	timeout := fs.Duration("timeout", 5*time.Minute, "the function's timeout: the deadline the handler sees")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: streamdlq invoke hydrate|redrive -e FILE [--timeout D]\n\nRuns the function's handler in-process with the STREAMDLQ_* environment and prints its\nresponse on stdout; logs and metrics go to stderr.\n\nflags:")
		fs.PrintDefaults()
	}
	if len(args) == 0 || (args[0] != "hydrate" && args[0] != "redrive") {
		fs.SetOutput(stderr)
		fs.Usage()
		return usageError{fmt.Errorf("want a function name, hydrate or redrive")}
	}
	function := args[0]
	if err := parseFlags(fs, args[1:], stderr, 0); err != nil {
		return err
	}
	payload, err := readInput(*event, os.Stdin)
	if err != nil {
		return err
	}
	log := awsenv.Logger(stderr)
	ctx, cancel := context.WithTimeout(log.WithContext(ctx), *timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       fmt.Sprintf("invoke-%d", time.Now().UnixNano()),
		InvokedFunctionArn: "arn:aws:lambda:" + os.Getenv("AWS_REGION") + ":000000000000:function:streamdlq-" + function,
	})
	handle, err := invokeHandler(ctx, function, stderr)
	if err != nil {
		return err
	}
	resp, err := handle(ctx, payload)
	if resp != nil {
		if encErr := json.NewEncoder(stdout).Encode(resp); encErr != nil && err == nil {
			err = encErr
		}
	}
	return err
}

type handlerFunc func(context.Context, json.RawMessage) (any, error)

func invokeHandler(ctx context.Context, function string, stderr io.Writer) (handlerFunc, error) {
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		return nil, err
	}
	switch function {
	case "hydrate":
		c, err := hydrate.LoadConfig(os.LookupEnv, true)
		if err != nil {
			return nil, usageError{err}
		}
		return hydrate.FunctionFromConfig(cfg, c, func(o *hydrate.HandlerOptions) { o.Metrics = stderr }), nil
	}
	return redriveHandler(ctx, cfg, stderr)
}

func redriveHandler(_ context.Context, cfg aws.Config, stderr io.Writer) (handlerFunc, error) {
	c, err := redrive.LoadConfig(os.LookupEnv, false)
	if err != nil {
		return nil, usageError{err}
	}
	h := redrive.NewHandler(cfg, c, stderr)
	return func(ctx context.Context, payload json.RawMessage) (any, error) { return h.Handle(ctx, payload) }, nil
}
