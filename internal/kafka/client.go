package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/aws/aws-msk-iam-sasl-signer-go/signer"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamdlq/streamdlq/internal/settings"
)

// Authentication methods (settings.KafkaAuth).
const (
	AuthNone     = "none"
	AuthSCRAM512 = "scram-sha-512"
	AuthSCRAM256 = "scram-sha-256"
	AuthMSKIAM   = "iam"  // SASL/OAUTHBEARER signed with the function's credentials
	AuthMTLS     = "mtls" // a client certificate from Secrets Manager
)

var auths = []string{AuthNone, AuthSCRAM512, AuthSCRAM256, AuthMSKIAM, AuthMTLS}

// ClientConfig is how a client reaches a cluster: TLS and authentication.
type ClientConfig struct {
	// TLS is STREAMDLQ_KAFKA_TLS: connect with TLS; true unless set to false.
	TLS bool
	// CAFile is STREAMDLQ_KAFKA_TLS_CA: a PEM file of CA certificates trusted besides
	// the system roots.
	CAFile string
	// Auth is STREAMDLQ_KAFKA_AUTH: none (default), scram-sha-512, scram-sha-256, iam
	// (MSK IAM: SASL/OAUTHBEARER signed with the caller's credentials) or mtls (a
	// client certificate).
	Auth string
	// SecretARN is STREAMDLQ_KAFKA_SECRET_ARN: the Secrets Manager secret holding the
	// SCRAM user ({"username", "password"}) or the client certificate
	// ({"certificate", "privateKey"}), as Lambda's Kafka event source mappings keep them.
	SecretARN string
}

// SecretsAPI is the Secrets Manager call the SCRAM and mutual-TLS methods make.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretsAPI = (*secretsmanager.Client)(nil)

// LoadClientConfig reads the Kafka client settings (settings.KafkaTLS, KafkaTLSCA,
// KafkaAuth, KafkaSecretARN) through l, which collects every bad one.
func LoadClientConfig(l *settings.Loader) ClientConfig {
	c := ClientConfig{TLS: l.Bool(settings.KafkaTLS), CAFile: l.String(settings.KafkaTLSCA),
		Auth: l.String(settings.KafkaAuth), SecretARN: l.String(settings.KafkaSecretARN)}
	switch {
	case !slices.Contains(auths, c.Auth):
		l.Fail(settings.KafkaAuth, fmt.Errorf("%q is none of %v", c.Auth, auths))
	case c.Auth == AuthMTLS && !c.TLS:
		l.Fail(settings.KafkaAuth, fmt.Errorf("mtls needs %s on", settings.KafkaTLS.Env))
	case (c.Auth == AuthSCRAM512 || c.Auth == AuthSCRAM256 || c.Auth == AuthMTLS) && c.SecretARN == "":
		l.Fail(settings.KafkaSecretARN, fmt.Errorf("not set; %s=%s reads the credentials from it", settings.KafkaAuth.Env, c.Auth))
	}
	return c
}

// ClientOptions are the franz-go options for c: TLS and SASL. secrets serves SCRAM
// and mutual TLS; creds and region (the cluster's) sign MSK IAM tokens.
func ClientOptions(c ClientConfig, secrets SecretsAPI, creds aws.CredentialsProvider, region string) ([]kgo.Opt, error) {
	a := &auth{cfg: c, secrets: secrets}
	var opts []kgo.Opt
	if c.TLS {
		tc, err := a.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch c.Auth {
	case AuthSCRAM512:
		opts = append(opts, kgo.SASL(scram.Sha512(a.scramAuth)))
	case AuthSCRAM256:
		opts = append(opts, kgo.SASL(scram.Sha256(a.scramAuth)))
	case AuthMSKIAM:
		opts = append(opts, kgo.SASL(oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
			return mskIAMToken(ctx, region, creds)
		})))
	}
	return opts, nil
}

// auth reads credentials from Secrets Manager when a connection needs them.
type auth struct {
	cfg     ClientConfig
	secrets SecretsAPI
}

// tlsConfig trusts the system roots plus, when STREAMDLQ_KAFKA_TLS_CA names a PEM
// file, its certificates (a self-managed cluster's private CA).
func (k *auth) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if k.cfg.Auth == AuthMTLS {
		tc.GetClientCertificate = k.clientCertificate
	}
	if k.cfg.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(k.cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read kafka CA %s: %w", k.cfg.CAFile, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read kafka CA %s: no PEM certificate", k.cfg.CAFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

// scramAuth reads the SCRAM user from Secrets Manager at each authentication, so a
// rotated secret is picked up by the next connection. The secret is the JSON that
// Lambda's own Kafka event source mappings use: {"username": ..., "password": ...}.
func (k *auth) scramAuth(ctx context.Context) (scram.Auth, error) {
	out, err := k.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &k.cfg.SecretARN})
	if err != nil {
		return scram.Auth{}, fmt.Errorf("get kafka secret %s: %w", k.cfg.SecretARN, err)
	}
	var s struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &s) != nil || s.Username == "" {
		return scram.Auth{}, fmt.Errorf("kafka secret %s: want JSON with username and password", k.cfg.SecretARN)
	}
	return scram.Auth{User: s.Username, Pass: s.Password}, nil
}

// clientCertificate reads the client certificate from Secrets Manager at each
// handshake, so a renewed certificate is picked up by the next connection. The secret
// is the JSON Lambda's own Kafka mappings use for CLIENT_CERTIFICATE_TLS_AUTH:
// {"certificate": PEM chain, "privateKey": unencrypted PKCS#8 PEM}. An encrypted key
// (privateKeyPassword) is refused: Go's standard library does not decrypt PKCS#8.
func (k *auth) clientCertificate(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
	out, err := k.secrets.GetSecretValue(info.Context(), &secretsmanager.GetSecretValueInput{SecretId: &k.cfg.SecretARN})
	if err != nil {
		return nil, fmt.Errorf("get kafka client certificate %s: %w", k.cfg.SecretARN, err)
	}
	var s struct {
		Certificate        string `json:"certificate"`
		PrivateKey         string `json:"privateKey"`
		PrivateKeyPassword string `json:"privateKeyPassword"`
	}
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &s) != nil || s.Certificate == "" || s.PrivateKey == "" {
		return nil, fmt.Errorf("kafka client certificate %s: want JSON with certificate and privateKey", k.cfg.SecretARN)
	}
	if s.PrivateKeyPassword != "" {
		return nil, fmt.Errorf("kafka client certificate %s: encrypted private keys are not supported", k.cfg.SecretARN)
	}
	cert, err := tls.X509KeyPair([]byte(s.Certificate), []byte(s.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("kafka client certificate %s: %w", k.cfg.SecretARN, err)
	}
	return &cert, nil
}

// mskIAMToken signs an MSK IAM token with the function's credentials.
func mskIAMToken(ctx context.Context, region string, creds aws.CredentialsProvider) (oauth.Auth, error) {
	if creds == nil {
		return oauth.Auth{}, fmt.Errorf("msk iam token for %s: no AWS credentials", region)
	}
	token, _, err := signer.GenerateAuthTokenFromCredentialsProvider(ctx, region, creds)
	if err != nil {
		return oauth.Auth{}, fmt.Errorf("msk iam token for %s: %w", region, err)
	}
	return oauth.Auth{Token: token}, nil
}
