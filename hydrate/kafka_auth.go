package hydrate

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
)

// Kafka authentication methods (STREAMDLQ_KAFKA_AUTH).
const (
	KafkaAuthNone      = "none"
	KafkaAuthSCRAM512  = "scram-sha-512"
	KafkaAuthSCRAM256  = "scram-sha-256"
	KafkaAuthMSKIAM    = "iam"  // SASL/OAUTHBEARER signed with the function's credentials
	KafkaAuthMTLS      = "mtls" // a client certificate from Secrets Manager
	kafkaSecretMissing = "STREAMDLQ_KAFKA_SECRET_ARN is not set; it names the secret holding the credentials"
)

var kafkaAuths = []string{KafkaAuthNone, KafkaAuthSCRAM512, KafkaAuthSCRAM256, KafkaAuthMSKIAM, KafkaAuthMTLS}

type secretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ secretsAPI = (*secretsmanager.Client)(nil)

// loadKafkaAuth reads STREAMDLQ_KAFKA_AUTH, STREAMDLQ_KAFKA_SECRET_ARN and
// STREAMDLQ_KAFKA_TLS_CA into c.
func loadKafkaAuth(get func(string) string, c *KafkaConfig) []error {
	var errs []error
	c.Auth, c.SecretARN, c.CAFile = get("STREAMDLQ_KAFKA_AUTH"), get("STREAMDLQ_KAFKA_SECRET_ARN"), get("STREAMDLQ_KAFKA_TLS_CA")
	if c.Auth == "" {
		c.Auth = KafkaAuthNone
	}
	if c.Auth == KafkaAuthMTLS && !c.TLS {
		errs = append(errs, fmt.Errorf("STREAMDLQ_KAFKA_AUTH=mtls needs STREAMDLQ_KAFKA_TLS on"))
	}
	if !slices.Contains(kafkaAuths, c.Auth) {
		errs = append(errs, fmt.Errorf("STREAMDLQ_KAFKA_AUTH: %q is none of %v", c.Auth, kafkaAuths))
	}
	if (c.Auth == KafkaAuthSCRAM512 || c.Auth == KafkaAuthSCRAM256 || c.Auth == KafkaAuthMTLS) && c.SecretARN == "" {
		errs = append(errs, fmt.Errorf("STREAMDLQ_KAFKA_AUTH=%s: %s", c.Auth, kafkaSecretMissing))
	}
	return errs
}

// clientOpts are the TLS and SASL options for a cluster in region.
func (k *kafkaReaders) clientOpts(region string) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if k.cfg.TLS {
		tc, err := k.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch k.cfg.Auth {
	case KafkaAuthSCRAM512:
		opts = append(opts, kgo.SASL(scram.Sha512(k.scramAuth)))
	case KafkaAuthSCRAM256:
		opts = append(opts, kgo.SASL(scram.Sha256(k.scramAuth)))
	case KafkaAuthMSKIAM:
		opts = append(opts, kgo.SASL(oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
			return mskIAMToken(ctx, region, k.creds)
		})))
	}
	return opts, nil
}

// tlsConfig trusts the system roots plus, when STREAMDLQ_KAFKA_TLS_CA names a PEM
// file, its certificates (a self-managed cluster's private CA).
func (k *kafkaReaders) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if k.cfg.Auth == KafkaAuthMTLS {
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
func (k *kafkaReaders) scramAuth(ctx context.Context) (scram.Auth, error) {
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
func (k *kafkaReaders) clientCertificate(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
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
