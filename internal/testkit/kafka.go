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
