package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

func verifyRemote(t *testing.T, r *Remote, iss, token string, now time.Time) error {
	t.Helper()
	tok, err := Parse(token)
	if err != nil {
		return err
	}
	_, err = Verify(context.Background(), tok, Config{Issuer: iss, ClientIDs: []string{"sts.amazonaws.com"}, Keys: r.KeySource(iss)}, now)
	return err
}

// TestRemote follows discovery to the JWKS, caches it, refreshes it for an
// unknown kid at most once per MinInterval, and refetches after TTL.
func TestRemote(t *testing.T) {
	k := testKeys()
	ti := testutil.NewOIDCIssuer(t, standardJWKS(t))
	r := NewRemote(RemoteOptions{TTL: time.Hour, MinInterval: time.Minute})
	iss := ti.URL
	now := t0
	rsTok := func(key any, kid string, at time.Time) string {
		return testutil.SignJWT(t, key, jose.RS256, kid, claimsAt(iss, at))
	}

	steps := []struct {
		name        string
		at          time.Duration
		token       func(at time.Time) string
		want        Reason
		wantFetches int32
	}{
		{"ok/first-use-fetches", 0, func(at time.Time) string { return rsTok(k.rsa, "rsa-1", at) }, 0, 1},
		{"ok/cached", time.Second, func(at time.Time) string { return testutil.SignJWT(t, k.ec, jose.ES256, "ec-1", claimsAt(iss, at)) }, 0, 1},
		{"fail/unknown-kid-too-soon-after-fetch", 2 * time.Second, func(at time.Time) string { return rsTok(k.rsa2, "rsa-2", at) }, ReasonUnknownKey, 1},
		{"fail/unknown-kid-refreshes", 2 * time.Minute, func(at time.Time) string { return rsTok(k.rsa2, "rsa-2", at) }, ReasonUnknownKey, 2},
		{"fail/unknown-kid-again-is-rate-limited", 2*time.Minute + time.Second, func(at time.Time) string { return rsTok(k.rsa2, "rsa-2", at) }, ReasonUnknownKey, 2},
		{"ok/known-kid-still-served", 2*time.Minute + 2*time.Second, func(at time.Time) string { return rsTok(k.rsa, "rsa-1", at) }, 0, 2},
		{"ok/after-interval-rotation-found", 3*time.Minute + time.Second, func(at time.Time) string { return rsTok(k.rsa2, "rsa-2", at) }, 0, 3},
		{"ok/ttl-refetch", 2*time.Hour + 2*time.Minute, func(at time.Time) string { return rsTok(k.rsa, "rsa-1", at) }, 0, 4},
	}
	for i, st := range steps {
		if i == 6 {
			ti.SetJWKS(jwksDoc(t, jwk(t, &k.rsa.PublicKey, "rsa-1", ""), jwk(t, &k.rsa2.PublicKey, "rsa-2", "")))
		}
		at := now.Add(st.at)
		err := verifyRemote(t, r, iss, st.token(at), at)
		if st.want == 0 && err != nil {
			t.Fatalf("%s: Verify() = %v", st.name, err)
		}
		if st.want != 0 {
			wantReasonNamed(t, st.name, err, st.want)
		}
		if got := ti.Fetches.Load(); got != st.wantFetches {
			t.Fatalf("%s: JWKS fetches = %d, want %d", st.name, got, st.wantFetches)
		}
	}
}

func wantReasonNamed(t *testing.T, name string, err error, want Reason) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok || e.Reason != want {
		t.Fatalf("%s: error = %v, want reason %v", name, err, want)
	}
}

// TestRemoteStale: an issuer that goes away keeps its last keys for
// MaxStale, and failed fetches are not retried within MinInterval.
func TestRemoteStale(t *testing.T) {
	k := testKeys()
	ti := testutil.NewOIDCIssuer(t, standardJWKS(t))
	r := NewRemote(RemoteOptions{TTL: time.Hour, MinInterval: time.Minute, MaxStale: 2 * time.Hour})
	iss := ti.URL
	tok := func(at time.Time) string { return testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", claimsAt(iss, at)) }
	if err := verifyRemote(t, r, iss, tok(t0), t0); err != nil {
		t.Fatal(err)
	}
	ti.SetJWKS([]byte(`garbage`))
	at := t0.Add(90 * time.Minute) // past TTL: refetch fails, stale keys serve
	if err := verifyRemote(t, r, iss, tok(at), at); err != nil {
		t.Fatalf("stale keys: %v", err)
	}
	at = t0.Add(4 * time.Hour) // past TTL+MaxStale
	err := verifyRemote(t, r, iss, tok(at), at)
	wantReasonNamed(t, "too-stale", err, ReasonKeys)
	if e := err.(*Error); strings.Contains(e.Detail, "garbage") || e.Err == nil {
		t.Errorf("error = %+v, want a fixed detail and an internal cause", e)
	}
	n := ti.Fetches.Load()
	at = at.Add(30 * time.Second) // within MinInterval of the failure: no fetch
	wantReasonNamed(t, "rate-limited", verifyRemote(t, r, iss, tok(at), at), ReasonKeys)
	if got := ti.Fetches.Load(); got != n {
		t.Errorf("fetches = %d, want %d (no retry within MinInterval)", got, n)
	}
}

func TestRemoteDiscoveryRefusals(t *testing.T) {
	k := testKeys()
	tests := []struct {
		name string
		doc  func(iss string) string
	}{
		{"fail/issuer-mismatch", func(iss string) string { return `{"issuer":"https://evil.example","jwks_uri":"` + iss + `/jwks"}` }},
		{"fail/no-jwks-uri", func(iss string) string { return `{"issuer":"` + iss + `"}` }},
		{"fail/jwks-uri-http-remote", func(iss string) string { return `{"issuer":"` + iss + `","jwks_uri":"http://example.com/jwks"}` }},
		{"fail/jwks-uri-file", func(iss string) string { return `{"issuer":"` + iss + `","jwks_uri":"file:///etc/passwd"}` }},
		{"fail/dup-key", func(iss string) string {
			return `{"issuer":"` + iss + `","jwks_uri":"` + iss + `/jwks","jwks_uri":"` + iss + `/jwks"}`
		}},
		{"fail/not-json", func(string) string { return `<html>` }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ti := testutil.NewOIDCIssuer(t, standardJWKS(t))
			ti.Discovery = tc.doc
			r := NewRemote(RemoteOptions{})
			err := verifyRemote(t, r, ti.URL, testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", claimsAt(ti.URL, t0)), t0)
			wantReasonNamed(t, tc.name, err, ReasonKeys)
		})
	}
}

func TestRemoteBoundsResponse(t *testing.T) {
	k := testKeys()
	var url string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "openid-configuration") {
			w.Write([]byte(`{"issuer":"` + url + `","jwks_uri":"` + url + `/jwks"}`))
			return
		}
		w.Write([]byte(`{"keys":[],"pad":"`))
		for range 100 {
			w.Write([]byte(strings.Repeat("x", 1024)))
		}
		w.Write([]byte(`"}`))
	}))
	t.Cleanup(srv.Close)
	url = srv.URL
	r := NewRemote(RemoteOptions{MaxResponseBytes: 64 << 10})
	err := verifyRemote(t, r, url, testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", claimsAt(url, t0)), t0)
	wantReasonNamed(t, "too-large", err, ReasonKeys)
	if !strings.Contains(err.Error(), "larger than") {
		t.Errorf("error = %v, want it to say the response is too large", err)
	}
}

func TestRemoteRedirects(t *testing.T) {
	c := defaultClient()
	for _, tc := range []struct {
		name, target string
		ok           bool
	}{
		{"ok/https", "https://example.com/jwks", true},
		{"ok/loopback-http", "http://127.0.0.1:1/jwks", true},
		{"fail/http", "http://example.com/jwks", false},
		{"fail/file", "file:///etc/passwd", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tc.target, nil)
			err := c.CheckRedirect(req, []*http.Request{{}})
			if (err == nil) != tc.ok {
				t.Errorf("CheckRedirect(%s) = %v, want ok=%v", tc.target, err, tc.ok)
			}
		})
	}
	req, _ := http.NewRequest("GET", "https://example.com", nil)
	if err := c.CheckRedirect(req, make([]*http.Request, 3)); err == nil {
		t.Error("CheckRedirect allowed a fourth redirect")
	}
}

func TestRemoteEvicts(t *testing.T) {
	r := NewRemote(RemoteOptions{MaxIssuers: 2})
	r.entry("a", t0)
	r.entry("b", t0.Add(time.Second))
	r.entry("a", t0.Add(2*time.Second))
	r.entry("c", t0.Add(3*time.Second))
	if _, ok := r.entries["b"]; ok || len(r.entries) != 2 {
		t.Errorf("entries after eviction = %v, want a and c", r.entries)
	}
	r.Forget("a")
	if _, ok := r.entries["a"]; ok {
		t.Error("Forget did not drop the issuer")
	}
}
