package runtimeapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runtimeGet and runtimePost play the runtime's part over plain HTTP.
func runtimeGet(t *testing.T, s *Server) (http.Header, []byte) {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + prefix + "invocation/next")
	if err != nil {
		t.Fatalf("GET next: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET next: got status %d, want 200", resp.StatusCode)
	}
	return resp.Header, body
}

func runtimePost(t *testing.T, s *Server, path string, body []byte, errorType string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+prefix+path, bytes.NewReader(body))
	if errorType != "" {
		req.Header.Set(headerErrorType, errorType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type invoked struct {
	res Result
	err error
}

func invokeAsync(s *Server, payload []byte) chan invoked {
	ch := make(chan invoked, 1)
	go func() {
		res, err := s.Invoke(context.Background(), payload)
		ch <- invoked{res, err}
	}()
	return ch
}

func TestServerAnswers(t *testing.T) {
	tests := map[string]struct {
		path       string // after invocation/{id}/
		body       []byte
		errorType  string
		wantStatus int
		wantResp   string
		wantType   string
		wantMsg    string
	}{
		"response":                {path: "response", body: []byte(`{"ok":true}`), wantStatus: 202, wantResp: `{"ok":true}`},
		"error":                   {path: "error", body: []byte(`{"errorMessage":"bad shard","errorType":"ParseError"}`), wantStatus: 202, wantType: "ParseError", wantMsg: "bad shard"},
		"error type from header":  {path: "error", body: []byte(`not json`), errorType: "Custom.Err", wantStatus: 202, wantType: "Custom.Err", wantMsg: "not json"},
		"error without any type":  {path: "error", body: []byte(`{}`), wantStatus: 202, wantType: "Runtime.Unknown"},
		"response over the limit": {path: "response", body: bytes.Repeat([]byte("x"), MaxPayloadBytes+1), wantStatus: 413, wantType: "Function.ResponseSizeTooLarge", wantMsg: "Response payload size exceeded"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := New(t, func(o *Options) { o.FunctionName = "hydrate" })
			done := invokeAsync(s, []byte(`{"n":1}`))
			h, body := runtimeGet(t, s)
			if string(body) != `{"n":1}` {
				t.Errorf("next body: got %s, want %s", body, `{"n":1}`)
			}
			id := h.Get(headerRequestID)
			if got := runtimePost(t, s, "invocation/"+id+"/"+tc.path, tc.body, tc.errorType); got != tc.wantStatus {
				t.Errorf("status: got %d, want %d", got, tc.wantStatus)
			}
			got := <-done
			if got.err != nil {
				t.Fatalf("Invoke: %v", got.err)
			}
			if got.res.RequestID != id {
				t.Errorf("RequestID: got %q, want %q", got.res.RequestID, id)
			}
			if string(got.res.Response) != tc.wantResp {
				t.Errorf("Response: got %q, want %q", got.res.Response, tc.wantResp)
			}
			checkErr(t, got.res.Err, tc.wantType, tc.wantMsg)
		})
	}
}

func checkErr(t *testing.T, got *ErrorPayload, wantType, wantMsg string) {
	t.Helper()
	if wantType == "" {
		if got != nil {
			t.Errorf("Err: got %v, want nil", got)
		}
		return
	}
	if got == nil {
		t.Fatalf("Err: got nil, want type %q", wantType)
	}
	if got.Type != wantType || !strings.Contains(got.Message, wantMsg) {
		t.Errorf("Err: got %q %q, want %q containing %q", got.Type, got.Message, wantType, wantMsg)
	}
}

func TestNextHeaders(t *testing.T) {
	s := New(t, func(o *Options) { o.FunctionName = "redrive"; o.Region = "eu-west-1"; o.Timeout = time.Minute })
	before := time.Now()
	done := invokeAsync(s, []byte(`{}`))
	h, _ := runtimeGet(t, s)
	id := h.Get(headerRequestID)
	if len(id) != 36 || id[14] != '4' {
		t.Errorf("request id: got %q, want a version 4 UUID", id)
	}
	if got, want := h.Get(headerFunctionARN), "arn:aws:lambda:eu-west-1:000000000000:function:redrive"; got != want {
		t.Errorf("function ARN: got %q, want %q", got, want)
	}
	if got := h.Get(headerTraceID); !strings.HasPrefix(got, "Root=1-") || !strings.Contains(got, ";Parent=") {
		t.Errorf("trace id: got %q, want Root=1-...;Parent=...", got)
	}
	ms, err := strconv.ParseInt(h.Get(headerDeadline), 10, 64)
	if deadline := time.UnixMilli(ms); err != nil || deadline.Before(before.Add(time.Minute-time.Second)) {
		t.Errorf("deadline: got %q, want about a minute after the invoke", h.Get(headerDeadline))
	}
	runtimePost(t, s, "invocation/"+id+"/response", []byte(`1`), "")
	<-done
}

func TestAnswerOnce(t *testing.T) {
	s := New(t)
	done := invokeAsync(s, []byte(`{}`))
	h, _ := runtimeGet(t, s)
	id := h.Get(headerRequestID)
	tests := []struct {
		path string
		want int
	}{
		{"invocation/" + id + "/response", 202},
		{"invocation/" + id + "/error", 400}, // already answered
		{"invocation/not-issued/response", 400},
	}
	for _, tc := range tests {
		if got := runtimePost(t, s, tc.path, []byte(`{}`), ""); got != tc.want {
			t.Errorf("POST %s: got %d, want %d", tc.path, got, tc.want)
		}
	}
	if got := <-done; got.err != nil || string(got.res.Response) != `{}` {
		t.Errorf("Invoke: got %q, %v, want {}, nil", got.res.Response, got.err)
	}
}

func TestInvokeNotTaken(t *testing.T) {
	tests := map[string]struct {
		setup   func(t *testing.T, s *Server)
		payload []byte
		want    error
	}{
		"context ends": {setup: func(*testing.T, *Server) {}, payload: []byte(`{}`), want: context.DeadlineExceeded},
		"closed":       {setup: func(_ *testing.T, s *Server) { s.Close() }, payload: []byte(`{}`), want: ErrClosed},
		"init failed": {setup: func(t *testing.T, s *Server) {
			runtimePost(t, s, "init/error", []byte(`{"errorMessage":"no DLQ","errorType":"ConfigError"}`), "")
		}, payload: []byte(`{}`), want: &ErrorPayload{}},
		"payload over the limit": {setup: func(*testing.T, *Server) {}, payload: make([]byte, MaxPayloadBytes+1)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := New(t)
			tc.setup(t, s)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := s.Invoke(ctx, tc.payload)
			if err == nil {
				t.Fatal("Invoke: got nil error, want one")
			}
			var ep *ErrorPayload
			switch want := tc.want.(type) {
			case *ErrorPayload:
				if !errors.As(err, &ep) || ep.Type != "ConfigError" {
					t.Errorf("Invoke: got %v, want the init error", err)
				}
			case error:
				if !errors.Is(err, want) {
					t.Errorf("Invoke: got %v, want %v", err, want)
				}
			}
		})
	}
}

func TestInitError(t *testing.T) {
	s := New(t)
	if got := s.InitError(); got != nil {
		t.Fatalf("InitError before any: got %v, want nil", got)
	}
	if got := runtimePost(t, s, "init/error", []byte(`oops`), "Runtime.ExitError"); got != 202 {
		t.Errorf("status: got %d, want 202", got)
	}
	checkErr(t, s.InitError(), "Runtime.ExitError", "oops")
}

func TestNextUnblocksOnClose(t *testing.T) {
	s := New(t)
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + prefix + "invocation/next")
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-s.nextSeen
	s.Close()
	if status := <-got; status != http.StatusGone && status != 0 {
		t.Errorf("next after Close: got status %d, want 410 or a closed connection", status)
	}
}
