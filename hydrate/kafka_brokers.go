package hydrate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	msk "github.com/aws/aws-sdk-go-v2/service/kafka"
	"github.com/aws/smithy-go"

	"github.com/streamdlq/streamdlq/archive/batch"
	"github.com/streamdlq/streamdlq/internal/kafka"
	"github.com/streamdlq/streamdlq/internal/settings"
)

// mskBrokersAPI finds the brokers of an Amazon MSK cluster.
type mskBrokersAPI interface {
	GetBootstrapBrokers(ctx context.Context, in *msk.GetBootstrapBrokersInput, optFns ...func(*msk.Options)) (*msk.GetBootstrapBrokersOutput, error)
}

var _ mskBrokersAPI = (*msk.Client)(nil)

// listener is one kind of MSK broker endpoint: the ports MSK serves it on (private,
// public, IPv6) and its broker strings in a GetBootstrapBrokers answer, best first.
type listener struct {
	name    string
	ports   []string
	strings func(o *msk.GetBootstrapBrokersOutput) []*string
}

var (
	listenerIAM = listener{"SASL/IAM", []string{"9098", "9198", "20098"}, func(o *msk.GetBootstrapBrokersOutput) []*string {
		return []*string{o.BootstrapBrokerStringSaslIam, o.BootstrapBrokerStringPublicSaslIam, o.BootstrapBrokerStringSaslIamIpv6}
	}}
	listenerSCRAM = listener{"SASL/SCRAM", []string{"9096", "9196", "20096"}, func(o *msk.GetBootstrapBrokersOutput) []*string {
		return []*string{o.BootstrapBrokerStringSaslScram, o.BootstrapBrokerStringPublicSaslScram, o.BootstrapBrokerStringSaslScramIpv6}
	}}
	listenerTLS = listener{"TLS", []string{"9094", "9194", "20094"}, func(o *msk.GetBootstrapBrokersOutput) []*string {
		return []*string{o.BootstrapBrokerStringTls, o.BootstrapBrokerStringPublicTls, o.BootstrapBrokerStringTlsIpv6}
	}}
	listenerPlaintext = listener{"plaintext", []string{"9092", "20092"}, func(o *msk.GetBootstrapBrokersOutput) []*string {
		return []*string{o.BootstrapBrokerString, o.BootstrapBrokerStringIpv6}
	}}
	mskListeners = []listener{listenerIAM, listenerSCRAM, listenerTLS, listenerPlaintext}
)

// listenerFor is the listener a client configured with c connects to.
func listenerFor(c kafka.ClientConfig) listener {
	switch {
	case c.Auth == kafka.AuthMSKIAM:
		return listenerIAM
	case c.Auth == kafka.AuthSCRAM512 || c.Auth == kafka.AuthSCRAM256:
		return listenerSCRAM
	case c.TLS: // mutual TLS, or TLS without authentication
		return listenerTLS
	}
	return listenerPlaintext
}

// mskBrokers resolves the bootstrap servers of an MSK failure with
// kafka:GetBootstrapBrokers when its on-failure record names none, or names only
// brokers of another listener than the configured authentication connects to (a
// mapping using IAM while this function uses SCRAM, say). Answers are cached per
// cluster ARN for the life of the process: an MSK cluster keeps its broker names. A
// cluster that is gone, refuses the call or lacks the listener is a
// *kafka.UnreadableError (an unreadable gap); other errors are returned for a retry.
type mskBrokers struct {
	listener listener
	client   func(account, region string) mskBrokersAPI

	mu        sync.Mutex
	byCluster map[string][]string
}

func newMSKBrokers(c kafka.ClientConfig, client func(account, region string) mskBrokersAPI) *mskBrokers {
	return &mskBrokers{listener: listenerFor(c), client: client, byCluster: map[string][]string{}}
}

// servers returns the bootstrap servers to read kf from: its own, unless they must
// be resolved (needsResolving). account and region are the cluster's.
func (m *mskBrokers) servers(ctx context.Context, kf *batch.Kafka, account, region string) ([]string, error) {
	if !m.needsResolving(kf) {
		return kf.BootstrapServers, nil
	}
	m.mu.Lock()
	cached := m.byCluster[kf.ClusterARN]
	m.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	out, err := m.client(account, region).GetBootstrapBrokers(ctx, &msk.GetBootstrapBrokersInput{ClusterArn: &kf.ClusterARN})
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && slices.Contains(refusals, api.ErrorCode()):
		return nil, unreadable(kf, "the cluster's brokers are unknown", fmt.Errorf("get bootstrap brokers of %s: %w", kf.ClusterARN, err))
	case err != nil:
		return nil, fmt.Errorf("get bootstrap brokers of %s: %w", kf.ClusterARN, err)
	}
	servers := m.pick(out)
	if servers == nil {
		return nil, unreadable(kf, "the cluster's brokers are unknown", fmt.Errorf("get bootstrap brokers of %s: no %s listener (%s, %s)",
			kf.ClusterARN, m.listener.name, settings.KafkaAuth.Env, settings.KafkaTLS.Env))
	}
	m.mu.Lock()
	m.byCluster[kf.ClusterARN] = servers
	m.mu.Unlock()
	return servers, nil
}

// refusals are the GetBootstrapBrokers errors no retry mends: the cluster is gone, or
// this function may not ask (kafka:GetBootstrapBrokers is granted on the allowlist's
// clusters only).
var refusals = []string{"NotFoundException", "ForbiddenException", "UnauthorizedException", "AccessDeniedException"}

// unreadable makes the whole range of kf an unreadable gap, as a cluster refusing the
// read would: the capture is archived incomplete with err as the gap's detail, and
// retried later.
func unreadable(kf *batch.Kafka, reason string, err error) error {
	return &kafka.UnreadableError{Range: kafka.Range{Topic: kf.Topic, Partition: kf.Partition, First: kf.FirstOffset, Last: kf.LastOffset},
		Reason: reason, Err: err}
}

// needsResolving reports whether kf is an MSK failure whose record names no brokers,
// or only MSK brokers on the ports of another listener. Servers that are no MSK
// broker names (a private DNS alias, say) are used as they are.
func (m *mskBrokers) needsResolving(kf *batch.Kafka) bool {
	if !kf.Managed() {
		return false
	}
	for _, s := range kf.BootstrapServers {
		host, port, err := net.SplitHostPort(s)
		if err != nil || !isMSKBroker(host) || slices.Contains(m.listener.ports, port) || !isMSKPort(port) {
			return false
		}
	}
	return true
}

// pick returns the first broker string of the listener the answer has, split.
func (m *mskBrokers) pick(o *msk.GetBootstrapBrokersOutput) []string {
	for _, s := range m.listener.strings(o) {
		if v := strings.TrimSpace(aws.ToString(s)); v != "" {
			return strings.Split(v, ",")
		}
	}
	return nil
}

func isMSKBroker(host string) bool {
	return strings.HasSuffix(host, ".amazonaws.com") && (strings.Contains(host, ".kafka.") || strings.Contains(host, ".kafka-serverless."))
}

func isMSKPort(port string) bool {
	for _, l := range mskListeners {
		if slices.Contains(l.ports, port) {
			return true
		}
	}
	return false
}
