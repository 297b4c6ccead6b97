package oidc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

const testIss = "https://token.actions.githubusercontent.com"

func mustKeySet(tb testing.TB, b []byte) *KeySet {
	tb.Helper()
	ks, err := ParseKeySet(b)
	if err != nil {
		tb.Fatalf("ParseKeySet() = %v", err)
	}
	return ks
}

func wantReason(t *testing.T, err error, want Reason) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Fatalf("error = %v, want nil", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *oidc.Error with reason %v", err, err, want)
	}
	if e.Reason != want {
		t.Fatalf("reason = %v (%v), want %v", e.Reason, e, want)
	}
}

func TestVerifyAcceptsOnlyAGoodSignatureThenChecksClaims(t *testing.T) {
	k := testKeys()
	ks := mustKeySet(t, standardJWKS(t))
	cfg := Config{Issuer: testIss, ClientIDs: []string{"other", "sts.amazonaws.com"}, Keys: StaticKeys(ks)}
	now := t0
	good := claimsAt(testIss, now)
	rsTok := testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", good)
	tests := []struct {
		name  string
		token string
		now   time.Time
		want  Reason
	}{
		{"ok/rs256", rsTok, now, 0},
		{"ok/es256", testutil.SignJWT(t, k.ec, jose.ES256, "ec-1", good), now, 0},
		{"ok/no-kid", testutil.SignJWT(t, k.rsa, jose.RS256, "", good), now, 0},
		{"ok/aud-list", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "aud", []string{"x", "sts.amazonaws.com"})), now, 0},
		{"ok/no-nbf", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "nbf", nil)), now, 0},
		{"ok/trailing-newline", rsTok + "\n", now, 0},
		{"ok/iss-trailing-slash", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "iss", testIss+"/")), now, 0},
		{"ok/fractional-times", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "exp", float64(now.Unix())+60.5)), now, 0},
		{"ok/exp-within-skew", rsTok, now.Add(5*time.Minute + 59*time.Second), 0},
		{"ok/nbf-within-skew", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "nbf", now.Add(59*time.Second).Unix())), now, 0},

		{"fail/expired-at-skew", rsTok, now.Add(6 * time.Minute), ReasonExpired},
		{"fail/expired", rsTok, now.Add(time.Hour), ReasonExpired},
		{"fail/not-yet-valid", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "nbf", now.Add(2*time.Minute).Unix())), now, ReasonNotYetValid},
		{"fail/issued-in-future", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "iat", now.Add(2*time.Minute).Unix())), now, ReasonIssuedInFuture},
		{"fail/wrong-audience", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "aud", "someone-else")), now, ReasonAudience},
		{"fail/empty-aud-list", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "aud", []string{})), now, ReasonMalformed},
		{"fail/no-aud", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "aud", nil)), now, ReasonMalformed},
		{"fail/wrong-issuer", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "iss", "https://gitlab.com")), now, ReasonIssuer},
		{"fail/issuer-http", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "iss", "http://token.actions.githubusercontent.com")), now, ReasonIssuer},
		{"fail/alg-none", noneToken(good), now, ReasonAlgorithm},
		{"fail/hs256-public-key", hs256WithPublicKey(t, &k.rsa.PublicKey, "rsa-1", good), now, ReasonAlgorithm},
		{"fail/rs384", testutil.SignJWT(t, k.rsa, jose.RS384, "rsa-1", good), now, ReasonAlgorithm},
		{"fail/ps256", testutil.SignJWT(t, k.rsa, jose.PS256, "rsa-1", good), now, ReasonAlgorithm},
		{"fail/unknown-kid", testutil.SignJWT(t, k.rsa2, jose.RS256, "rsa-2", good), now, ReasonUnknownKey},
		{"fail/other-key-same-kid", testutil.SignJWT(t, k.rsa2, jose.RS256, "rsa-1", good), now, ReasonSignature},
		{"fail/es256-with-rsa-kid", testutil.SignJWT(t, k.ec, jose.ES256, "rsa-1", good), now, ReasonUnknownKey},
		{"fail/rs256-header-on-ec-sig", rawToken(`{"alg":"RS256","kid":"ec-1"}`, `{"iss":"`+testIss+`"}`, make([]byte, 64)), now, ReasonUnknownKey},
		{"fail/tampered-payload", testutil.TamperJWT(rsTok, testutil.WithClaims(good, "ref", "refs/heads/evil")), now, ReasonSignature},
		{"fail/tampered-then-expired", testutil.TamperJWT(rsTok, testutil.WithClaims(good, "exp", now.Add(-time.Hour).Unix())), now, ReasonSignature},
		{"fail/no-sub", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "sub", nil)), now, ReasonClaims},
		{"fail/sub-too-long", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "sub", strings.Repeat("s", 256))), now, ReasonClaims},
		{"fail/sub-control-char", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "sub", "a\nb")), now, ReasonClaims},
		{"fail/sub-not-string", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "sub", 7)), now, ReasonClaims},
		{"fail/claims-differ-by-case", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "Ref", "refs/heads/evil")), now, ReasonClaims},
		{"fail/no-exp", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "exp", nil)), now, ReasonMalformed},
		{"fail/no-iat", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "iat", nil)), now, ReasonMalformed},
		{"fail/exp-string", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "exp", "tomorrow")), now, ReasonMalformed},
		{"fail/exp-negative", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "exp", -1)), now, ReasonMalformed},
		{"fail/amr-not-list", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "amr", 3)), now, ReasonMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.token)
			if err != nil {
				wantReason(t, err, tc.want)
				return
			}
			c, err := Verify(context.Background(), tok, cfg, tc.now)
			wantReason(t, err, tc.want)
			if err != nil {
				if strings.Contains(err.Error(), tc.token) {
					t.Errorf("error %q contains the token", err)
				}
				return
			}
			if c.Subject != good["sub"] || c.ClientID != "sts.amazonaws.com" {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

func TestParseRefusesMalformedTokens(t *testing.T) {
	k := testKeys()
	good := claimsAt(testIss, t0)
	tests := []struct {
		name  string
		token string
		want  Reason
	}{
		{"ok/rs256", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", good), 0},
		{"fail/empty", "", ReasonMalformed},
		{"fail/too-long", strings.Repeat("a", MaxTokenLen+1), ReasonMalformed},
		{"fail/two-parts", "a.b", ReasonMalformed},
		{"fail/json-serialization", `{"payload":"e30","signatures":[]}`, ReasonMalformed},
		{"fail/header-not-base64", "!!!.e30.e30", ReasonMalformed},
		{"fail/header-not-json", rawToken(`nope`, `{}`, []byte{1}), ReasonMalformed},
		{"fail/header-dup-alg", rawToken(`{"alg":"RS256","alg":"none"}`, `{"iss":"x"}`, []byte{1}), ReasonMalformed},
		{"fail/no-alg", rawToken(`{"kid":"rsa-1"}`, `{"iss":"x"}`, []byte{1}), ReasonMalformed},
		{"fail/alg-none", noneToken(good), ReasonAlgorithm},
		{"fail/alg-None", rawToken(`{"alg":"None"}`, `{"iss":"x"}`, nil), ReasonAlgorithm},
		{"fail/alg-hs256", hs256WithPublicKey(t, &k.rsa.PublicKey, "rsa-1", good), ReasonAlgorithm},
		{"fail/crit", rawToken(`{"alg":"RS256","crit":["exp"],"exp":1}`, `{"iss":"x"}`, []byte{1}), ReasonMalformed},
		{"fail/kid-not-string", rawToken(`{"alg":"RS256","kid":7}`, `{"iss":"x"}`, []byte{1}), ReasonMalformed},
		{"fail/payload-dup-sub", rawToken(`{"alg":"RS256"}`, `{"iss":"x","sub":"a","sub":"b"}`, []byte{1}), ReasonMalformed},
		{"fail/payload-invalid-utf8", rawToken(`{"alg":"RS256"}`, "{\"iss\":\"x\xff\"}", []byte{1}), ReasonMalformed},
		{"fail/payload-trailing", rawToken(`{"alg":"RS256"}`, `{"iss":"x"} {}`, []byte{1}), ReasonMalformed},
		{"fail/payload-array", rawToken(`{"alg":"RS256"}`, `["iss"]`, []byte{1}), ReasonMalformed},
		{"fail/no-iss", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "iss", nil)), ReasonMalformed},
		{"fail/iss-number", testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", testutil.WithClaims(good, "iss", 1)), ReasonMalformed},
		{"fail/empty-signature", rawToken(`{"alg":"RS256"}`, `{"iss":"x"}`, nil), ReasonMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.token)
			wantReason(t, err, tc.want)
			if err == nil && (tok.Issuer != testIss || tok.KeyID != "rsa-1" || tok.Algorithm != "RS256") {
				t.Errorf("Parse() = %+v", tok)
			}
		})
	}
}

func TestConditionKeys(t *testing.T) {
	k := testKeys()
	ks := mustKeySet(t, standardJWKS(t))
	cfg := Config{Issuer: testIss, ClientIDs: []string{"sts.amazonaws.com"}, Keys: StaticKeys(ks)}
	claims := testutil.WithClaims(claimsAt(testIss, t0),
		"aud", []string{"other", "sts.amazonaws.com"},
		"amr", []string{"pwd", "mfa"},
		"ref_protected", "true",
		"run_attempt", 2,
		"ok", true,
		"nested", map[string]any{"a": "b"},
		"mixed", []any{"a", 1},
		"https://aws.amazon.com/tags", map[string]any{},
		"long", strings.Repeat("x", 1025),
	)
	tok, err := Parse(testutil.SignJWT(t, k.rsa, jose.RS256, "rsa-1", claims))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Verify(context.Background(), tok, cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	got := c.ConditionKeys()
	p := "token.actions.githubusercontent.com:"
	want := map[string][]string{
		p + "sub":           {"repo:octo-org/octo-repo:ref:refs/heads/main"},
		p + "aud":           {"sts.amazonaws.com"},
		p + "amr":           {"pwd", "mfa"},
		p + "repository":    {"octo-org/octo-repo"},
		p + "ref":           {"refs/heads/main"},
		p + "ref_protected": {"true"},
		p + "run_attempt":   {"2"},
		p + "ok":            {"true"},
		p + "iss":           {testIss},
		p + "iat":           {"1772366400"},
		p + "nbf":           {"1772366400"},
		p + "exp":           {"1772366700"},
	}
	for key, v := range want {
		if !slices.Equal(got[key], v) {
			t.Errorf("ConditionKeys()[%q] = %q, want %q", key, got[key], v)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("ConditionKeys() has unexpected key %q", key)
		}
	}
	if !slices.Equal(c.AMR, []string{"pwd", "mfa"}) || len(c.Audience) != 2 {
		t.Errorf("claims = %+v", c)
	}
	if v, ok := c.Claim("repository"); !ok || v != "octo-org/octo-repo" {
		t.Errorf("Claim(repository) = %q, %v", v, ok)
	}
}

// keySourceFunc adapts a function to KeySource.
type keySourceFunc func(ctx context.Context, now time.Time, refresh bool) (*KeySet, error)

func (f keySourceFunc) KeySet(ctx context.Context, now time.Time, refresh bool) (*KeySet, error) {
	return f(ctx, now, refresh)
}

// TestVerifyRefreshOnUnknownKid: an unknown kid asks the source once for a
// fresh set, and a known kid never does.
func TestVerifyRefreshOnUnknownKid(t *testing.T) {
	k := testKeys()
	oldSet := mustKeySet(t, jwksDoc(t, jwk(t, &k.rsa.PublicKey, "rsa-1", "")))
	newSet := mustKeySet(t, jwksDoc(t, jwk(t, &k.rsa.PublicKey, "rsa-1", ""), jwk(t, &k.rsa2.PublicKey, "rsa-2", "")))
	tests := []struct {
		name     string
		kid      string
		after    *KeySet
		want     Reason
		refreshs int
	}{
		{"ok/known-kid-no-refresh", "rsa-1", newSet, 0, 0},
		{"ok/rotated-key-found-after-refresh", "rsa-2", newSet, 0, 1},
		{"fail/still-unknown-after-refresh", "rsa-2", oldSet, ReasonUnknownKey, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			refreshes := 0
			src := keySourceFunc(func(_ context.Context, _ time.Time, refresh bool) (*KeySet, error) {
				if refresh {
					refreshes++
					return tc.after, nil
				}
				return oldSet, nil
			})
			key := k.rsa
			if tc.kid == "rsa-2" {
				key = k.rsa2
			}
			tok, err := Parse(testutil.SignJWT(t, key, jose.RS256, tc.kid, claimsAt(testIss, t0)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Verify(context.Background(), tok, Config{Issuer: testIss, ClientIDs: []string{"sts.amazonaws.com"}, Keys: src}, t0)
			wantReason(t, err, tc.want)
			if refreshes != tc.refreshs {
				t.Errorf("refreshes = %d, want %d", refreshes, tc.refreshs)
			}
		})
	}
}

func TestVerifySkew(t *testing.T) {
	k := testKeys()
	ks := mustKeySet(t, standardJWKS(t))
	exp := t0.Add(5 * time.Minute)
	tok, err := Parse(testutil.SignJWT(t, k.ec, jose.ES256, "ec-1", claimsAt(testIss, t0)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Issuer: testIss, ClientIDs: []string{"sts.amazonaws.com"}, Keys: StaticKeys(ks), Skew: 10 * time.Second}
	// Boundary at exp+skew: valid one second before, expired at and after.
	for _, tc := range []struct {
		name string
		now  time.Time
		want Reason
	}{
		{"ok/t-1s", exp.Add(9 * time.Second), 0},
		{"fail/t", exp.Add(10 * time.Second), ReasonExpired},
		{"fail/t+1s", exp.Add(11 * time.Second), ReasonExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tok, cfg, tc.now)
			wantReason(t, err, tc.want)
		})
	}
}
