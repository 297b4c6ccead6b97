package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// OIDCKeySet are the signing keys of the test OpenID providers: two RSA
// keys and an EC P-256 key.
type OIDCKeySet struct {
	RSA, RSA2 *rsa.PrivateKey
	EC        *ecdsa.PrivateKey
}

// OIDCKeys returns the keys, made once per test process (RSA generation
// is slow).
var OIDCKeys = sync.OnceValue(func() OIDCKeySet {
	var k OIDCKeySet
	var err error
	if k.RSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.RSA2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.EC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	return k
})

// JWKS is the JSON Web Key Set of keys.
func JWKS(tb testing.TB, keys ...jose.JSONWebKey) []byte {
	tb.Helper()
	if keys == nil {
		keys = []jose.JSONWebKey{}
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// StandardJWKS holds the public keys of OIDCKeys().RSA as "rsa-1" (RS256)
// and OIDCKeys().EC as "ec-1" (ES256).
func StandardJWKS(tb testing.TB) []byte {
	tb.Helper()
	k := OIDCKeys()
	return JWKS(tb,
		jose.JSONWebKey{Key: &k.RSA.PublicKey, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
		jose.JSONWebKey{Key: &k.EC.PublicKey, KeyID: "ec-1", Algorithm: "ES256", Use: "sig"})
}

// SignJWT signs claims with key as alg, with the kid header unless kid is
// "".
func SignJWT(tb testing.TB, key any, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
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

// ForgeJWT makes a token no issuer signed, with header as its header:
// with no signature when hmacKey is nil, else with an HS256 MAC keyed with
// hmacKey (the algorithm-confusion attack when it is a public key).
func ForgeJWT(header string, claims map[string]any, hmacKey []byte) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(claims)
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(payload)
	if hmacKey == nil {
		return signing + "."
	}
	m := hmac.New(sha256.New, hmacKey)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

// TamperJWT replaces the payload of a signed token, keeping its signature.
func TamperJWT(tok string, claims map[string]any) string {
	parts := strings.Split(tok, ".")
	payload, _ := json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// GitHubClaims are claims like those of a GitHub Actions token of issuer
// iss for octo-org/octo-repo on main, issued at now for 5 minutes.
func GitHubClaims(iss string, now time.Time) map[string]any {
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

// WithClaims returns a copy of m with the claims of kv (name, value, ...)
// set, or removed where the value is nil.
func WithClaims(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]any{}
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

// OIDCIssuer is an OpenID provider on loopback: its discovery document and
// its JWKS, whose fetches it counts. Its issuer URL ends in /oidc.
type OIDCIssuer struct {
	URL     string
	Fetches atomic.Int32
	// Discovery, if set, makes the discovery document of the issuer iss.
	Discovery func(iss string) string

	mu   sync.Mutex
	jwks []byte
}

// NewOIDCIssuer starts an issuer serving jwks until t ends.
func NewOIDCIssuer(t testing.TB, jwks []byte) *OIDCIssuer {
	t.Helper()
	is := &OIDCIssuer{jwks: jwks}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oidc/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		doc := `{"issuer":"` + is.URL + `","jwks_uri":"` + is.URL + `/jwks"}`
		if is.Discovery != nil {
			doc = is.Discovery(is.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(doc))
	})
	mux.HandleFunc("GET /oidc/jwks", func(w http.ResponseWriter, r *http.Request) {
		is.Fetches.Add(1)
		is.mu.Lock()
		b := is.jwks
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	is.URL = srv.URL + "/oidc"
	return is
}

// SetJWKS changes the key set the issuer serves.
func (is *OIDCIssuer) SetJWKS(b []byte) {
	is.mu.Lock()
	is.jwks = b
	is.mu.Unlock()
}

// Prefix is the condition-key prefix of the issuer (its URL without the
// scheme).
func (is *OIDCIssuer) Prefix() string { return strings.TrimPrefix(is.URL, "http://") }
