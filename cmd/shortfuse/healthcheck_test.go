package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultHealthURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ok/nothing-set", nil, "http://127.0.0.1:7575"},
		{"ok/listen-port", map[string]string{"SHORTFUSE_LISTEN": "0.0.0.0:8443"}, "http://127.0.0.1:8443"},
		{"ok/tls", map[string]string{"SHORTFUSE_LISTEN": "[::]:9000", "SHORTFUSE_TLS_CERT": "/tls/tls.crt"}, "https://127.0.0.1:9000"},
		{"ok/port-zero-ignored", map[string]string{"SHORTFUSE_LISTEN": "127.0.0.1:0"}, "http://127.0.0.1:7575"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := defaultHealthURL(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("defaultHealthURL() = %s, want %s", got, tc.want)
			}
		})
	}
}

// Over https, the check accepts exactly the broker's own certificate
// (SHORTFUSE_TLS_CERT), whose names need not cover 127.0.0.1, and refuses
// another.
func TestHealthcheckTLSPinsTheBrokersCertificate(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		http.NotFound(w, r)
	}))
	defer ts.Close()
	// httptest's servers share one certificate: make another.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "other"}, DNSNames: []string{"other"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	otherDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	own, foreign := write("own.crt", ts.Certificate().Raw), write("other.crt", otherDER)
	for _, tc := range []struct {
		name, cert string
		ok         bool
	}{
		{"ok/own-certificate", own, true},
		{"fail/other-certificate", foreign, false},
		{"fail/no-certificate-file-system-roots", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"SHORTFUSE_TLS_CERT": tc.cert}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"healthcheck", "--url", ts.URL}, withStreams(func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr))
			if (code == 0) != tc.ok {
				t.Errorf("exit %d, want ok=%v\nstdout: %s\nstderr: %s", code, tc.ok, stdout.String(), stderr.String())
			}
		})
	}
}
