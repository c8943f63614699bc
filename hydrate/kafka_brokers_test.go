package hydrate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	msk "github.com/aws/aws-sdk-go-v2/service/kafka"
	msktypes "github.com/aws/aws-sdk-go-v2/service/kafka/types"
	"github.com/aws/smithy-go"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/kafka"
)

type fakeMSK struct {
	getBootstrapBrokers func(in *msk.GetBootstrapBrokersInput) (*msk.GetBootstrapBrokersOutput, error)
}

func (f *fakeMSK) GetBootstrapBrokers(_ context.Context, in *msk.GetBootstrapBrokersInput, _ ...func(*msk.Options)) (*msk.GetBootstrapBrokersOutput, error) {
	return f.getBootstrapBrokers(in)
}

const (
	brokersCluster = "arn:aws:kafka:eu-west-1:111122223333:cluster/orders/abcd-1"
	brokerHost     = "b-1.orders.a1bcde.c2.kafka.eu-west-1.amazonaws.com"
)

// A cluster whose every listener is on, as GetBootstrapBrokers lists them.
var allListeners = &msk.GetBootstrapBrokersOutput{
	BootstrapBrokerString:          aws.String(brokerHost + ":9092,b-2.orders.a1bcde.c2.kafka.eu-west-1.amazonaws.com:9092"),
	BootstrapBrokerStringTls:       aws.String(brokerHost + ":9094"),
	BootstrapBrokerStringSaslScram: aws.String(brokerHost + ":9096"),
	BootstrapBrokerStringSaslIam:   aws.String(brokerHost + ":9098"),
}

func TestMSKBrokersPicksTheConfiguredListener(t *testing.T) {
	tests := map[string]struct {
		client kafka.ClientConfig
		answer *msk.GetBootstrapBrokersOutput
		want   []string
	}{
		"IAM":                {kafka.ClientConfig{TLS: true, Auth: kafka.AuthMSKIAM}, allListeners, []string{brokerHost + ":9098"}},
		"SCRAM-SHA-512":      {kafka.ClientConfig{TLS: true, Auth: kafka.AuthSCRAM512}, allListeners, []string{brokerHost + ":9096"}},
		"mutual TLS":         {kafka.ClientConfig{TLS: true, Auth: kafka.AuthMTLS}, allListeners, []string{brokerHost + ":9094"}},
		"TLS, no auth":       {kafka.ClientConfig{TLS: true, Auth: kafka.AuthNone}, allListeners, []string{brokerHost + ":9094"}},
		"plaintext, no auth": {kafka.ClientConfig{Auth: kafka.AuthNone}, allListeners, strings.Split(*allListeners.BootstrapBrokerString, ",")},
		"IAM, public access only": {kafka.ClientConfig{TLS: true, Auth: kafka.AuthMSKIAM},
			&msk.GetBootstrapBrokersOutput{BootstrapBrokerStringPublicSaslIam: aws.String("b-1-public.orders:9198")}, []string{"b-1-public.orders:9198"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var gotARN, gotAccount, gotRegion string
			api := &fakeMSK{getBootstrapBrokers: func(in *msk.GetBootstrapBrokersInput) (*msk.GetBootstrapBrokersOutput, error) {
				gotARN = aws.ToString(in.ClusterArn)
				return tc.answer, nil
			}}
			m := newMSKBrokers(tc.client, func(account, region string) mskBrokersAPI { gotAccount, gotRegion = account, region; return api })
			got, err := m.servers(context.Background(), &batch.Kafka{ClusterARN: brokersCluster}, "111122223333", "eu-west-1")
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v, want %q", got, err, tc.want)
			}
			if gotARN != brokersCluster || gotAccount != "111122223333" || gotRegion != "eu-west-1" {
				t.Errorf("asked for %s in %s %s, want the cluster in its account and region", gotARN, gotAccount, gotRegion)
			}
		})
	}
}

// Resolved once per cluster; an error is returned and not cached, and a cluster
// without the configured listener is an error naming the settings.
func TestMSKBrokersCachesPerCluster(t *testing.T) {
	calls := 0
	var fail error
	answer := allListeners
	api := &fakeMSK{getBootstrapBrokers: func(*msk.GetBootstrapBrokersInput) (*msk.GetBootstrapBrokersOutput, error) {
		calls++
		return answer, fail
	}}
	m := newMSKBrokers(kafka.ClientConfig{TLS: true, Auth: kafka.AuthMSKIAM}, func(string, string) mskBrokersAPI { return api })
	ctx := context.Background()
	resolve := func(cluster string) error {
		_, err := m.servers(ctx, &batch.Kafka{ClusterARN: cluster}, "111122223333", "eu-west-1")
		return err
	}

	fail = errors.New("throttled")
	if err := resolve(brokersCluster); err == nil || !strings.Contains(err.Error(), brokersCluster) {
		t.Fatalf("got %v, want the call's error naming the cluster", err)
	}
	fail = nil
	for range 3 {
		if err := resolve(brokersCluster); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Errorf("got %d GetBootstrapBrokers calls, want 2 (the failed one, then one cached)", calls)
	}

	answer = &msk.GetBootstrapBrokersOutput{BootstrapBrokerStringTls: aws.String(brokerHost + ":9094")}
	err := resolve(strings.Replace(brokersCluster, "orders", "tls-only", 1))
	var unreadable *kafka.UnreadableError
	if !errors.As(err, &unreadable) || !strings.Contains(err.Error(), "SASL/IAM") || !strings.Contains(err.Error(), "STREAMDLQ_KAFKA_AUTH") {
		t.Errorf("got %v, want an *UnreadableError naming the missing listener and the setting", err)
	}
}

// A cluster that is gone or may not be asked about makes the range unreadable (a gap
// the capture names); a throttle or a 500 is an error for a retry.
func TestMSKBrokersRefusals(t *testing.T) {
	tests := map[string]struct {
		err            error
		wantUnreadable bool
	}{
		"not found":      {&msktypes.NotFoundException{Message: aws.String("no such cluster")}, true},
		"access denied":  {&smithy.GenericAPIError{Code: "AccessDeniedException"}, true},
		"forbidden":      {&msktypes.ForbiddenException{}, true},
		"throttled":      {&msktypes.TooManyRequestsException{}, false},
		"internal error": {&msktypes.InternalServerErrorException{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			api := &fakeMSK{getBootstrapBrokers: func(*msk.GetBootstrapBrokersInput) (*msk.GetBootstrapBrokersOutput, error) { return nil, tc.err }}
			m := newMSKBrokers(kafka.ClientConfig{TLS: true, Auth: kafka.AuthMSKIAM}, func(string, string) mskBrokersAPI { return api })
			_, err := m.servers(context.Background(), &batch.Kafka{ClusterARN: brokersCluster, Topic: "orders", FirstOffset: 3, LastOffset: 9}, "111122223333", "eu-west-1")
			var unreadable *kafka.UnreadableError
			if got := errors.As(err, &unreadable); got != tc.wantUnreadable || err == nil {
				t.Fatalf("got %v (unreadable %v), want unreadable %v", err, got, tc.wantUnreadable)
			}
			if tc.wantUnreadable && (unreadable.Range.First != 3 || unreadable.Range.Last != 9 || !errors.Is(err, tc.err)) {
				t.Errorf("got %+v, want the failure's range 3..9 and the call's error wrapped", unreadable)
			}
		})
	}
}

// A record's own servers are used unless it is an MSK record naming none, or naming
// only MSK brokers on another listener's ports.
func TestMSKBrokersOnlyWhenNeeded(t *testing.T) {
	tests := map[string]struct {
		kf   batch.Kafka
		want bool
	}{
		"MSK, no servers":                  {batch.Kafka{ClusterARN: brokersCluster}, true},
		"MSK, plaintext brokers":           {batch.Kafka{ClusterARN: brokersCluster, BootstrapServers: []string{brokerHost + ":9092"}}, true},
		"MSK, SCRAM brokers":               {batch.Kafka{ClusterARN: brokersCluster, BootstrapServers: []string{brokerHost + ":9096"}}, true},
		"MSK, IAM brokers":                 {batch.Kafka{ClusterARN: brokersCluster, BootstrapServers: []string{brokerHost + ":9098"}}, false},
		"MSK, public IAM brokers":          {batch.Kafka{ClusterARN: brokersCluster, BootstrapServers: []string{brokerHost + ":9198"}}, false},
		"MSK, one IAM broker of two":       {batch.Kafka{ClusterARN: brokersCluster, BootstrapServers: []string{brokerHost + ":9092", brokerHost + ":9098"}}, false},
		"MSK, a DNS alias":                 {batch.Kafka{ClusterARN: brokersCluster, BootstrapServers: []string{"kafka.internal.example:9092"}}, false},
		"MSK, an unknown port":             {batch.Kafka{ClusterARN: brokersCluster, BootstrapServers: []string{brokerHost + ":19092"}}, false},
		"MSK serverless, IAM":              {batch.Kafka{ClusterARN: brokersCluster, BootstrapServers: []string{"boot-abcd.c2.kafka-serverless.eu-west-1.amazonaws.com:9098"}}, false},
		"self-managed":                     {batch.Kafka{BootstrapServers: []string{"kafka-1.internal:9092"}}, false},
		"self-managed on an MSK-like name": {batch.Kafka{BootstrapServers: []string{brokerHost + ":9092"}}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			calls := 0
			api := &fakeMSK{getBootstrapBrokers: func(*msk.GetBootstrapBrokersInput) (*msk.GetBootstrapBrokersOutput, error) {
				calls++
				return allListeners, nil
			}}
			m := newMSKBrokers(kafka.ClientConfig{TLS: true, Auth: kafka.AuthMSKIAM}, func(string, string) mskBrokersAPI { return api })
			got, err := m.servers(context.Background(), &tc.kf, "111122223333", "eu-west-1")
			if err != nil {
				t.Fatal(err)
			}
			if resolved := calls == 1; resolved != tc.want {
				t.Fatalf("resolved: got %v, want %v", resolved, tc.want)
			}
			if !tc.want && !slices.Equal(got, tc.kf.BootstrapServers) {
				t.Errorf("got %q, want the record's own %q", got, tc.kf.BootstrapServers)
			}
		})
	}
}
