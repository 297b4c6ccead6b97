package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	jose "github.com/go-jose/go-jose/v4"
)

// Limits of a JWKS document.
const (
	MaxKeySetBytes = 256 << 10 // bytes of one JWKS document
	MaxKeys        = 100       // keys in one set
	minRSABits     = 2048
)

// The algorithms a token may be signed with.
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// KeySet is the verification keys of one issuer: the RS256 and ES256
// public keys of a JWKS document (RFC 7517). It is immutable.
type KeySet struct {
	keys []jose.JSONWebKey
}

// private members of a JWK (RFC 7518 section 6): a set that carries any of
// them was published by mistake, and is refused rather than half-used.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth", "priv"}

// ParseKeySet parses a JWKS document ({"keys": [...]}). Keys that cannot
// verify RS256 or ES256 tokens are skipped: other key types, other curves,
// RSA keys shorter than 2048 bits, keys whose "use" is not "sig" or whose
// "alg" is neither RS256 nor ES256. It fails if the document is larger than
// MaxKeySetBytes, is not strict JSON, holds more than MaxKeys keys, holds
// any private or symmetric key material, or has no usable key.
func ParseKeySet(data []byte) (*KeySet, error) {
	if len(data) > MaxKeySetBytes {
		return nil, fmt.Errorf("JWKS document is larger than %d bytes", MaxKeySetBytes)
	}
	doc, err := decodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("JWKS document: %v", err)
	}
	raw, ok := doc["keys"].([]any)
	if !ok {
		return nil, errors.New(`JWKS document has no "keys" array`)
	}
	if len(raw) > MaxKeys {
		return nil, fmt.Errorf("JWKS document has %d keys; at most %d are accepted", len(raw), MaxKeys)
	}
	ks := &KeySet{}
	for i, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("JWKS key %d is not an object", i)
		}
		for _, p := range privateMembers {
			if _, has := m[p]; has {
				return nil, fmt.Errorf("JWKS key %d holds private or symmetric key material (%q); publish only public keys", i, p)
			}
		}
		if kty, _ := m["kty"].(string); kty == "oct" {
			return nil, fmt.Errorf("JWKS key %d is a symmetric key; publish only public keys", i)
		}
		k, ok := usableKey(m)
		if ok {
			ks.keys = append(ks.keys, k)
		}
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("JWKS document has no RS256 or ES256 signing key")
	}
	return ks, nil
}

// usableKey converts one JWK to a verification key, or reports false.
func usableKey(m map[string]any) (jose.JSONWebKey, bool) {
	kty, _ := m["kty"].(string)
	if kty != "RSA" && kty != "EC" {
		return jose.JSONWebKey{}, false
	}
	if use, has := m["use"]; has && use != "sig" {
		return jose.JSONWebKey{}, false
	}
	if alg, has := m["alg"]; has && alg != string(jose.RS256) && alg != string(jose.ES256) {
		return jose.JSONWebKey{}, false
	}
	b, err := json.Marshal(m)
	if err != nil {
		return jose.JSONWebKey{}, false
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(b); err != nil || !k.Valid() || !k.IsPublic() {
		return jose.JSONWebKey{}, false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits || (k.Algorithm != "" && k.Algorithm != string(jose.RS256)) {
			return jose.JSONWebKey{}, false
		}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() || (k.Algorithm != "" && k.Algorithm != string(jose.ES256)) {
			return jose.JSONWebKey{}, false
		}
	default:
		return jose.JSONWebKey{}, false
	}
	return k, true
}

// KeyIDs returns the key ids of the set, sorted ("" for keys without one).
func (ks *KeySet) KeyIDs() []string {
	out := make([]string, len(ks.keys))
	for i, k := range ks.keys {
		out[i] = k.KeyID
	}
	sort.Strings(out)
	return out
}

// candidates returns the keys that may have signed a token with this kid
// and alg: the key type must fit the algorithm, whatever the JWK says. A
// token without kid may be signed by any key of the right type.
func (ks *KeySet) candidates(kid string, alg jose.SignatureAlgorithm) []any {
	var out []any
	for _, k := range ks.keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if alg == jose.RS256 {
				out = append(out, pub)
			}
		case *ecdsa.PublicKey:
			if alg == jose.ES256 && pub.Curve == elliptic.P256() {
				out = append(out, pub)
			}
		}
	}
	return out
}
