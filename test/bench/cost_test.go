package bench_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
)

// Published prices, us-east-1 (aws.amazon.com/lambda/pricing, /s3/pricing,
// /sqs/pricing, /eventbridge/pricing), without free tiers. Kinesis GetRecords has no
// per-request price on a provisioned stream (it is in the shard hour), so reading
// back costs nothing here beyond the function's time.
const (
	lambdaARMPerGBSecond = 0.0000133334
	lambdaPerRequest     = 0.20 / 1e6
	s3PutClassPerRequest = 0.005 / 1000  // PUT, COPY, POST, LIST, multipart parts
	s3GetClassPerRequest = 0.0004 / 1000 // GET, HEAD and the rest
	sqsPerRequest        = 0.40 / 1e6    // standard queue, per 64 KB chunk of payload
	eventsPerEvent       = 1.00 / 1e6    // custom events, per 64 KB chunk of payload
)

// At a memory size below 1,769 MB Lambda gives the function that fraction of one
// vCPU; the cost figure is for the smallest size, where CPU time stretches most.
const (
	lambdaMemoryMB  = 128
	fullVCPUMemory  = 1769
	billingChunk    = 64 << 10
	failuresPerCost = 1000
)

// billing counts the requests that are priced, through the clients it is added to.
type billing struct {
	mu                        sync.Mutex
	s3Put, s3Get, sqs, events int
	otherRequests             int
}

func (c *billing) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchBilling",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.count(in.Parameters)
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (c *billing) count(params any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch p := params.(type) {
	case *sqs.SendMessageInput:
		c.sqs += chunks(len(derefString(p.MessageBody)))
	case *eventbridge.PutEventsInput:
		for _, e := range p.Entries {
			c.events += chunks(len(derefString(e.Detail)) + len(derefString(e.DetailType)) + len(derefString(e.Source)))
		}
	default:
		switch name := fmt.Sprintf("%T", params); {
		case strings.HasPrefix(name, "*s3.Put"), strings.HasPrefix(name, "*s3.Copy"), strings.HasPrefix(name, "*s3.List"),
			strings.HasPrefix(name, "*s3.CreateMultipartUpload"), strings.HasPrefix(name, "*s3.UploadPart"),
			strings.HasPrefix(name, "*s3.CompleteMultipartUpload"):
			c.s3Put++
		case strings.HasPrefix(name, "*s3."):
			c.s3Get++
		case strings.HasPrefix(name, "*sqs."):
			c.sqs++
		case strings.HasPrefix(name, "*kinesis."):
			// in the shard hour
		default:
			c.otherRequests++
		}
	}
}

func (c *billing) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s3Put, c.s3Get, c.sqs, c.events, c.otherRequests = 0, 0, 0, 0, 0
}

func chunks(n int) int { return max(1, (n+billingChunk-1)/billingChunk) }

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// costMeter measures a benchmark loop's CPU and wall time and what its requests cost.
type costMeter struct {
	bill  *billing
	cpu   time.Duration
	start time.Time
}

func startCost(bill *billing) *costMeter {
	bill.reset()
	return &costMeter{bill: bill, cpu: processCPU(), start: time.Now()}
}

// report adds, per failure: CPU and wall time here, the Lambda duration they imply at
// lambdaMemoryMB on arm64, and the dollars per failuresPerCost failures, for the
// function alone and with the S3, SQS and EventBridge requests it makes. The "cpu"
// duration and dollars leave the waiting out: a lower bound, all of it ours.
//
// The duration model: the time the process was not on a CPU (wall - CPU) is waiting
// for AWS and stays as it is; the CPU time stretches by fullVCPUMemory/lambdaMemoryMB,
// since the function gets that fraction of a vCPU. Waiting here is on the local
// emulators, not AWS: its share is indicative only, the CPU share is ours.
func (m *costMeter) report(b *testing.B, failures int) {
	wall := time.Since(m.start)
	cpu := processCPU() - m.cpu
	n := float64(failures)
	cpuMS := float64(cpu.Microseconds()) / 1000 / n
	wallMS := float64(wall.Microseconds()) / 1000 / n
	cpuLambdaMS := math.Ceil(cpuMS * fullVCPUMemory / lambdaMemoryMB)
	lambdaMS := math.Ceil(max(wallMS-cpuMS, 0) + cpuMS*fullVCPUMemory/lambdaMemoryMB) // billed per 1 ms
	lambdaUSD := lambdaCost(lambdaMS) * failuresPerCost

	m.bill.mu.Lock()
	requests := float64(m.bill.s3Put)*s3PutClassPerRequest + float64(m.bill.s3Get)*s3GetClassPerRequest +
		float64(m.bill.sqs)*sqsPerRequest + float64(m.bill.events)*eventsPerEvent
	s3Puts := float64(m.bill.s3Put) / n
	m.bill.mu.Unlock()

	b.ReportMetric(cpuMS, "cpu-ms/failure")
	b.ReportMetric(wallMS, "wall-ms/failure")
	b.ReportMetric(lambdaMS, "lambda-ms/failure")
	b.ReportMetric(cpuLambdaMS, "lambda-cpu-ms/failure")
	b.ReportMetric(lambdaCost(cpuLambdaMS)*failuresPerCost, "lambda-cpu-usd/1k-failures")
	b.ReportMetric(s3Puts, "s3-puts/failure")
	b.ReportMetric(lambdaUSD, "lambda-usd/1k-failures")
	b.ReportMetric(lambdaUSD+requests/n*failuresPerCost, "usd/1k-failures")
}

// lambdaCost is the price of one invocation billed for ms milliseconds.
func lambdaCost(ms float64) float64 {
	return ms/1000*lambdaMemoryMB/1024*lambdaARMPerGBSecond + lambdaPerRequest
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
