package sessiontoken

import (
	"crypto/rand"
	"io"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"
)

// testRand returns a deterministic random source for reproducible tests.
func testRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return mrand.NewChaCha8(s)
}

// mustServerKey returns a random server key with the given id.
func mustServerKey(tb testing.TB, id uint32) *ServerKey {
	tb.Helper()
	k, err := NewServerKey(rand.Reader, id)
	if err != nil {
		tb.Fatalf("NewServerKey() error = %v", err)
	}
	return k
}

// mustKeyring returns a keyring over keys.
func mustKeyring(tb testing.TB, keys ...*ServerKey) *Keyring {
	tb.Helper()
	kr, err := NewKeyring(keys...)
	if err != nil {
		tb.Fatalf("NewKeyring() error = %v", err)
	}
	return kr
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// userClaims are the claims of a GetSessionToken session.
func userClaims() Claims {
	return Claims{
		Account:      "123456789012",
		Type:         TypeGetSessionToken,
		PrincipalARN: "arn:aws:iam::123456789012:user/alice",
		UserID:       "AIDAEXAMPLEUSERID0001",
		SourceARN:    "arn:aws:iam::123456789012:user/alice",
		IssuedAt:     t0,
		Expires:      t0.Add(15 * time.Minute),
	}
}

// roleClaims are the claims of an AssumeRole session with every field set.
func roleClaims() Claims {
	return Claims{
		Account:           "123456789012",
		Type:              TypeAssumeRole,
		PrincipalARN:      "arn:aws:sts::123456789012:assumed-role/deploy/jenkins-42",
		UserID:            "AROAEXAMPLEROLEID0001:jenkins-42",
		SourceARN:         "arn:aws:iam::123456789012:user/alice",
		RoleARN:           "arn:aws:iam::123456789012:role/deploy",
		RoleID:            "AROAEXAMPLEROLEID0001",
		RoleSessionName:   "jenkins-42",
		IssuedAt:          t0,
		Expires:           t0.Add(time.Hour),
		MFA:               true,
		MFAAuthTime:       t0.Add(-time.Minute),
		SessionPolicies:   []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/*"}]}`},
		PolicyARNs:        []string{"arn:aws:iam::123456789012:policy/ReadProd"},
		Tags:              map[string]string{"team": "platform", "shortfuse:max-uses": "3", "<&>": "\"quoted\" ünïcode"},
		TransitiveTagKeys: []string{"team"},
		SourceIdentity:    "alice",
		MaxUses:           3,
	}
}

// mint mints c under kr with a fresh random source.
func mint(tb testing.TB, kr *Keyring, c Claims) (Credentials, Claims) {
	tb.Helper()
	cr, got, err := kr.Mint(c, rand.Reader)
	if err != nil {
		tb.Fatalf("Mint() error = %v", err)
	}
	return cr, got
}

// isBase32Upper reports whether s is made of upper-case RFC 4648 base32 letters.
func isBase32Upper(s string) bool {
	return strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
}
