package oidc

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

func TestParseKeySet(t *testing.T) {
	k := testKeys()
	rsaKey := jwk(t, &k.rsa.PublicKey, "rsa-1", "RS256")
	ecKey := jwk(t, &k.ec.PublicKey, "ec-1", "ES256")
	private := jwk(t, k.rsa, "rsa-priv", "RS256")
	many := make([]map[string]any, MaxKeys+1)
	for i := range many {
		many[i] = ecKey
	}
	tests := []struct {
		name    string
		doc     []byte
		wantIDs []string
		errText string
	}{
		{"ok/rsa-and-ec", jwksDoc(t, rsaKey, ecKey), []string{"ec-1", "rsa-1"}, ""},
		{"ok/no-alg-no-use", jwksDoc(t, testutil.WithClaims(rsaKey, "alg", nil, "use", nil)), []string{"rsa-1"}, ""},
		{"ok/skips-enc-key", jwksDoc(t, rsaKey, testutil.WithClaims(ecKey, "use", "enc")), []string{"rsa-1"}, ""},
		{"ok/skips-rs512-key", jwksDoc(t, ecKey, testutil.WithClaims(rsaKey, "alg", "RS512")), []string{"ec-1"}, ""},
		{"ok/skips-okp", jwksDoc(t, ecKey, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}), []string{"ec-1"}, ""},
		{"ok/skips-short-rsa", jwksDoc(t, ecKey, jwk(t, &k.rsa1024.PublicKey, "short", "")), []string{"ec-1"}, ""},
		{"ok/skips-p384", jwksDoc(t, rsaKey, jwk(t, &k.p384.PublicKey, "p384", "")), []string{"rsa-1"}, ""},
		{"ok/skips-alg-mismatch", jwksDoc(t, ecKey, testutil.WithClaims(rsaKey, "alg", "ES256")), []string{"ec-1"}, ""},

		{"fail/private-key", jwksDoc(t, rsaKey, private), nil, "private"},
		{"fail/symmetric", jwksDoc(t, rsaKey, map[string]any{"kty": "oct", "kid": "h"}), nil, "symmetric"},
		{"fail/no-usable", jwksDoc(t, jwk(t, &k.p384.PublicKey, "p384", "")), nil, "no RS256 or ES256"},
		{"fail/empty", jwksDoc(t), nil, "no RS256 or ES256"},
		{"fail/no-keys", []byte(`{"key":[]}`), nil, `no "keys"`},
		{"fail/not-json", []byte(`keys`), nil, "JWKS document"},
		{"fail/dup-key", []byte(`{"keys":[],"keys":[]}`), nil, "twice"},
		{"fail/too-many", jwksDoc(t, many...), nil, "at most"},
		{"fail/too-large", append([]byte(`{"keys":[],"pad":"`), append([]byte(strings.Repeat("x", MaxKeySetBytes)), '"', '}')...), nil, "larger"},
		{"fail/key-not-object", []byte(`{"keys":["x"]}`), nil, "not an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := ParseKeySet(tc.doc)
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("ParseKeySet() = %v, want error containing %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeySet() = %v", err)
			}
			if got := ks.KeyIDs(); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("KeyIDs() = %q, want %q", got, tc.wantIDs)
			}
		})
	}
}

// A private key never appears in the error that refuses it.
func TestParseKeySetErrorHasNoKeyMaterial(t *testing.T) {
	k := testKeys()
	priv := jwk(t, k.rsa, "rsa-priv", "RS256")
	_, err := ParseKeySet(jwksDoc(t, priv))
	if err == nil {
		t.Fatal("ParseKeySet() accepted a private key")
	}
	d, _ := json.Marshal(priv["d"])
	if strings.Contains(err.Error(), strings.Trim(string(d), `"`)[:16]) {
		t.Errorf("error %q contains private key material", err)
	}
}
