package kafka

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestLoadClientConfig(t *testing.T) {
	tests := map[string]struct {
		env      map[string]string
		want     ClientConfig
		wantErrs int
	}{
		"defaults":          {want: ClientConfig{TLS: true, Auth: AuthNone}},
		"plain, CA":         {env: map[string]string{"STREAMDLQ_KAFKA_TLS": "false", "STREAMDLQ_KAFKA_TLS_CA": "/ca.pem"}, want: ClientConfig{CAFile: "/ca.pem", Auth: AuthNone}},
		"SCRAM":             {env: map[string]string{"STREAMDLQ_KAFKA_AUTH": AuthSCRAM512, "STREAMDLQ_KAFKA_SECRET_ARN": "arn:s"}, want: ClientConfig{TLS: true, Auth: AuthSCRAM512, SecretARN: "arn:s"}},
		"SCRAM, no secret":  {env: map[string]string{"STREAMDLQ_KAFKA_AUTH": AuthSCRAM256}, wantErrs: 1},
		"mTLS without TLS":  {env: map[string]string{"STREAMDLQ_KAFKA_AUTH": AuthMTLS, "STREAMDLQ_KAFKA_SECRET_ARN": "arn:s", "STREAMDLQ_KAFKA_TLS": "false"}, wantErrs: 1},
		"unknown, bad bool": {env: map[string]string{"STREAMDLQ_KAFKA_AUTH": "kerberos", "STREAMDLQ_KAFKA_TLS": "maybe"}, wantErrs: 2},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c, errs := LoadClientConfig(func(k string) string { return tt.env[k] })
			if len(errs) != tt.wantErrs || tt.wantErrs == 0 && c != tt.want {
				t.Fatalf("got %+v, %v; want %+v with %d errors", c, errs, tt.want, tt.wantErrs)
			}
		})
	}
}

// TestMSKIAMToken: the token is a base64url-encoded, SigV4-presigned
// kafka-cluster:Connect URL for the cluster's region.
func TestMSKIAMToken(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
	a, err := mskIAMToken(context.Background(), "eu-west-1", creds)
	if err != nil {
		t.Fatal(err)
	}
	u, err := base64.RawURLEncoding.DecodeString(a.Token)
	if err != nil {
		t.Fatalf("token is not base64url: %v", err)
	}
	for _, want := range []string{"kafka.eu-west-1.amazonaws.com", "Action=kafka-cluster%3AConnect", "X-Amz-Credential=AKIDEXAMPLE"} {
		if !strings.Contains(string(u), want) {
			t.Errorf("got token URL %s, want it to contain %s", u, want)
		}
	}
	if _, err := mskIAMToken(context.Background(), "eu-west-1", nil); err == nil {
		t.Error("got a token without credentials")
	}
}
