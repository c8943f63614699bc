// Command echo is the tiny Lambda function the runtimeapi tests run behind the
// harness: it answers with what it was given and what Lambda told it, and fails,
// panics, exits or hangs on request so every path of the protocol is exercised.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Fail  string `json:"fail"`
	Panic string `json:"panic"`
	Exit  *int   `json:"exit"`
	Hang  bool   `json:"hang"`
	Big   int    `json:"big"` // answer with a string of this many bytes
}

type reply struct {
	Payload     json.RawMessage   `json:"payload"`
	RequestID   string            `json:"requestId"`
	FunctionARN string            `json:"functionArn"`
	DeadlineMs  int64             `json:"deadlineMs"`
	Env         map[string]string `json:"env"`
	Big         string            `json:"big,omitempty"`
}

type echoError struct{ msg string }

func (e *echoError) Error() string { return e.msg }

func handle(ctx context.Context, payload json.RawMessage) (reply, error) {
	var req request
	_ = json.Unmarshal(payload, &req)
	switch {
	case req.Fail != "":
		return reply{}, &echoError{req.Fail}
	case req.Panic != "":
		panic(req.Panic)
	case req.Exit != nil:
		os.Exit(*req.Exit)
	case req.Hang:
		select {}
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_LAMBDA_") || k == "_HANDLER" || k == "LAMBDA_TASK_ROOT" || k == "ECHO_MARK" {
			env[k] = v
		}
	}
	return reply{Payload: payload, RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn,
		DeadlineMs: deadline.UnixMilli(), Env: env, Big: strings.Repeat("x", req.Big)}, nil
}

// initError reports a failed init the way a custom runtime must, then exits.
func initError(msg string) {
	body, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": "Echo.InitError"})
	url := fmt.Sprintf("http://%s/2018-06-01/runtime/init/error", os.Getenv("AWS_LAMBDA_RUNTIME_API"))
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "Echo.InitError")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	os.Exit(1)
}

func main() {
	if msg := os.Getenv("ECHO_INIT_ERROR"); msg != "" {
		initError(msg)
	}
	lambda.Start(handle)
}
