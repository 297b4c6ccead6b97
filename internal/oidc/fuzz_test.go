package oidc

import (
	"context"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

// FuzzVerify: parsing and verifying arbitrary text never panics, and no
// token verifies unless it is exactly one that the key holder signed.
func FuzzVerify(f *testing.F) {
	k := testKeys()
	ks := mustKeySet(f, standardJWKS(f))
	good := claimsAt(testIss, t0)
	for _, tok := range []string{
		testutil.SignJWT(f, k.rsa, jose.RS256, "rsa-1", good),
		testutil.SignJWT(f, k.ec, jose.ES256, "ec-1", good),
		testutil.SignJWT(f, k.rsa, jose.RS256, "", good),
	} {
		f.Add(tok)
	}
	rsTok := testutil.SignJWT(f, k.rsa, jose.RS256, "rsa-1", good)
	for _, tok := range []string{
		noneToken(good),
		hs256WithPublicKey(f, &k.rsa.PublicKey, "rsa-1", good),
		testutil.TamperJWT(rsTok, testutil.WithClaims(good, "ref", "refs/heads/evil")),
		testutil.SignJWT(f, k.rsa2, jose.RS256, "rsa-1", good),
		rawToken(`{"alg":"RS256","kid":"rsa-1"}`, `{"iss":"`+testIss+`","iss":"x"}`, []byte{1, 2}),
		"a.b.c", "", "...",
	} {
		f.Add(tok)
	}
	cfg := Config{Issuer: testIss, ClientIDs: []string{"sts.amazonaws.com"}, Keys: StaticKeys(ks)}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := Parse(raw)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse error %T is not *Error", err)
			}
			return
		}
		c, err := Verify(context.Background(), tok, cfg, t0)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Verify error %T is not *Error", err)
			}
			return
		}
		// Only the seeds are signed, and they all carry the same claims: a
		// mutation that changes a claim and still verifies is a forgery.
		if c.Subject != good["sub"] {
			t.Fatalf("a token with subject %q verified", c.Subject)
		}
		_ = c.ConditionKeys()
	})
}

// FuzzParseKeySet: arbitrary JWKS documents never panic, and a parsed set
// only ever holds usable public keys.
func FuzzParseKeySet(f *testing.F) {
	k := testKeys()
	f.Add(standardJWKS(f))
	f.Add(jwksDoc(f, jwk(f, k.rsa, "priv", "RS256")))
	f.Add(jwksDoc(f, jwk(f, &k.p384.PublicKey, "p384", "")))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ks, err := ParseKeySet(b)
		if err != nil {
			return
		}
		for _, key := range ks.keys {
			if !key.IsPublic() || !key.Valid() {
				t.Fatalf("ParseKeySet kept an unusable key %+v", key)
			}
		}
	})
}
