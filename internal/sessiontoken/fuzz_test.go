package sessiontoken

import (
	"crypto/rand"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzOpen checks that Open never panics, that every refusal is exactly
// ErrInvalidToken, and that nothing but an untouched minted token, presented
// with its own access key id, ever opens.
func FuzzOpen(f *testing.F) {
	k1, _ := NewServerKey(testRand(1), 1)
	k2, _ := NewServerKey(testRand(2), 2)
	minter := mustKeyring(f, k1)
	type minted struct{ token, akid, sid string }
	var valid []minted
	for i, c := range []Claims{userClaims(), roleClaims()} {
		if i == 1 {
			minter.Add(k2)
		}
		cr, claims, err := minter.Mint(c, testRand(byte(10+i)))
		if err != nil {
			f.Fatal(err)
		}
		valid = append(valid, minted{cr.SessionToken, cr.AccessKeyID, claims.SessionID})
		f.Add(cr.SessionToken, cr.AccessKeyID)
		f.Add(cr.SessionToken[:len(cr.SessionToken)-1], cr.AccessKeyID)
		f.Add(cr.SessionToken+"A", cr.AccessKeyID)
		f.Add(strings.TrimPrefix(cr.SessionToken, tokenPrefix), cr.AccessKeyID)
	}
	f.Add(valid[0].token, valid[1].akid)
	f.Add("", "")
	f.Add(tokenPrefix+"AQAAAAE", "ASIAAAAAAAAAAAAAAAAA")
	kr := mustKeyring(f, k1, k2)
	f.Fuzz(func(t *testing.T, token, akid string) {
		c, err := kr.Open(token, akid)
		if err != nil {
			if err != ErrInvalidToken || c != nil {
				t.Fatalf("Open() = %v, %v; want nil, ErrInvalidToken", c, err)
			}
			return
		}
		for _, v := range valid {
			if token == v.token && akid == v.akid && c.SessionID == v.sid && c.AccessKeyID == akid {
				return
			}
		}
		t.Fatalf("Open() accepted a token that was never minted: %q for %q", token, akid)
	})
}

// FuzzMintOpen checks that the claims Mint returns are exactly those Open
// reads back from the token, whatever the strings, tags and times.
func FuzzMintOpen(f *testing.F) {
	f.Add("session", "id", "k", "v", "arn:aws:iam::123456789012:policy/p", int64(0), int64(1_700_000_000_123), 3)
	f.Add("s\xff", "\xc3", "k\xfe", "", "", int64(-5), int64(1), 0)
	kr := mustKeyring(f, mustServerKey(f, 1))
	f.Fuzz(func(t *testing.T, name, sourceID, tagKey, tagValue, policyARN string, mfaMillis, issuedMillis int64, maxUses int) {
		c := roleClaims()
		c.RoleSessionName, c.SourceIdentity = name, sourceID
		c.Tags = map[string]string{tagKey: tagValue}
		c.PolicyARNs = []string{policyARN}
		c.IssuedAt = time.UnixMilli(issuedMillis)
		c.Expires = c.IssuedAt.Add(time.Hour)
		c.MFAAuthTime = time.UnixMilli(mfaMillis)
		c.MaxUses = maxUses
		cr, minted, err := kr.Mint(c, rand.Reader)
		if err != nil {
			return // claims Mint refuses (validation, size)
		}
		got, err := kr.Open(cr.SessionToken, cr.AccessKeyID)
		if err != nil {
			t.Fatalf("Open() of a minted token: %v", err)
		}
		if !reflect.DeepEqual(*got, minted) {
			t.Fatalf("Open() = %+v\nMint() = %+v", *got, minted)
		}
	})
}
