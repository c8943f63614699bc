package bench_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamdlq/streamdlq/internal/settings"
	"github.com/streamdlq/streamdlq/internal/testkit/runtimeapi"
)

// coldStarts is how many process starts the cold-start median is taken over.
const coldStarts = 20

// buildBootstrap builds cmd/<name> as it is deployed (lambda.norpc, trimmed, stripped)
// for this machine, so it can run here.
func buildBootstrap(b *testing.B, name string) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), name, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/"+name)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build cmd/%s: %v\n%s", name, err, msg)
	}
	return out
}

// hostEnv is the local AWS environment plus a log level that keeps the function's
// per-invocation lines out of the measurement.
func hostEnv() []string { return append(runtimeapi.HostAWSEnv(), settings.LogLevel.Env+"=WARN") }

// functionEnv holds every variable either function needs to pass its init; cold
// starts make no AWS call, so the values need only be well-formed.
var functionEnv = []string{
	settings.AllowedStreams.Env + "=arn:aws:kinesis:us-east-1:000000000000:stream/*",
	settings.ArchiveBucket.Env + "=streamdlq-archive",
	settings.DLQURL.Env + "=http://127.0.0.1:5000/000000000000/streamdlq-dlq",
	settings.ParkingQueueURL.Env + "=http://127.0.0.1:5000/000000000000/streamdlq-parking",
	settings.EventBus.Env + "=streamdlq",
}

// BenchmarkColdStart starts each function's bootstrap coldStarts times under the
// Runtime API and reports the median and worst time from process start to its first
// /next request (Lambda's Init Duration, less the sandbox), and the binary's size.
func BenchmarkColdStart(b *testing.B) {
	for _, name := range []string{"hydrate", "redrive"} {
		b.Run(name, func(b *testing.B) {
			if _, err := os.Stat(filepath.Join("../../cmd", name, "main.go")); err != nil {
				b.Skipf("cmd/%s has no main.go yet", name)
			}
			bin := buildBootstrap(b, name)
			var ds []time.Duration
			for b.Loop() {
				ds = append(ds, initDurations(b, bin, coldStarts)...)
			}
			slices.Sort(ds)
			st, err := os.Stat(bin)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(ms(ds[len(ds)/2]), "init-ms-median")
			b.ReportMetric(ms(ds[len(ds)-1]), "init-ms-max")
			b.ReportMetric(float64(st.Size())/(1<<20), "binary-MB")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func initDurations(b *testing.B, bin string, n int) []time.Duration {
	ds := make([]time.Duration, 0, n)
	for range n {
		f := runtimeapi.Start(b, bin, append(hostEnv(), functionEnv...))
		d, err := f.InitDuration(context.Background())
		if err != nil {
			b.Fatalf("init: %v\n%s", err, f.Logs())
		}
		f.Stop()
		ds = append(ds, d)
	}
	return ds
}

// processUse is what one function process used: its peak resident set (VmHWM) and
// its user + system CPU time, init included.
type processUse struct{ rssMB, cpuMS float64 }

// peakRSS runs bin under the Runtime API, invokes it once with payload and reads the
// process's peak RSS and CPU time from /proc before it is stopped.
func peakRSS(b *testing.B, bin string, env []string, payload []byte) processUse {
	f := runtimeapi.Start(b, bin, env, func(o *runtimeapi.Options) { o.Timeout = 5 * time.Minute; o.MemoryMB = 128 })
	defer f.Stop()
	res, err := f.Invoke(context.Background(), payload)
	if err != nil || res.Err != nil {
		b.Fatalf("invoke: %v %v\n%s", err, res.Err, f.Logs())
	}
	pid, err := pidOf(bin)
	if err != nil {
		b.Fatal(err)
	}
	kb, err := statusField(pid, "VmHWM")
	if err != nil {
		b.Fatal(err)
	}
	cpu, err := cpuTimeOf(pid)
	if err != nil {
		b.Fatal(err)
	}
	return processUse{rssMB: float64(kb) / 1024, cpuMS: ms(cpu)}
}

// clockTick is the unit of /proc/<pid>/stat's times: USER_HZ, 100 on Linux.
const clockTick = 10 * time.Millisecond

// cpuTimeOf returns utime + stime from /proc/<pid>/stat.
func cpuTimeOf(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name, which may hold spaces; utime and
	// stime are the 14th and 15th fields, the 12th and 13th after it.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// pidOf finds the one running process whose executable is bin. runtimeapi does not
// hand out the PID, and bin's path is unique to this benchmark.
func pidOf(bin string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no running process of %s", bin)
}

// statusField returns a "Name:   123 kB" field of /proc/<pid>/status in kB.
func statusField(pid int, name string) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, name)
}
