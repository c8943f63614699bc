package template

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamdlq/streamdlq/internal/awsenv"
	"github.com/streamdlq/streamdlq/internal/testkit"
)

// Hash keys that place a Kinesis record on the first or second of two shards.
const (
	hashShard0 = "0"
	hashShard1 = "170141183460469231731687303715884105728" // 2^127
)

// local is what the sample events are rewritten to point at in the local AWS: a
// two-shard stream, a table with a stream, and the stack's bucket, queues and bus.
type local struct {
	cfg                    aws.Config
	streamARN              string
	shardSeqs              map[string][]string // Kinesis shard id -> sequence numbers written
	table, tableStreamARN  string
	ddbShard               string
	ddbSeqs                []string
	bucket, failureBucket  string
	dlqURL, parkingURL     string
	failuresURL            string // the hydrator's own failure queue
	targetURL, bus, prefix string
	sizes                  [2]int // the sample on-failure object's size, and as uploaded
}

func newLocal(t *testing.T) *local {
	t.Helper()
	cfg := testkit.Config(t, testkit.Kinesis, testkit.DynamoDB, testkit.DynamoDBStreams, testkit.Moto)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l := &local{cfg: cfg, prefix: "streamdlq", shardSeqs: map[string][]string{}}
	l.kinesisStream(t, ctx)
	l.dynamoDBStream(t, ctx)
	l.stackResources(t, ctx)
	return l
}

func (l *local) kinesisStream(t *testing.T, ctx context.Context) {
	k := kinesis.NewFromConfig(l.cfg)
	l.streamARN = testkit.Stream(t, k, 2)
	for i, hash := range []string{hashShard0, hashShard0, hashShard0, hashShard1, hashShard1} {
		out, err := k.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: &l.streamARN, PartitionKey: aws.String(fmt.Sprint("order-", i)),
			ExplicitHashKey: aws.String(hash), Data: []byte(fmt.Sprintf(`{"orderId":"%d"}`, 1000+i))})
		if err != nil {
			t.Fatalf("put record: %v", err)
		}
		l.shardSeqs[*out.ShardId] = append(l.shardSeqs[*out.ShardId], *out.SequenceNumber)
	}
	if len(l.shardSeqs["shardId-000000000000"]) != 3 || len(l.shardSeqs["shardId-000000000001"]) != 2 {
		t.Fatalf("records per shard: got %v, want 3 on shardId-000000000000 and 2 on shardId-000000000001", l.shardSeqs)
	}
}

func (l *local) dynamoDBStream(t *testing.T, ctx context.Context) {
	d := dynamodb.NewFromConfig(l.cfg)
	l.table, l.tableStreamARN = testkit.Table(t, d)
	for _, id := range []string{"c-1", "c-2"} {
		item := map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}
		if _, err := d.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item}); err != nil {
			t.Fatalf("put item: %v", err)
		}
	}
	l.ddbShard, l.ddbSeqs = readDDBStream(t, ctx, dynamodbstreams.NewFromConfig(l.cfg), l.tableStreamARN, 2)
}

// readDDBStream returns the first shard of the stream and the sequence numbers of
// its first n records, polling until DynamoDB Local has them.
func readDDBStream(t *testing.T, ctx context.Context, ds *dynamodbstreams.Client, arn string, n int) (string, []string) {
	desc, err := ds.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	if err != nil || len(desc.StreamDescription.Shards) == 0 {
		t.Fatalf("describe table stream: %v", err)
	}
	shard := *desc.StreamDescription.Shards[0].ShardId
	it, err := ds.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: &shard, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("table stream iterator: %v", err)
	}
	var seqs []string
	for iter := it.ShardIterator; iter != nil && len(seqs) < n && ctx.Err() == nil; {
		out, err := ds.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatalf("table stream records: %v", err)
		}
		for _, r := range out.Records {
			seqs = append(seqs, *r.Dynamodb.SequenceNumber)
		}
		iter = out.NextShardIterator
	}
	if len(seqs) < n {
		t.Fatalf("table stream: got %d records, want %d", len(seqs), n)
	}
	return shard, seqs[:n]
}

func (l *local) stackResources(t *testing.T, ctx context.Context) {
	s3c, q := awsenv.S3(l.cfg), sqs.NewFromConfig(l.cfg)
	l.bucket, l.failureBucket = testkit.Bucket(t, s3c, "archive"), testkit.Bucket(t, s3c, "onfailure")
	visibility := map[string]string{"VisibilityTimeout": "120"}
	l.dlqURL, l.parkingURL, l.targetURL = testkit.Queue(t, q, "dlq", visibility), testkit.Queue(t, q, "parking", visibility), testkit.Queue(t, q, "target", visibility)
	l.failuresURL = testkit.Queue(t, q, "failures", visibility)
	l.bus = testkit.Name(t, "bus")
	if _, err := eventbridge.NewFromConfig(l.cfg).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &l.bus}); err != nil {
		t.Fatalf("create bus: %v", err)
	}
}

// env fills every variable the template gives function with a local value; a
// variable this test has no value for fails it, so the two cannot drift apart.
func (l *local) env(t *testing.T, function string) []string {
	values := map[string]string{
		"STREAMDLQ_ALLOWED_STREAMS": l.streamARN + "," + l.tableStreamARN, "STREAMDLQ_ROLE_MAP": "",
		"STREAMDLQ_ARCHIVE_BUCKET": l.bucket, "STREAMDLQ_ARCHIVE_PREFIX": l.prefix, "STREAMDLQ_DLQ_URL": l.dlqURL,
		"STREAMDLQ_EVENT_BUS": l.bus, "STREAMDLQ_KMS_KEY_ID": "", "STREAMDLQ_DEAGGREGATE": "false",
		"AWS_LAMBDA_LOG_LEVEL": "INFO", "STREAMDLQ_PARKING_QUEUE_URL": l.parkingURL,
		"STREAMDLQ_REDRIVE_TARGETS": l.table + "=sqs:" + l.targetURL + "," + l.streamARN + "=kinesis", "STREAMDLQ_REDRIVE_RATE": "100",
		"STREAMDLQ_REDRIVE_MAX_RATE": "1000", "STREAMDLQ_REDRIVE_MAX_BYTES": "1048576",
		"STREAMDLQ_REDRIVE_SHARE": "0.5", "STREAMDLQ_MAX_RECEIVE_COUNT": "5",
		// moto has no event source mappings for these functions: the check is off here
		// and covered by hydrate's unit tests.
		"STREAMDLQ_CHECK_MAPPINGS": "false", "STREAMDLQ_INPUT_ARNS": "",
		"STREAMDLQ_FAILURE_QUEUE_URL": l.failuresURL,
		// The samples name no Kafka cluster: the template's defaults.
		"STREAMDLQ_ALLOWED_KAFKA_SERVERS": "", "STREAMDLQ_KAFKA_TLS": "true", "STREAMDLQ_KAFKA_TLS_CA": "",
		"STREAMDLQ_KAFKA_AUTH": "none", "STREAMDLQ_KAFKA_SECRET_ARN": "", "STREAMDLQ_REDRIVE_KAFKA_BROKERS": "",
	}
	vars := mustGet(t, loadTemplate(t), "Resources", function, "Properties", "Environment", "Variables")
	var env []string
	for i := 0; i+1 < len(vars.Content); i += 2 {
		name := vars.Content[i].Value
		v, ok := values[name]
		if !ok {
			t.Fatalf("template gives %s %s; give this test a local value for it", function, name)
		}
		env = append(env, name+"="+v)
	}
	return env
}

// rewrite points a sample at the local resources: the stream, the table's stream, the
// shards and ranges actually written, and the on-failure bucket.
func (l *local) rewrite(sample string) string {
	s0, s1 := l.shardSeqs["shardId-000000000000"], l.shardSeqs["shardId-000000000001"]
	return strings.NewReplacer(
		"arn:aws:kinesis:us-east-1:000000000000:stream/orders", l.streamARN,
		"49669417366457380154237911358541337815362034633810329602", s0[0],
		"49669417366457380154237911358545964335489911003196620802", s0[len(s0)-1],
		"49669417366457380154237911358551337815362034633810329618", s1[0],
		"49669417366457380154237911358552546741180648062204231698", s1[len(s1)-1],
		"arn:aws:dynamodb:us-east-1:000000000000:table/customers/stream/2026-01-15T09:00:00.000", l.tableStreamARN,
		"shardId-00000001768467600000-a1b2c3d4", l.ddbShard,
		"100000000000000000001", l.ddbSeqs[0],
		"100000000000000000002", l.ddbSeqs[1],
		"orders-onfailure-000000000000", l.failureBucket,
		fmt.Sprintf(`"size": %d,`, l.sizes[0]), fmt.Sprintf(`"size": %d,`, l.sizes[1]),
	).Replace(sample)
}

// buildBootstrap builds a function's main package for this host, as the deployed
// bootstrap is built but for GOOS/GOARCH.
func buildBootstrap(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, pkg)
	cmd.Dir, cmd.Env = repo, os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
