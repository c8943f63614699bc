package kafka

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/streamdlq/streamdlq/internal/settings"
)

func TestLoadClientConfig(t *testing.T) {
	tests := map[string]struct {
		env      map[string]string
		want     ClientConfig
		wantErrs []string // the variables named
	}{
		"defaults":          {want: ClientConfig{TLS: true, Auth: AuthNone}},
		"plain, CA":         {env: map[string]string{settings.KafkaTLS.Env: "false", settings.KafkaTLSCA.Env: "/ca.pem"}, want: ClientConfig{CAFile: "/ca.pem", Auth: AuthNone}},
		"SCRAM":             {env: map[string]string{settings.KafkaAuth.Env: AuthSCRAM512, settings.KafkaSecretARN.Env: "arn:s"}, want: ClientConfig{TLS: true, Auth: AuthSCRAM512, SecretARN: "arn:s"}},
		"SCRAM, no secret":  {env: map[string]string{settings.KafkaAuth.Env: AuthSCRAM256}, wantErrs: []string{settings.KafkaSecretARN.Env}},
		"mTLS without TLS":  {env: map[string]string{settings.KafkaAuth.Env: AuthMTLS, settings.KafkaSecretARN.Env: "arn:s", settings.KafkaTLS.Env: "false"}, wantErrs: []string{settings.KafkaAuth.Env}},
		"unknown, bad bool": {env: map[string]string{settings.KafkaAuth.Env: "kerberos", settings.KafkaTLS.Env: "maybe"}, wantErrs: []string{settings.KafkaAuth.Env, settings.KafkaTLS.Env}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			l := settings.NewLoader(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			c := LoadClientConfig(l)
			err := l.Err()
			if len(tt.wantErrs) == 0 {
				if err != nil || c != tt.want {
					t.Fatalf("got %+v, %v; want %+v", c, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %+v and no error, want one naming %v", c, tt.wantErrs)
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tt.wantErrs) {
				t.Errorf("got %d errors (%v), want %d", n, err, len(tt.wantErrs))
			}
			for _, v := range tt.wantErrs {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("got %v, want %s named", err, v)
				}
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
