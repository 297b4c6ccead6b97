package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Keys are generated once per test process: RSA generation is slow.
var testKeys = sync.OnceValue(func() struct {
	rsa, rsa2 *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
	rsa1024   *rsa.PrivateKey
	p384      *ecdsa.PrivateKey
} {
	var k struct {
		rsa, rsa2 *rsa.PrivateKey
		ec        *ecdsa.PrivateKey
		rsa1024   *rsa.PrivateKey
		p384      *ecdsa.PrivateKey
	}
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		panic(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	if k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		panic(err)
	}
	return k
})

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// jwk is the public JWK of key with kid.
func jwk(tb testing.TB, key crypto.PublicKey, kid, alg string) map[string]any {
	tb.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func jwksDoc(tb testing.TB, keys ...map[string]any) []byte {
	tb.Helper()
	if keys == nil {
		keys = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// standardJWKS holds the RSA key "rsa-1" and the EC key "ec-1".
func standardJWKS(tb testing.TB) []byte {
	k := testKeys()
	return jwksDoc(tb, jwk(tb, &k.rsa.PublicKey, "rsa-1", "RS256"), jwk(tb, &k.ec.PublicKey, "ec-1", "ES256"))
}

// sign signs claims with key as alg with the kid header (none if "").
func sign(tb testing.TB, key any, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	tb.Helper()
	opts := &jose.SignerOptions{}
	opts.WithType("JWT")
	if kid != "" {
		opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// rawToken assembles header.payload.signature by hand, for tokens no
// library would make.
func rawToken(header, payload string, sig []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig)
}

// hs256WithPublicKey is the algorithm-confusion attack: an HMAC over the
// token keyed with the issuer's public key bytes.
func hs256WithPublicKey(tb testing.TB, pub crypto.PublicKey, kid string, claims map[string]any) string {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`)) + "." + enc.EncodeToString(payload)
	m := hmac.New(sha256.New, der)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

func noneToken(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + "."
}

// tamper replaces the payload of a signed token, keeping its signature.
func tamper(tb testing.TB, tok string, claims map[string]any) string {
	tb.Helper()
	parts := strings.Split(tok, ".")
	payload, _ := json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// claimsAt are valid claims for iss issued at now.
func claimsAt(iss string, now time.Time) map[string]any {
	return map[string]any{
		"iss":        iss,
		"sub":        "repo:octo-org/octo-repo:ref:refs/heads/main",
		"aud":        "sts.amazonaws.com",
		"iat":        now.Unix(),
		"nbf":        now.Unix(),
		"exp":        now.Add(5 * time.Minute).Unix(),
		"repository": "octo-org/octo-repo",
		"ref":        "refs/heads/main",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

// testIssuer is a local OpenID provider: discovery document and JWKS on
// loopback, counting fetches of the key set.
type testIssuer struct {
	srv       *httptest.Server
	url       string
	mu        sync.Mutex
	jwks      []byte
	fetches   atomic.Int32
	discovery func(iss string) string // overrides the discovery document
}

func newTestIssuer(t *testing.T, jwks []byte) *testIssuer {
	t.Helper()
	ti := &testIssuer{jwks: jwks}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oidc/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		doc := `{"issuer":"` + ti.url + `","jwks_uri":"` + ti.url + `/jwks","response_types_supported":["id_token"]}`
		if ti.discovery != nil {
			doc = ti.discovery(ti.url)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(doc))
	})
	mux.HandleFunc("GET /oidc/jwks", func(w http.ResponseWriter, r *http.Request) {
		ti.fetches.Add(1)
		ti.mu.Lock()
		b := ti.jwks
		ti.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	ti.url = ti.srv.URL + "/oidc"
	return ti
}

func (ti *testIssuer) setJWKS(b []byte) {
	ti.mu.Lock()
	ti.jwks = b
	ti.mu.Unlock()
}
