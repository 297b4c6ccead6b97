package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/server"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// oidcBroker runs the real broker in-process and returns its URL, the IAM
// service behind it and the admin's key.
func oidcBroker(t *testing.T) (string, *iam.Service, string, string) {
	t.Helper()
	ctx := context.Background()
	st, _ := testutil.TempStore(t)
	mk, err := seal.GenerateMasterKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealer, kr, err := keystore.LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	svc := iam.New(st, sealer, "123456789012", time.Now, rand.Reader)
	akid, secret, _, err := svc.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Account: "123456789012", Region: "us-east-1"}, server.Deps{IAM: svc, Keyring: kr, Sessions: reg})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL, svc, akid, secret
}

// awsTestEnv isolates the AWS configuration the SDK reads from the
// process environment.
func awsTestEnv(t *testing.T, akid, secret string) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_SHORTFUSE", "")
	t.Setenv("AWS_ENDPOINT_URL_STS", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", akid)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
}

func testJWKSFile(t *testing.T, private bool) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var key any = &k.PublicKey
	if private {
		key = k
	}
	b := testutil.JWKS(t, jose.JSONWebKey{Key: key, KeyID: "jenkins-1", Algorithm: "ES256", Use: "sig"})
	p := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOIDCSetJWKS(t *testing.T) {
	url, svc, akid, secret := oidcBroker(t)
	awsTestEnv(t, akid, secret)
	ctx := context.Background()
	prov, err := svc.CreateOpenIDConnectProvider(ctx, iam.CreateOIDCProviderInput{URL: "https://jenkins.invalid/oidc", ClientIDs: []string{"shortfuse"}})
	if err != nil {
		t.Fatal(err)
	}
	good := testJWKSFile(t, false)
	private := testJWKSFile(t, true)
	goodData, _ := os.ReadFile(good)
	missing := "arn:aws:iam::123456789012:oidc-provider/nope.invalid"

	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
		wantStored bool
	}{
		{"ok/file", []string{"--arn", prov.ARN, "--file", good}, "", 0, "stored 1 key(s): jenkins-1", "", true},
		{"ok/stdin", []string{"--arn", prov.ARN, "--file", "-"}, string(goodData), 0, "stored 1 key(s): jenkins-1", "", true},
		{"ok/clear", []string{"--arn", prov.ARN, "--clear"}, "", 0, "stored key set removed", "", false},
		{"fail/private-key-refused-locally", []string{"--arn", prov.ARN, "--file", private}, "", 1, "", "private", false},
		{"fail/no-such-provider", []string{"--arn", missing, "--file", good}, "", 1, "", "NoSuchEntityException", false},
		{"fail/bad-arn", []string{"--arn", "arn:aws:iam::123456789012:role/x", "--file", good}, "", 1, "", "not an OpenID Connect provider ARN", false},
		{"fail/file-and-clear", []string{"--arn", prov.ARN, "--file", good, "--clear"}, "", 1, "", "--clear", false},
		{"fail/neither", []string{"--arn", prov.ARN}, "", 1, "", "--file", false},
		{"fail/missing-file", []string{"--arn", prov.ARN, "--file", filepath.Join(t.TempDir(), "nope.json")}, "", 1, "", "no such file", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Only the clear case starts with a stored set.
			var before []byte
			if tc.name == "ok/clear" {
				before = goodData
			}
			if err := svc.SetOpenIDConnectProviderJWKS(ctx, prov.ARN, before); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"oidc-provider", "set-jwks", "--endpoint-url", url}, tc.args...)
			code := run(ctx, args, withStreams(os.Getenv, strings.NewReader(tc.stdin), &stdout, &stderr))
			if code != tc.wantCode || !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Fatalf("run() = %d\nstdout: %s\nstderr: %s\nwant %d, stdout ~ %q, stderr ~ %q", code, stdout.String(), stderr.String(), tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
			got, err := svc.GetOpenIDConnectProvider(ctx, prov.ARN)
			if err != nil {
				t.Fatal(err)
			}
			if stored := len(got.JWKS) > 0; stored != tc.wantStored {
				t.Errorf("stored = %v, want %v", stored, tc.wantStored)
			}
		})
	}
}
