package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

// The keys of the shared test issuers, and two the checks must refuse:
// made once per test process, as RSA generation is slow.
var testKeys = sync.OnceValue(func() struct {
	rsa, rsa2 *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
	rsa1024   *rsa.PrivateKey
	p384      *ecdsa.PrivateKey
} {
	shared := testutil.OIDCKeys()
	k := struct {
		rsa, rsa2 *rsa.PrivateKey
		ec        *ecdsa.PrivateKey
		rsa1024   *rsa.PrivateKey
		p384      *ecdsa.PrivateKey
	}{rsa: shared.RSA, rsa2: shared.RSA2, ec: shared.EC}
	var err error
	if k.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
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
	return testutil.ForgeJWT(`{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`, claims, der)
}

func noneToken(claims map[string]any) string {
	return testutil.ForgeJWT(`{"alg":"none","typ":"JWT"}`, claims, nil)
}

// claimsAt are valid claims for iss issued at now.
func claimsAt(iss string, now time.Time) map[string]any {
	return testutil.GitHubClaims(iss, now)
}
