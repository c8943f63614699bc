package testkit

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// KafkaBrokersEnv names the seed brokers of the local Kafka (host:port, comma-separated)
// that scripts/localaws.sh starts beside the AWS emulators.
const KafkaBrokersEnv = "STREAMDLQ_KAFKA_BROKERS"

// KafkaBrokers returns the local Kafka's seed brokers after checking that each accepts
// connections. Like Config, it skips the test outside `make test` and fails it when
// `make test` ran it and the broker is down.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	if os.Getenv("STREAMDLQ_LOCALAWS") != "1" {
		t.Skip("integration test: needs the local Kafka; run `make test` (or scripts/localaws.sh run go test ./...)")
	}
	brokers, err := kafkaBrokers(os.Getenv(KafkaBrokersEnv))
	if err != nil {
		t.Fatalf("local Kafka is not reachable: %v", err)
	}
	return brokers
}

func kafkaBrokers(raw string) ([]string, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s is not set", KafkaBrokersEnv)
	}
	brokers := strings.Split(raw, ",")
	for _, b := range brokers {
		conn, err := net.DialTimeout("tcp", b, 2*time.Second)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", KafkaBrokersEnv, raw, err)
		}
		conn.Close()
	}
	return brokers, nil
}

// KafkaSCRAM returns the local Kafka's SASL/SCRAM-SHA-512 listener and the user that
// scripts/localaws.sh created on it, after checking that the listener answers.
func KafkaSCRAM(t testing.TB) (brokers []string, user, password string) {
	t.Helper()
	KafkaBrokers(t)
	brokers, err := kafkaBrokers(os.Getenv("STREAMDLQ_KAFKA_SCRAM_BROKERS"))
	if err != nil {
		t.Fatalf("local Kafka SCRAM listener is not reachable: %v", err)
	}
	return brokers, os.Getenv("STREAMDLQ_KAFKA_SCRAM_USER"), os.Getenv("STREAMDLQ_KAFKA_SCRAM_PASSWORD")
}

// KafkaTLS returns the local Kafka's TLS listener and the PEM file of the
// self-signed certificate it presents, after checking that the listener answers.
func KafkaTLS(t testing.TB) (brokers []string, caFile string) {
	t.Helper()
	KafkaBrokers(t)
	brokers, err := kafkaBrokers(os.Getenv("STREAMDLQ_KAFKA_TLS_BROKERS"))
	if err != nil {
		t.Fatalf("local Kafka TLS listener is not reachable: %v", err)
	}
	caFile = os.Getenv("STREAMDLQ_KAFKA_TLS_BROKERS_CA")
	if _, err := os.Stat(caFile); err != nil {
		t.Fatalf("local Kafka CA: %v", err)
	}
	return brokers, caFile
}

// KafkaMTLS returns the local Kafka's mutual-TLS listener and the PEM files of a
// client certificate and key it accepts, after checking that the listener answers.
// The server's certificate is KafkaTLS's.
func KafkaMTLS(t testing.TB) (brokers []string, certFile, keyFile string) {
	t.Helper()
	KafkaBrokers(t)
	brokers, err := kafkaBrokers(os.Getenv("STREAMDLQ_KAFKA_MTLS_BROKERS"))
	if err != nil {
		t.Fatalf("local Kafka mutual-TLS listener is not reachable: %v", err)
	}
	return brokers, os.Getenv("STREAMDLQ_KAFKA_MTLS_CERT"), os.Getenv("STREAMDLQ_KAFKA_MTLS_KEY")
}
