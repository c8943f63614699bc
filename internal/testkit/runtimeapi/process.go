package runtimeapi

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/internal/testkit"
)

// Function is a bootstrap process running behind its own Server.
type Function struct {
	*Server
	cmd     *exec.Cmd
	started time.Time
	logs    *testkit.SyncBuffer
	exited  chan struct{}
}

// Start runs binaryPath (an already built bootstrap) as Lambda would: in its own
// directory, with the reserved Lambda variables set (AWS_LAMBDA_RUNTIME_API pointing
// at a new Server, _HANDLER=bootstrap, function name, memory, region) and nothing of
// the test's environment but env, whose entries win over the reserved ones. Pass
// HostAWSEnv() in env to reach the local AWS. The process is killed when the test ends.
func Start(t testing.TB, binaryPath string, env []string, optFns ...func(*Options)) *Function {
	t.Helper()
	s := New(t, optFns...)
	cmd := exec.Command(binaryPath)
	cmd.Dir = filepath.Dir(binaryPath)
	cmd.Env = append(s.lambdaEnv(cmd.Dir), env...)
	f := &Function{Server: s, cmd: cmd, logs: &testkit.SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = f.logs, f.logs
	f.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binaryPath, err)
	}
	s.onTimeout = f.kill
	go f.wait()
	t.Cleanup(func() { f.stop(t) })
	return f
}

// lambdaEnv is the environment Lambda gives a provided.al2023 function. Lambda sets
// no timeout variable (the deadline header carries it); AWS_LAMBDA_FUNCTION_TIMEOUT
// is what `sam local` and the Runtime Interface Emulator set, kept for parity.
func (s *Server) lambdaEnv(taskRoot string) []string {
	name := s.opts.FunctionName
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + s.Addr(),
		"_HANDLER=bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME=" + name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(s.opts.MemoryMB),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(s.opts.Timeout.Seconds())),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + newRequestID()[:8],
		"AWS_REGION=" + s.opts.Region,
		"AWS_DEFAULT_REGION=" + s.opts.Region,
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"TZ=:UTC",
	}
}

// HostAWSEnv returns the test process's AWS_* variables but AWS_LAMBDA_*: the local
// AWS endpoints, dummy credentials and region that scripts/localaws.sh exports.
func HostAWSEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "AWS_LAMBDA_") {
			env = append(env, kv)
		}
	}
	return env
}

// InitDuration waits for the runtime's first /next request and returns the time
// from process start to it: the cold start Lambda bills as Init Duration.
func (f *Function) InitDuration(ctx context.Context) (time.Duration, error) {
	select {
	case <-f.nextSeen:
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.firstNext.Sub(f.started), nil
	case <-f.gone:
		return 0, f.goneError()
	case <-ctx.Done():
		return 0, fmt.Errorf("wait for first /next: %w", ctx.Err())
	}
}

// Logs returns everything the process wrote to stdout and stderr so far.
func (f *Function) Logs() string { return f.logs.String() }

// Exited is closed when the process has ended.
func (f *Function) Exited() <-chan struct{} { return f.exited }

func (f *Function) wait() {
	err := f.cmd.Wait()
	if err == nil {
		err = fmt.Errorf("exit status 0")
	}
	f.down(fmt.Errorf("function process exited: %w", err))
	close(f.exited)
}

func (f *Function) kill() { _ = f.cmd.Process.Kill() }

// Stop kills the process (Lambda gives a Go runtime no SIGTERM without extensions)
// and waits for it to end. It is idempotent; the test's cleanup calls it too.
func (f *Function) Stop() {
	f.kill()
	<-f.exited
}

func (f *Function) stop(t testing.TB) {
	f.Stop()
	if t.Failed() {
		t.Logf("%s output:\n%s", f.opts.FunctionName, f.Logs())
	}
}
