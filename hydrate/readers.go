package hydrate

import (
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/streamdlq/streamdlq/internal/stream"
)

// readers builds stream readers per account: the function's own credentials by
// default, an assumed role for accounts in the role map. Clients and their
// credentials caches live as long as the process, so a warm Lambda assumes each role
// once per credential lifetime, not once per failure.
type readers struct {
	base        aws.Config
	roles       map[string]string
	deaggregate bool

	mu        sync.Mutex
	byAccount map[string]*accountReaders
}

type accountReaders struct {
	kinesis  *stream.KinesisReader
	dynamodb *stream.DynamoDBReader
}

func newReaders(base aws.Config, roles map[string]string, deaggregate bool) *readers {
	return &readers{base: base, roles: roles, deaggregate: deaggregate, byAccount: map[string]*accountReaders{}}
}

// forAccount returns the readers for streams of account.
func (r *readers) forAccount(account string) *accountReaders {
	role := r.roles[account]
	if role == "" {
		account = "" // every account without a role shares the function's own clients
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ar := r.byAccount[account]; ar != nil {
		return ar
	}
	cfg := configFor(r.base, role)
	ar := &accountReaders{
		kinesis: stream.NewKinesisReader(kinesis.NewFromConfig(cfg),
			func(o *stream.KinesisOptions) { o.Deaggregate = r.deaggregate }),
		dynamodb: stream.NewDynamoDBReader(dynamodbstreams.NewFromConfig(cfg)),
	}
	r.byAccount[account] = ar
	return ar
}

// withClients makes the function's own account read through k and d.
func (r *readers) withClients(k KinesisAPI, d DynamoDBStreamsAPI) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byAccount[""] = &accountReaders{
		kinesis:  stream.NewKinesisReader(k, func(o *stream.KinesisOptions) { o.Deaggregate = r.deaggregate }),
		dynamodb: stream.NewDynamoDBReader(d),
	}
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
