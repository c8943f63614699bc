package runtimeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// echoBinary is testdata/echo built for the host, as the deployed bootstraps are but
// for GOOS/GOARCH.
var echoBinary string

func TestMain(m *testing.M) {
	os.Exit(runWithEcho(m))
}

func runWithEcho(m *testing.M) int {
	dir, err := os.MkdirTemp("", "runtimeapi-echo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	echoBinary = filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", echoBinary, "./testdata/echo")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testdata/echo: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

type echoReply struct {
	Payload     json.RawMessage   `json:"payload"`
	RequestID   string            `json:"requestId"`
	FunctionARN string            `json:"functionArn"`
	DeadlineMs  int64             `json:"deadlineMs"`
	Env         map[string]string `json:"env"`
}

func invokeEcho(t *testing.T, f *Function, payload string) (Result, echoReply) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := f.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("Invoke %s: %v", payload, err)
	}
	var r echoReply
	if res.Err == nil {
		if err := json.Unmarshal(res.Response, &r); err != nil {
			t.Fatalf("decode reply %q: %v", res.Response, err)
		}
	}
	return res, r
}

func TestFunctionEcho(t *testing.T) {
	f := Start(t, echoBinary, []string{"ECHO_MARK=set", "AWS_LAMBDA_FUNCTION_VERSION=7"}, func(o *Options) {
		o.FunctionName = "echo"
		o.MemoryMB = 256
	})
	for i := range 2 { // the second invocation finds the process warm
		payload := fmt.Sprintf(`{"n":%d}`, i)
		res, r := invokeEcho(t, f, payload)
		if string(r.Payload) != payload {
			t.Errorf("payload: got %s, want %s", r.Payload, payload)
		}
		if r.RequestID != res.RequestID || r.FunctionARN != f.FunctionARN() {
			t.Errorf("context: got %s %s, want %s %s", r.RequestID, r.FunctionARN, res.RequestID, f.FunctionARN())
		}
		if r.DeadlineMs < time.Now().Add(20*time.Second).UnixMilli() {
			t.Errorf("deadline: got %d, want about 30s ahead", r.DeadlineMs)
		}
	}
	_, r := invokeEcho(t, f, `{}`)
	want := map[string]string{
		"_HANDLER": "bootstrap", "AWS_LAMBDA_RUNTIME_API": f.Addr(), "AWS_LAMBDA_FUNCTION_NAME": "echo",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_FUNCTION_TIMEOUT": "30",
		"LAMBDA_TASK_ROOT": filepath.Dir(echoBinary), "ECHO_MARK": "set", "AWS_LAMBDA_FUNCTION_VERSION": "7",
	}
	for k, v := range want {
		if r.Env[k] != v {
			t.Errorf("env %s: got %q, want %q", k, r.Env[k], v)
		}
	}
	if d, err := f.InitDuration(context.Background()); err != nil || d <= 0 {
		t.Errorf("InitDuration: got %v, %v, want > 0, nil", d, err)
	}
}

func TestFunctionFailures(t *testing.T) {
	tests := map[string]struct {
		payload  string
		wantType string
		wantMsg  string
		exits    bool
	}{
		"handler error": {payload: `{"fail":"no such shard"}`, wantType: "echoError", wantMsg: "no such shard"},
		"panic":         {payload: `{"panic":"boom"}`, wantType: "string", wantMsg: "boom", exits: true},
		"exit":          {payload: `{"exit":3}`, wantType: "Runtime.ExitError", wantMsg: "exit status 3", exits: true},
		"timeout":       {payload: `{"hang":true}`, wantType: "Sandbox.Timedout", wantMsg: "timed out after 1.00 seconds", exits: true},
		"response too large": {payload: `{"big":` + strconv.Itoa(MaxPayloadBytes) + `}`,
			wantType: "Function.ResponseSizeTooLarge", wantMsg: "exceeded", exits: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := Start(t, echoBinary, nil, func(o *Options) { o.Timeout = time.Second })
			res, _ := invokeEcho(t, f, tc.payload)
			checkErr(t, res.Err, tc.wantType, tc.wantMsg)
			if !tc.exits {
				if _, r := invokeEcho(t, f, `{"after":1}`); string(r.Payload) != `{"after":1}` {
					t.Errorf("after the error: got %s, want the echo", r.Payload)
				}
				return
			}
			<-f.Exited()
			if _, err := f.Invoke(context.Background(), []byte(`{}`)); err == nil {
				t.Error("Invoke after the process ended: got nil error, want one")
			}
		})
	}
}

func TestFunctionInitError(t *testing.T) {
	f := Start(t, echoBinary, []string{"ECHO_INIT_ERROR=STREAMDLQ_DLQ_URL is not set"})
	if _, err := f.InitDuration(context.Background()); err == nil {
		t.Error("InitDuration: got nil error, want the init failure")
	}
	checkErr(t, f.InitError(), "Echo.InitError", "STREAMDLQ_DLQ_URL")
	if _, err := f.Invoke(context.Background(), []byte(`{}`)); err == nil {
		t.Error("Invoke: got nil error, want one")
	}
}

func TestHostAWSEnv(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:4568")
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "the-test-itself")
	got := map[string]bool{}
	for _, kv := range HostAWSEnv() {
		got[kv] = true
	}
	if !got["AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:4568"] || got["AWS_LAMBDA_FUNCTION_NAME=the-test-itself"] {
		t.Errorf("HostAWSEnv: got %v, want AWS_* but AWS_LAMBDA_*", got)
	}
}

// BenchmarkColdStart measures process start to first /next for the echo function:
// the harness's own floor under the real functions' cold starts.
func BenchmarkColdStart(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		f := Start(b, echoBinary, nil)
		d, err := f.InitDuration(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		total += d
		f.Stop()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "init-ms/op")
}
