package chaos

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/archive"
	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/redrive"
)

// redrive runs scheduled redrives until one drains the DLQ cleanly; DeadlineMidCall
// cuts the very first of the run only. A crashed run's
// messages come back when their visibility timeout ends, before the next run.
func (e *runEnv) redrive(ctx context.Context) error {
	first := !e.redriven
	e.redriven = true
	for run := range redriveRuns {
		cutting := first && run == 0 && e.con != nil && e.con.deadline
		budget := 10 * time.Second
		if cutting {
			budget = cutBudget
			e.con.cut(true)
		}
		pctx, done := e.inj.Process(ctx, redriveMaxCalls)
		rep, err := e.redriver(budget).Run(pctx)
		crashed := Crashed(pctx)
		done()
		if cutting && e.con.cut(false) && !crashed && rep.Left == 0 {
			e.run.Problems = append(e.run.Problems, "a call was cut by the run's budget, but the run reports no record left")
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case crashed:
			time.Sleep(visibility)
		case err == nil && rep.Kept == 0 && rep.Replaced == 0 && len(rep.Errors) == 0:
			return nil
		}
	}
	return nil
}

func (e *runEnv) redriver(budget time.Duration) *redrive.Redriver {
	sqsc, s3c := sqs.NewFromConfig(e.cfg), awsenv.S3(e.cfg)
	arc := archive.New(s3c, func(o *archive.Options) { o.Bucket, o.Prefix = e.bucket, e.prefix })
	queue := archive.NewQueue(sqsc, func(o *archive.QueueOptions) { o.URL, o.Archive = e.q.dlq, arc })
	src := redrive.NewSQSSource(sqsc, s3c, queue, func(o *redrive.SQSSourceOptions) {
		o.URL, o.ParkURL, o.Bucket, o.Prefix = e.q.dlq, e.q.parking, e.bucket, e.prefix
		o.MaxReceiveCount, o.VisibilityTimeout, o.WaitTime = maxReceives, visibility, 0
	})
	return redrive.New(src, func(o *redrive.Options) {
		o.Kinesis = kinesis.NewFromConfig(e.cfg)
		o.SQS = sqsc
		o.Routes = []redrive.Route{{Pattern: e.from.arn, Target: e.from.route}}
		o.Budget, o.SafetyMargin = budget, 0
		if e.from.kafka != nil {
			e.from.kafka.redriveOptions(o)
		}
		if e.con != nil {
			e.consumerOptions(o)
		}
	})
}
