package sessiontoken

import (
	"strings"
	"testing"
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
