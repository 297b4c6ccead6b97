package sessiontoken

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMintOpen(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1))
	withSubsecond := userClaims()
	withSubsecond.IssuedAt = t0.Add(300 * time.Millisecond).In(time.FixedZone("X", 3600))
	withSubsecond.Expires = t0.Add(15*time.Minute + 900*time.Millisecond)
	callerIDs := userClaims()
	callerIDs.SessionID, callerIDs.AccessKeyID, callerIDs.KeyID = strings.Repeat("0", 40), "ASIAAAAAAAAAAAAAAAAA", 99
	webIdentity := userClaims()
	webIdentity.Type = TypeAssumeRoleWithWebIdentity
	tests := []struct {
		name   string
		claims Claims
	}{
		{"ok/get-session-token", userClaims()},
		{"ok/assume-role-every-field", roleClaims()},
		{"ok/web-identity", webIdentity},
		{"ok/subsecond-times-truncated", withSubsecond},
		{"ok/caller-ids-overwritten", callerIDs},
		{"ok/empty-lists", func() Claims {
			c := roleClaims()
			c.SessionPolicies, c.PolicyARNs, c.Tags, c.TransitiveTagKeys = []string{}, []string{}, map[string]string{}, []string{}
			return c
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, minted := mint(t, kr, tt.claims)

			// Credentials are AWS-shaped.
			if len(cr.AccessKeyID) != 20 || !strings.HasPrefix(cr.AccessKeyID, "ASIA") || !isBase32Upper(cr.AccessKeyID[4:]) {
				t.Errorf("AccessKeyID = %q, want ASIA + 16 base32 characters", cr.AccessKeyID)
			}
			if raw, err := base64.StdEncoding.DecodeString(cr.SecretAccessKey); len(cr.SecretAccessKey) != 40 || err != nil || len(raw) != 30 {
				t.Errorf("SecretAccessKey has %d characters, want 40 of base64", len(cr.SecretAccessKey))
			}
			if !strings.HasPrefix(cr.SessionToken, tokenPrefix) || strings.ContainsAny(cr.SessionToken, ":+/= \n") {
				t.Errorf("SessionToken = %q, want %q + base64url", cr.SessionToken, tokenPrefix)
			}
			if len(cr.SessionToken) > 2048 {
				t.Errorf("len(SessionToken) = %d, want <= 2048", len(cr.SessionToken))
			}
			if !cr.Expiration.Equal(minted.Expires) {
				t.Errorf("Expiration = %v, want %v", cr.Expiration, minted.Expires)
			}

			// Mint filled and normalised the claims.
			if !validSessionID(minted.SessionID) || minted.SessionID == tt.claims.SessionID {
				t.Errorf("SessionID = %q, want fresh 40 hex digits", minted.SessionID)
			}
			if minted.AccessKeyID != cr.AccessKeyID || minted.KeyID != 1 {
				t.Errorf("claims AccessKeyID, KeyID = %q, %d; want %q, 1", minted.AccessKeyID, minted.KeyID, cr.AccessKeyID)
			}
			want := tt.claims.IssuedAt.Truncate(time.Second).UTC()
			if minted.IssuedAt != want || minted.IssuedAt.Location() != time.UTC {
				t.Errorf("IssuedAt = %v, want %v", minted.IssuedAt, want)
			}
			if minted.Expires.Unix() != tt.claims.Expires.Unix() || minted.Expires.Nanosecond() != 0 {
				t.Errorf("Expires = %v, want %v truncated", minted.Expires, tt.claims.Expires)
			}

			got, err := kr.Open(cr.SessionToken, cr.AccessKeyID)
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			if !reflect.DeepEqual(*got, minted) {
				t.Errorf("Open() = %+v\nwant     %+v", *got, minted)
			}
			// Every caller-provided field survives the round trip.
			exp := tt.claims
			exp.SessionID, exp.AccessKeyID, exp.KeyID = minted.SessionID, minted.AccessKeyID, minted.KeyID
			exp.IssuedAt, exp.Expires = minted.IssuedAt, minted.Expires
			if !exp.MFAAuthTime.IsZero() {
				exp.MFAAuthTime = exp.MFAAuthTime.UTC()
			}
			for _, p := range []*[]string{&exp.SessionPolicies, &exp.PolicyARNs, &exp.TransitiveTagKeys} {
				if len(*p) == 0 {
					*p = nil
				}
			}
			if len(exp.Tags) == 0 {
				exp.Tags = nil
			}
			if !reflect.DeepEqual(*got, exp) {
				t.Errorf("Open() = %+v\nwant     %+v", *got, exp)
			}
		})
	}
}

// Strings that are not UTF-8 are sealed with U+FFFD in place of their bad
// bytes, and the claims Mint returns say so, as Open reads them.
func TestMintOpenInvalidUTF8(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1))
	c := roleClaims()
	c.RoleSessionName, c.SourceIdentity = "s\xffx", "\xc3"
	c.Tags = map[string]string{"k\xfe": "v\xff"}
	cr, minted := mint(t, kr, c)
	got, err := kr.Open(cr.SessionToken, cr.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, minted) {
		t.Errorf("Open() = %+v\nMint() = %+v", *got, minted)
	}
	if minted.RoleSessionName != "s\uFFFDx" || minted.SourceIdentity != "\uFFFD" || minted.Tags["k\uFFFD"] != "v\uFFFD" {
		t.Errorf("Mint() = %q, %q, %q; want U+FFFD for the bad bytes", minted.RoleSessionName, minted.SourceIdentity, minted.Tags)
	}
}

func TestMintDistinctSessions(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1))
	seen := map[string]bool{}
	for range 100 {
		cr, c := mint(t, kr, userClaims())
		for _, v := range []string{c.SessionID, cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken} {
			if seen[v] {
				t.Fatalf("value repeated across sessions")
			}
			seen[v] = true
		}
	}
}

func TestMintFailures(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1))
	with := func(f func(*Claims)) Claims { c := userClaims(); f(&c); return c }
	huge := strings.Repeat("x", MaxTokenLen)
	tests := []struct {
		name   string
		kr     *Keyring
		claims Claims
		rand   []byte
		want   error // nil: any error
	}{
		{"fail/unknown-type", kr, with(func(c *Claims) { c.Type = "assumerole" }), nil, nil},
		{"fail/no-type", kr, with(func(c *Claims) { c.Type = "" }), nil, nil},
		{"fail/issued-at-unset", kr, with(func(c *Claims) { c.IssuedAt = time.Time{} }), nil, nil},
		{"fail/expires-unset", kr, with(func(c *Claims) { c.Expires = time.Time{} }), nil, nil},
		{"fail/expires-equal-issued", kr, with(func(c *Claims) { c.Expires = c.IssuedAt }), nil, nil},
		{"fail/expires-same-second", kr, with(func(c *Claims) { c.Expires = c.IssuedAt.Add(999 * time.Millisecond) }), nil, nil},
		{"fail/expires-before-issued", kr, with(func(c *Claims) { c.Expires = c.IssuedAt.Add(-time.Second) }), nil, nil},
		{"fail/negative-max-uses", kr, with(func(c *Claims) { c.MaxUses = -1 }), nil, nil},
		{"fail/too-large", kr, with(func(c *Claims) { c.SessionPolicies = []string{huge} }), nil, ErrTooLarge},
		{"fail/rand-short", kr, userClaims(), make([]byte, 31), nil},
		{"fail/empty-keyring", func() *Keyring { k := mustKeyring(t, mustServerKey(t, 1)); k.Remove(1); return k }(), userClaims(), nil, ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r = rand.Reader
			if tt.rand != nil {
				r = bytes.NewReader(tt.rand)
			}
			cr, c, err := tt.kr.Mint(tt.claims, r)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Mint() error = %v, want %v", err, tt.want)
			}
			if cr != (Credentials{}) || c.SessionID != "" {
				t.Errorf("Mint() returned credentials or claims with an error")
			}
		})
	}
}

func TestTokenSize(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1))
	// AWS's own limits for AssumeRole: a 2048-character session policy,
	// 10 policy ARNs; plus a handful of tags.
	c := roleClaims()
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` +
		strings.Repeat("b", 2048)
	c.SessionPolicies = []string{policy[:2046] + `"}`}
	c.PolicyARNs = nil
	for i := range 10 {
		c.PolicyARNs = append(c.PolicyARNs, fmt.Sprintf("arn:aws:iam::123456789012:policy/some/path/Policy-%02d", i))
	}
	for i := range 10 {
		c.Tags[fmt.Sprintf("tag-key-%02d", i)] = strings.Repeat("v", 64)
	}
	cr, _ := mint(t, kr, c)
	if len(cr.SessionToken) > MaxTokenLen {
		t.Errorf("len(SessionToken) = %d, want <= %d", len(cr.SessionToken), MaxTokenLen)
	}
	small, _ := mint(t, kr, userClaims())
	t.Logf("token length: GetSessionToken %d, AssumeRole at limits %d", len(small.SessionToken), len(cr.SessionToken))
	if len(small.SessionToken) > 512 {
		t.Errorf("GetSessionToken token is %d characters, want <= 512", len(small.SessionToken))
	}
}

func TestOpenOtherAccessKeyID(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1))
	a, _ := mint(t, kr, userClaims())
	b, _ := mint(t, kr, userClaims())
	tests := []struct{ name, akid string }{
		{"fail/other-session", b.AccessKeyID},
		{"fail/empty", ""},
		{"fail/lower-case", strings.ToLower(a.AccessKeyID)},
		{"fail/akia-prefix", "AKIA" + a.AccessKeyID[4:]},
		{"fail/suffix", a.AccessKeyID + "A"},
		{"fail/prefix-only", a.AccessKeyID[:19]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := kr.Open(a.SessionToken, tt.akid); err != ErrInvalidToken {
				t.Errorf("Open() = %v, %v; want ErrInvalidToken", c, err)
			}
		})
	}
}

// assertInvalid fails t unless Open refuses token with exactly ErrInvalidToken.
func assertInvalid(t *testing.T, kr *Keyring, token, akid, what string) {
	t.Helper()
	if c, err := kr.Open(token, akid); err != ErrInvalidToken {
		t.Fatalf("Open(%s) = %v, %v; want ErrInvalidToken", what, c, err)
	}
}

func TestOpenTampering(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1), mustServerKey(t, 2))
	cr, _ := mint(t, kr, roleClaims())
	tok, akid := cr.SessionToken, cr.AccessKeyID
	raw, err := tokenEncoding.DecodeString(strings.TrimPrefix(tok, tokenPrefix))
	if err != nil {
		t.Fatal(err)
	}
	encode := func(b []byte) string { return tokenPrefix + tokenEncoding.EncodeToString(b) }
	if encode(raw) != tok {
		t.Fatal("token does not re-encode to itself")
	}

	t.Run("fail/every-bit-flip", func(t *testing.T) {
		for i := range len(raw) * 8 {
			b := bytes.Clone(raw)
			b[i/8] ^= 1 << (i % 8)
			assertInvalid(t, kr, encode(b), akid, fmt.Sprintf("bit %d flipped", i))
		}
	})
	t.Run("fail/every-truncation", func(t *testing.T) {
		for n := range len(raw) {
			assertInvalid(t, kr, encode(raw[:n]), akid, fmt.Sprintf("first %d bytes", n))
		}
		for n := range len(tok) {
			assertInvalid(t, kr, tok[:n], akid, fmt.Sprintf("first %d characters", n))
		}
	})
	t.Run("fail/appended-bytes", func(t *testing.T) {
		for _, extra := range [][]byte{{0}, {0xff}, raw[len(raw)-16:], raw} {
			assertInvalid(t, kr, encode(append(bytes.Clone(raw), extra...)), akid, "appended bytes")
		}
	})
	t.Run("fail/every-character-replaced", func(t *testing.T) {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for i := range len(tok) {
			for _, r := range []byte{alphabet[(strings.IndexByte(alphabet, tok[i])+1+i)%64], '=', ':', '+', '/', ' ', '\n'} {
				if r == tok[i] {
					continue
				}
				assertInvalid(t, kr, tok[:i]+string(r)+tok[i:][1:], akid, fmt.Sprintf("character %d replaced by %q", i, r))
			}
		}
	})
	t.Run("fail/text-variants", func(t *testing.T) {
		body := strings.TrimPrefix(tok, tokenPrefix)
		for _, v := range []struct{ name, tok string }{
			{"no-prefix", body},
			{"other-prefix", "sfs2." + body},
			{"upper-case-prefix", "SFS1." + body},
			{"padding", tok + "="},
			{"std-alphabet", tokenPrefix + base64.RawStdEncoding.EncodeToString(raw)},
			{"padded-encoding", tokenPrefix + base64.URLEncoding.EncodeToString(raw)},
			{"newline-inside", tok[:20] + "\n" + tok[20:]},
			{"crlf-inside", tok[:20] + "\r\n" + tok[20:]},
			{"trailing-newline", tok + "\n"},
			{"leading-space", " " + tok},
			{"trailing-char", tok + "A"},
			{"doubled", tok + tok},
			{"too-long", tokenPrefix + strings.Repeat("A", MaxTokenLen)},
			{"empty", ""},
			{"prefix-only", tokenPrefix},
		} {
			assertInvalid(t, kr, v.tok, akid, v.name)
		}
	})
	t.Run("ok/untouched-still-opens", func(t *testing.T) {
		if _, err := kr.Open(tok, akid); err != nil {
			t.Errorf("Open() error = %v", err)
		}
	})
}

func TestOpenUnknownKey(t *testing.T) {
	k1 := mustServerKey(t, 1)
	kr := mustKeyring(t, k1)
	cr, _ := mint(t, kr, userClaims())
	tests := []struct {
		name string
		kr   *Keyring
	}{
		{"fail/keyring-without-that-id", mustKeyring(t, mustServerKey(t, 2))},
		{"fail/same-id-other-key", mustKeyring(t, mustServerKey(t, 1))},
		{"fail/removed", func() *Keyring {
			k := mustKeyring(t, k1, mustServerKey(t, 2))
			k.Remove(1)
			return k
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertInvalid(t, tt.kr, cr.SessionToken, cr.AccessKeyID, "token of an unknown key")
		})
	}
	t.Run("ok/same-key-bytes-restored", func(t *testing.T) {
		restored, err := ServerKeyFromBytes(1, k1.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mustKeyring(t, restored).Open(cr.SessionToken, cr.AccessKeyID); err != nil {
			t.Errorf("Open() with restored key: %v", err)
		}
	})
	t.Run("fail/restored-under-other-id", func(t *testing.T) {
		moved, _ := ServerKeyFromBytes(2, k1.Bytes())
		assertInvalid(t, mustKeyring(t, moved), cr.SessionToken, cr.AccessKeyID, "key under another id")
	})
}

func TestRotatedKeyringOpensOldTokensAndMintsWithTheNewKey(t *testing.T) {
	k1, k2 := mustServerKey(t, 1), mustServerKey(t, 2)
	kr := mustKeyring(t, k1)
	old, oldClaims := mint(t, kr, userClaims())
	if err := kr.Add(k2); err != nil {
		t.Fatalf("Add() error = %v", err)
	}
	if id, ok := kr.ActiveKeyID(); id != 2 || !ok {
		t.Errorf("ActiveKeyID() = %d, %v; want 2, true", id, ok)
	}
	c, err := kr.Open(old.SessionToken, old.AccessKeyID)
	if err != nil {
		t.Fatalf("Open(old token) error = %v", err)
	}
	if c.KeyID != 1 {
		t.Errorf("old claims KeyID = %d, want 1", c.KeyID)
	}
	if s, err := kr.Secret(c); err != nil || s != old.SecretAccessKey {
		t.Errorf("Secret(old) = _, %v; want the minted secret", err)
	}
	fresh, freshClaims := mint(t, kr, userClaims())
	if freshClaims.KeyID != 2 {
		t.Errorf("new claims KeyID = %d, want 2", freshClaims.KeyID)
	}
	assertInvalid(t, mustKeyring(t, k1), fresh.SessionToken, fresh.AccessKeyID, "new token on a key-1-only ring")

	// Retiring key 1 kills its sessions, not the new ones.
	kr.Remove(1)
	assertInvalid(t, kr, old.SessionToken, old.AccessKeyID, "token of a removed key")
	if _, err := kr.Secret(&oldClaims); err != ErrInvalidToken {
		t.Errorf("Secret() under removed key: error = %v, want ErrInvalidToken", err)
	}
	if _, err := kr.Open(fresh.SessionToken, fresh.AccessKeyID); err != nil {
		t.Errorf("Open(new token) after removing key 1: %v", err)
	}
	// Removing the minting key falls back to the highest remaining one.
	kr.Add(mustServerKey(t, 5))
	kr.Add(mustServerKey(t, 3))
	kr.Remove(5)
	if id, _ := kr.ActiveKeyID(); id != 3 {
		t.Errorf("ActiveKeyID() after removing 5 = %d, want 3", id)
	}
	kr.Remove(2)
	kr.Remove(3)
	kr.Remove(3)
	if _, ok := kr.ActiveKeyID(); ok {
		t.Errorf("ActiveKeyID() on an empty ring: ok = true")
	}
}

func TestSecret(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1))
	a, ca := mint(t, kr, userClaims())
	b, cb := mint(t, kr, userClaims())
	openedA, err := kr.Open(a.SessionToken, a.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ok/equals-minted", func(t *testing.T) {
		for _, c := range []*Claims{&ca, openedA} {
			if s, err := kr.Secret(c); err != nil || s != a.SecretAccessKey {
				t.Errorf("Secret() = _, %v; want the minted secret", err)
			}
		}
	})
	t.Run("ok/other-replica-same-keys", func(t *testing.T) {
		k1 := mustServerKey(t, 1)
		r1, r2 := mustKeyring(t, k1), mustKeyring(t, func() *ServerKey { k, _ := ServerKeyFromBytes(1, k1.Bytes()); return k }())
		cr, _ := mint(t, r1, userClaims())
		c, err := r2.Open(cr.SessionToken, cr.AccessKeyID)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := r2.Secret(c); s != cr.SecretAccessKey {
			t.Errorf("replica derived another secret")
		}
	})
	t.Run("fail/session-a-secret-does-not-verify-b", func(t *testing.T) {
		sb, err := kr.Secret(&cb)
		if err != nil {
			t.Fatal(err)
		}
		if sb != b.SecretAccessKey || a.SecretAccessKey == b.SecretAccessKey {
			t.Fatalf("secrets of two sessions coincide")
		}
		// A request signed with A's secret does not verify with B's.
		msg := []byte("AWS4-HMAC-SHA256\n20260301T120000Z\n20260301/us-east-1/sts/aws4_request\nabc")
		sig := func(secret string) []byte {
			m := hmac.New(sha256.New, []byte("AWS4"+secret))
			m.Write(msg)
			return m.Sum(nil)
		}
		if hmac.Equal(sig(a.SecretAccessKey), sig(b.SecretAccessKey)) {
			t.Errorf("signature with A's secret verifies under B's")
		}
	})
	t.Run("fail/same-session-id-other-key", func(t *testing.T) {
		other := mustKeyring(t, mustServerKey(t, 1))
		if s, err := other.Secret(&ca); err != nil || s == a.SecretAccessKey {
			t.Errorf("Secret() under another key = _, %v; want a different secret", err)
		}
	})
	tests := []struct {
		name string
		c    *Claims
	}{
		{"fail/nil", nil},
		{"fail/unknown-key-id", func() *Claims { c := ca; c.KeyID = 9; return &c }()},
		{"fail/session-id-of-b-access-key-of-a", func() *Claims { c := ca; c.SessionID = cb.SessionID; return &c }()},
		{"fail/access-key-mismatch", func() *Claims { c := ca; c.AccessKeyID = cb.AccessKeyID; return &c }()},
		{"fail/malformed-session-id", func() *Claims { c := ca; c.SessionID = strings.ToUpper(c.SessionID); return &c }()},
		{"fail/empty-claims", &Claims{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := kr.Secret(tt.c); err != ErrInvalidToken || s != "" {
				t.Errorf("Secret() = %q, %v; want ErrInvalidToken", s, err)
			}
		})
	}
}

func TestExpired(t *testing.T) {
	c := Claims{Expires: t0}
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"ok/live/t-1s", t0.Add(-time.Second), false},
		{"ok/live/t-1ns", t0.Add(-time.Nanosecond), false},
		{"ok/live/long-before", t0.Add(-time.Hour), false},
		{"fail/expired/t", t0, true},
		{"fail/expired/t-in-other-zone", t0.In(time.FixedZone("X", -5*3600)), true},
		{"fail/expired/t+1ns", t0.Add(time.Nanosecond), true},
		{"fail/expired/t+1s", t0.Add(time.Second), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Expired(tt.now); got != tt.want {
				t.Errorf("Expired(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
	t.Run("ok/minted-claims", func(t *testing.T) {
		kr := mustKeyring(t, mustServerKey(t, 1))
		cr, _ := mint(t, kr, userClaims())
		c, err := kr.Open(cr.SessionToken, cr.AccessKeyID)
		if err != nil {
			t.Fatal(err)
		}
		exp := t0.Add(15 * time.Minute)
		if c.Expired(exp.Add(-time.Second)) || !c.Expired(exp) || !c.Expired(exp.Add(time.Second)) {
			t.Errorf("Expired() boundary wrong around %v", exp)
		}
	})
}

func TestSecretsNeverPrint(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1))
	cr, _ := mint(t, kr, userClaims())
	sk := mustServerKey(t, 7)
	cases := []struct {
		name    string
		v       any
		secrets []string
	}{
		{"credentials-value", cr, []string{cr.SecretAccessKey, cr.SessionToken, cr.AccessKeyID}},
		{"credentials-pointer", &cr, []string{cr.SecretAccessKey, cr.SessionToken, cr.AccessKeyID}},
		{"credentials-in-struct", struct{ C Credentials }{cr}, []string{cr.SecretAccessKey, cr.SessionToken}},
		{"server-key", sk, []string{string(sk.key[:]), fmt.Sprint(sk.key[:4])[1:10], fmt.Sprintf("%x", sk.key[:8]), base64.StdEncoding.EncodeToString(sk.key[:])[:12]}},
		{"server-key-value", *sk, []string{fmt.Sprint(sk.key[:4])[1:10], fmt.Sprintf("%x", sk.key[:8])}},
	}
	for _, c := range cases {
		t.Run("ok/"+c.name, func(t *testing.T) {
			var outs []string
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
				outs = append(outs, fmt.Sprintf(verb, c.v))
			}
			for _, h := range []func(*bytes.Buffer) slog.Handler{
				func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
				func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			} {
				var b bytes.Buffer
				slog.New(h(&b)).Info("m", "v", c.v)
				outs = append(outs, b.String())
			}
			j, err := json.Marshal(c.v)
			if err != nil {
				t.Fatalf("json.Marshal() error = %v", err)
			}
			outs = append(outs, string(j))
			for _, out := range outs {
				for _, s := range c.secrets {
					if strings.Contains(out, s) {
						t.Fatalf("output %q reveals a secret", out)
					}
				}
			}
		})
	}
	if got := fmt.Sprint(cr); !strings.Contains(got, cr.AccessKeyID[16:]) {
		t.Errorf("Credentials.String() = %q, want the last 4 characters of the access key id", got)
	}
}

func TestServerKey(t *testing.T) {
	k, err := NewServerKey(testRand(1), 3)
	if err != nil {
		t.Fatal(err)
	}
	b := k.Bytes()
	b[0] ^= 1
	if bytes.Equal(b, k.Bytes()) {
		t.Errorf("Bytes() returned the key's own storage")
	}
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"ok/32-bytes", k.Bytes(), true},
		{"fail/31-bytes", k.Bytes()[:31], false},
		{"fail/33-bytes", append(k.Bytes(), 0), false},
		{"fail/nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ServerKeyFromBytes(3, tt.b)
			if (err == nil) != tt.ok {
				t.Fatalf("ServerKeyFromBytes() error = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (got.ID != 3 || got.key != k.key) {
				t.Errorf("ServerKeyFromBytes() returned another key")
			}
		})
	}
	if _, err := NewServerKey(bytes.NewReader(make([]byte, 31)), 1); err == nil {
		t.Errorf("NewServerKey() with short rand: error = nil")
	}
}

func TestKeyringAdd(t *testing.T) {
	k1 := mustServerKey(t, 1)
	t.Run("ok/highest-id-mints-whatever-the-order", func(t *testing.T) {
		kr := mustKeyring(t, mustServerKey(t, 4), k1, mustServerKey(t, 2))
		if id, _ := kr.ActiveKeyID(); id != 4 {
			t.Errorf("ActiveKeyID() = %d, want 4", id)
		}
	})
	t.Run("ok/re-adding-same-key-is-noop", func(t *testing.T) {
		kr := mustKeyring(t, k1)
		same, _ := ServerKeyFromBytes(1, k1.Bytes())
		if err := kr.Add(same); err != nil {
			t.Errorf("Add(same key) error = %v", err)
		}
	})
	t.Run("fail/conflicting-key-same-id", func(t *testing.T) {
		kr := mustKeyring(t, k1)
		cr, _ := mint(t, kr, userClaims())
		if err := kr.Add(mustServerKey(t, 1)); err == nil {
			t.Errorf("Add(conflicting key) error = nil")
		}
		if _, err := kr.Open(cr.SessionToken, cr.AccessKeyID); err != nil {
			t.Errorf("Open() after refused Add: %v", err)
		}
	})
	t.Run("fail/nil-key", func(t *testing.T) {
		if _, err := NewKeyring(nil); err == nil {
			t.Errorf("NewKeyring(nil) error = nil")
		}
	})
	t.Run("fail/zero-key", func(t *testing.T) {
		if _, err := NewKeyring(&ServerKey{ID: 1}); err == nil {
			t.Errorf("NewKeyring(all-zero key) error = nil")
		}
	})
	t.Run("ok/zero-value-keyring", func(t *testing.T) {
		var kr Keyring
		if _, _, err := kr.Mint(userClaims(), rand.Reader); err != ErrNoKey {
			t.Errorf("Mint() on empty keyring: error = %v, want ErrNoKey", err)
		}
		if err := kr.Add(k1); err != nil {
			t.Fatalf("Add() error = %v", err)
		}
		mint(t, &kr, userClaims())
	})
	t.Run("fail/no-keys", func(t *testing.T) {
		if _, err := NewKeyring(); err == nil {
			t.Errorf("NewKeyring() error = nil")
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	kr := mustKeyring(t, mustServerKey(t, 1))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				cr, _, err := kr.Mint(userClaims(), rand.Reader)
				if err != nil {
					t.Error(err)
					return
				}
				c, err := kr.Open(cr.SessionToken, cr.AccessKeyID)
				if err != nil {
					t.Error(err)
					return
				}
				if s, err := kr.Secret(c); err != nil || s != cr.SecretAccessKey {
					t.Error("secret mismatch", err)
					return
				}
				if i == 15 {
					if err := kr.Add(mustServerKey(t, uint32(10+g))); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if id, _ := kr.ActiveKeyID(); id != 17 {
		t.Errorf("ActiveKeyID() = %d, want 17", id)
	}
}
