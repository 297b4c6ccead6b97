package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "shortfuse test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t)
	b := startBrokerTLS(t, pool, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(b.url, "https://") {
		t.Fatalf("url %s is not https", b.url)
	}
	admin := b.adminCreds()
	// The aws CLI, trusting the certificate through AWS_CA_BUNDLE.
	r := b.awsEnv(b.cliEnv(admin, "AWS_CA_BUNDLE="+certFile), "sts", "get-caller-identity")
	if r.Code != 0 || !strings.Contains(r.Stdout, ":user/admin") {
		t.Fatalf("aws over TLS: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	// The SDK.
	cfg := b.sdkConfig(admin)
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesPlainHTTPOffLoopback(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	out, err := runBinary(t, "server", "--listen", "0.0.0.0:0", "--data", dir)
	if err == nil || !strings.Contains(out, "refusing to serve plain HTTP") || !strings.Contains(out, "shortfuse: hint:") {
		t.Fatalf("err=%v output:\n%s", err, out)
	}
	if strings.Count(strings.TrimSpace(out), "\n") > 1 {
		t.Errorf("expected one error line and one hint line, got:\n%s", out)
	}
}

func TestMetricsAndThrottling(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	admin := b.adminCreds()
	ctx := context.Background()
	if _, err := b.stsClient(admin).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	// A caller guessing secrets: after a burst of failures its failures are
	// answered Throttling; a correctly signed request is still served.
	bad := creds{AccessKeyID: admin.AccessKeyID, SecretAccessKey: "wrong-secret-wrong-secret-wrong-secret00"}
	codes := map[string]int{}
	for range 40 {
		_, err := b.stsClient(bad).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		codes[errCodeOf(err)]++
	}
	if codes["SignatureDoesNotMatch"] == 0 || codes["Throttling"] == 0 {
		t.Fatalf("codes for repeated failures: %v", codes)
	}
	if _, err := b.stsClient(admin).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("right secret while its key id's failures are throttled: %v, want served", err)
	}

	text := metricsText(t, b)
	for _, want := range []string{
		`shortfuse_requests_total{action="GetCallerIdentity",outcome="OK",service="sts"} 2`,
		`shortfuse_auth_failures_total{code="SignatureDoesNotMatch"}`,
		`shortfuse_throttled_total`,
		`shortfuse_request_duration_seconds_bucket{action="GetCallerIdentity",service="sts"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(text, admin.SecretAccessKey) || strings.Contains(text, ":user/admin") {
		t.Error("/metrics exposes a secret or a principal")
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := runBinary(t, "version")
	if err != nil || !strings.HasPrefix(out, "shortfuse ") {
		t.Fatalf("version: %v %q", err, out)
	}
}

// startBrokerTLS starts a broker whose health check trusts pool.
func startBrokerTLS(t *testing.T, pool *x509.CertPool, extra ...string) *broker {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return startBrokerClient(t, "", client, extra...)
}
