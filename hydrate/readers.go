package hydrate

import (
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	msk "github.com/aws/aws-sdk-go-v2/service/kafka"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/streamdlq/streamdlq/internal/stream"
)

// readers builds stream readers per account and region: the function's own
// credentials by default, an assumed role for accounts in the role map, and always a
// client of the stream's own region (a Kinesis or DynamoDB stream is read only through
// its region's endpoint). Clients and their credentials caches live as long as the
// process, so a warm Lambda assumes each role once per credential lifetime, not once
// per failure.
type readers struct {
	base        aws.Config
	roles       map[string]string
	deaggregate bool

	mu    sync.Mutex
	byKey map[readersKey]*accountReaders
}

// readersKey is a role ("" for the function's own credentials) and a region ("" for
// the base config's).
type readersKey struct{ role, region string }

type accountReaders struct {
	kinesis  *stream.KinesisReader
	dynamodb *stream.DynamoDBReader
	// mappings lists the event source mappings of functions in this account and region,
	// pipes describes its pipes.
	mappings listMappingsAPI
	pipes    describePipeAPI
	// summary tells a Kinesis stream's retention, describe whether a DynamoDB stream
	// exists.
	summary  streamSummaryAPI
	describe describeStreamAPI
	// msk finds the brokers of MSK clusters in this account and region.
	msk mskBrokersAPI
}

// pageBytes bounds the record data of one Kinesis GetRecords page: memory follows the
// page, and 2 MiB is one second of a shard's read throughput, so a read in such pages
// takes the shard's budget no faster than one in pages of 10,000 records.
const pageBytes = 2 << 20

func (r *readers) kinesisOptions(o *stream.KinesisOptions) {
	o.Deaggregate, o.PageBytes = r.deaggregate, pageBytes
}

func newReaders(base aws.Config, roles map[string]string, deaggregate bool) *readers {
	return &readers{base: base, roles: roles, deaggregate: deaggregate, byKey: map[readersKey]*accountReaders{}}
}

// forAccount returns the readers for streams of account in the base config's region.
func (r *readers) forAccount(account string) *accountReaders {
	return r.forAccountRegion(account, "")
}

// forAccountRegion returns the readers for streams of account in region ("" for the
// base config's region). Accounts without a role share the function's own
// credentials, one set of clients per region.
func (r *readers) forAccountRegion(account, region string) *accountReaders {
	role := roleFor(r.roles, account, region)
	if region == r.base.Region {
		region = ""
	}
	key := readersKey{role: role, region: region}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ar := r.byKey[key]; ar != nil {
		return ar
	}
	cfg := configFor(r.base, key.role)
	if region != "" {
		cfg.Region = region
	}
	kc, dc := kinesis.NewFromConfig(cfg), dynamodbstreams.NewFromConfig(cfg)
	ar := &accountReaders{
		kinesis: stream.NewKinesisReader(kc,
			r.kinesisOptions),
		summary:  kc,
		dynamodb: stream.NewDynamoDBReader(dc),
		describe: dc,
		mappings: lambda.NewFromConfig(cfg),
		pipes:    pipes.NewFromConfig(cfg),
		msk:      msk.NewFromConfig(cfg),
	}
	r.byKey[key] = ar
	return ar
}

// roleFor returns the role mapped to account in region (a "ACCOUNT:REGION" entry),
// else to account in every region, else "".
func roleFor(roles map[string]string, account, region string) string {
	if region != "" {
		if role := roles[account+":"+region]; role != "" {
			return role
		}
	}
	return roles[account]
}

// withClients makes the function's own account, in the base config's region, read
// through k and d; its other clients stay those forAccountRegion builds.
func (r *readers) withClients(k KinesisAPI, d DynamoDBStreamsAPI) {
	ar := r.forAccountRegion("", "")
	r.mu.Lock()
	defer r.mu.Unlock()
	own := *ar
	own.kinesis = stream.NewKinesisReader(k, r.kinesisOptions)
	own.dynamodb = stream.NewDynamoDBReader(d)
	if s, ok := k.(streamSummaryAPI); ok {
		own.summary = s
	}
	if s, ok := d.(describeStreamAPI); ok {
		own.describe = s
	}
	r.byKey[readersKey{}] = &own
}

// configFor returns base with credentials of the assumed role, or base itself when
// role is empty.
func configFor(base aws.Config, role string) aws.Config {
	cfg := base.Copy()
	if role != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), role,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "streamdlq-hydrate" }))
	}
	return cfg
}
