package redrive

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/streamdlq/streamdlq/internal/kafka"
)

func TestLoadConfigKafka(t *testing.T) {
	env := map[string]string{"STREAMDLQ_DLQ_URL": "https://q", "STREAMDLQ_ARCHIVE_BUCKET": "b",
		"STREAMDLQ_REDRIVE_KAFKA_BROKERS": "b-1:9098, b-2:9098", "STREAMDLQ_KAFKA_AUTH": kafka.AuthMSKIAM}
	c, err := LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.KafkaBrokers, ",") != "b-1:9098,b-2:9098" || c.KafkaClient.Auth != kafka.AuthMSKIAM || !c.KafkaClient.TLS {
		t.Fatalf("got brokers %v client %+v", c.KafkaBrokers, c.KafkaClient)
	}
	r := NewFromConfig(aws.Config{Region: "us-east-1"}, c)
	if r.opts.Kafka == nil {
		t.Fatal("no Kafka client options with brokers configured")
	}
	if opts, err := r.opts.Kafka(); err != nil || len(opts) < 3 {
		t.Fatalf("got %d options, %v; want TLS, SASL and the seed brokers", len(opts), err)
	}

	env["STREAMDLQ_KAFKA_AUTH"] = "kerberos"
	if _, err := LoadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, false); err == nil || !strings.Contains(err.Error(), "STREAMDLQ_KAFKA_AUTH") {
		t.Fatalf("got %v, want the bad STREAMDLQ_KAFKA_AUTH named", err)
	}
}
