package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MaxPayloadBytes is Lambda's limit on a synchronous invocation's request and
// response payloads.
const MaxPayloadBytes = 6 << 20

const (
	prefix            = "/2018-06-01/runtime/"
	headerRequestID   = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline    = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID     = "Lambda-Runtime-Trace-Id"
	headerErrorType   = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody  = "Lambda-Runtime-Function-Error-Body"
)

// ErrClosed is returned by Invoke once the server has been closed.
var ErrClosed = errors.New("runtime API server closed")

// ErrorPayload is the error a function reports, in the Runtime API's JSON shape.
type ErrorPayload struct {
	Message    string          `json:"errorMessage"`
	Type       string          `json:"errorType"`
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
}

func (e *ErrorPayload) Error() string { return e.Type + ": " + e.Message }

// Result is one invocation's outcome: the response body, or the error Lambda would
// report to the caller.
type Result struct {
	RequestID string
	Response  []byte
	Err       *ErrorPayload
}

// Options describe the function the server stands in front of.
type Options struct {
	FunctionName string        // "function" by default
	Region       string        // "us-east-1" by default
	AccountID    string        // "000000000000" (the local AWS's) by default
	Timeout      time.Duration // 30s by default; sets each invocation's deadline
	MemoryMB     int           // 128 by default; reported to processes Start runs
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	answered bool // guarded by Server.mu
	done     chan Result
}

// Server is a Lambda Runtime API for one function.
type Server struct {
	opts  Options
	http  *httptest.Server
	queue chan *invocation

	mu        sync.Mutex
	inflight  map[string]*invocation
	initErr   *ErrorPayload
	firstNext time.Time
	goneErr   error

	nextOnce, goneOnce, closeOnce sync.Once
	nextSeen, gone, closed        chan struct{}
	// onTimeout ends the function process when an invocation times out, as Lambda
	// does; set by Start before the first Invoke.
	onTimeout func()
}

// New starts a Runtime API server that is closed when the test ends.
func New(t testing.TB, optFns ...func(*Options)) *Server {
	t.Helper()
	opts := Options{FunctionName: "function", Region: "us-east-1", AccountID: "000000000000", Timeout: 30 * time.Second, MemoryMB: 128}
	for _, fn := range optFns {
		fn(&opts)
	}
	s := &Server{
		opts: opts, queue: make(chan *invocation), inflight: map[string]*invocation{},
		nextSeen: make(chan struct{}), gone: make(chan struct{}), closed: make(chan struct{}),
		onTimeout: func() {},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"invocation/next", s.next)
	mux.HandleFunc("POST "+prefix+"invocation/{id}/response", s.response)
	mux.HandleFunc("POST "+prefix+"invocation/{id}/error", s.invocationError)
	mux.HandleFunc("POST "+prefix+"init/error", s.initError)
	s.http = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Addr is the host:port a runtime finds in AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return strings.TrimPrefix(s.http.URL, "http://") }

// FunctionARN is the ARN sent as Lambda-Runtime-Invoked-Function-Arn.
func (s *Server) FunctionARN() string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.opts.Region, s.opts.AccountID, s.opts.FunctionName)
}

// InitError is what the runtime posted to /runtime/init/error, or nil.
func (s *Server) InitError() *ErrorPayload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initErr
}

// Close unblocks every pending request and stops the server. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.http.Close()
	})
}

// Invoke queues payload for the runtime's next /next request and waits for the
// function's answer, its deadline, or the end of its process.
func (s *Server) Invoke(ctx context.Context, payload []byte) (Result, error) {
	if len(payload) > MaxPayloadBytes {
		return Result{}, fmt.Errorf("invoke: payload of %d bytes is over Lambda's %d-byte limit", len(payload), MaxPayloadBytes)
	}
	inv := &invocation{id: newRequestID(), payload: payload, done: make(chan Result, 1)}
	s.mu.Lock()
	s.inflight[inv.id] = inv
	s.mu.Unlock()
	defer s.forget(inv.id)
	// The queue is unbuffered: the send completes only when a runtime is waiting in
	// /next, so the deadline starts when the function gets the event.
	inv.deadline = time.Now().Add(s.opts.Timeout)
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: not taken by the function: %w", inv.id, ctx.Err())
	case <-s.gone:
		return Result{}, fmt.Errorf("invoke %s: %w", inv.id, s.goneError())
	case <-s.closed:
		return Result{}, fmt.Errorf("invoke %s: %w", inv.id, ErrClosed)
	}
	return s.await(ctx, inv)
}

func (s *Server) await(ctx context.Context, inv *invocation) (Result, error) {
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case r := <-inv.done:
		return r, nil
	case <-timer.C:
		s.onTimeout()
		msg := fmt.Sprintf("RequestId: %s Task timed out after %.2f seconds", inv.id, s.opts.Timeout.Seconds())
		return Result{RequestID: inv.id, Err: &ErrorPayload{Type: "Sandbox.Timedout", Message: msg}}, nil
	case <-s.gone:
		select { // an answer posted just before the process ended still counts
		case r := <-inv.done:
			return r, nil
		default:
		}
		msg := fmt.Sprintf("RequestId: %s Error: %v", inv.id, s.goneError())
		return Result{RequestID: inv.id, Err: &ErrorPayload{Type: "Runtime.ExitError", Message: msg}}, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: %w", inv.id, ctx.Err())
	case <-s.closed:
		return Result{}, fmt.Errorf("invoke %s: %w", inv.id, ErrClosed)
	}
}

func (s *Server) forget(id string) {
	s.mu.Lock()
	delete(s.inflight, id)
	s.mu.Unlock()
}

// finish delivers an invocation's result once; false when the id is unknown (never
// issued, already answered, or given up by Invoke).
func (s *Server) finish(id string, r Result) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.inflight[id]
	if !ok || inv.answered {
		return false
	}
	inv.answered = true
	r.RequestID = id
	inv.done <- r
	return true
}

// down marks the function as gone (process exited, or init failed) with err.
func (s *Server) down(err error) {
	s.goneOnce.Do(func() {
		s.mu.Lock()
		s.goneErr = err
		s.mu.Unlock()
		close(s.gone)
	})
}

func (s *Server) goneError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.goneErr
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.nextOnce.Do(func() {
		s.mu.Lock()
		s.firstNext = time.Now()
		s.mu.Unlock()
		close(s.nextSeen)
	})
	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	case <-s.closed:
		http.Error(w, "runtime API server closed", http.StatusGone)
		return
	}
	h := w.Header()
	h.Set(headerRequestID, inv.id)
	h.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(headerFunctionARN, s.FunctionARN())
	h.Set(headerTraceID, newTraceID())
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.payload)
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, status := Result{Response: body}, http.StatusAccepted
	if t := r.Trailer.Get(headerErrorType); t != "" {
		// A streamed response that failed midway: the error travels in trailers.
		res = Result{Err: trailerError(t, r.Trailer.Get(trailerErrorBody))}
	} else if len(body) > MaxPayloadBytes {
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxPayloadBytes)
		res, status = Result{Err: &ErrorPayload{Type: "Function.ResponseSizeTooLarge", Message: msg}}, http.StatusRequestEntityTooLarge
	}
	s.answer(w, id, res, status)
}

func (s *Server) invocationError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.answer(w, r.PathValue("id"), Result{Err: parseError(body, r.Header.Get(headerErrorType))}, http.StatusAccepted)
}

func (s *Server) answer(w http.ResponseWriter, id string, res Result, status int) {
	if !s.finish(id, res) {
		http.Error(w, fmt.Sprintf("unknown or already answered request id %q", id), http.StatusBadRequest)
		return
	}
	w.WriteHeader(status)
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ep := parseError(body, r.Header.Get(headerErrorType))
	s.mu.Lock()
	if s.initErr == nil {
		s.initErr = ep
	}
	s.mu.Unlock()
	s.down(fmt.Errorf("function init failed: %w", ep))
	w.WriteHeader(http.StatusAccepted)
}

// parseError reads an error body leniently: a runtime may post any bytes, and the
// header then names the type.
func parseError(body []byte, headerType string) *ErrorPayload {
	var ep ErrorPayload
	if err := json.Unmarshal(body, &ep); err != nil || (ep.Type == "" && ep.Message == "") {
		ep = ErrorPayload{Message: string(body)}
	}
	if ep.Type == "" {
		ep.Type = headerType
	}
	if ep.Type == "" {
		ep.Type = "Runtime.Unknown"
	}
	return &ep
}

func trailerError(errorType, encodedBody string) *ErrorPayload {
	body, err := base64.StdEncoding.DecodeString(encodedBody)
	if err != nil {
		body = []byte(encodedBody)
	}
	return parseError(body, errorType)
}

func newRequestID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40 // UUID version 4, as Lambda's request ids are
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), hex.EncodeToString(randomBytes(12)), hex.EncodeToString(randomBytes(8)))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}
