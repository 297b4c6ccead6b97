package sessiontoken

import (
	"crypto/rand"
	"testing"
)

func BenchmarkMint(b *testing.B) {
	kr := mustKeyring(b, mustServerKey(b, 1))
	c := roleClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := kr.Mint(c, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	kr := mustKeyring(b, mustServerKey(b, 1))
	cr, _ := mint(b, kr, roleClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Open(cr.SessionToken, cr.AccessKeyID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenForged(b *testing.B) {
	kr := mustKeyring(b, mustServerKey(b, 1))
	cr, _ := mint(b, kr, roleClaims())
	last := "A"
	if cr.SessionToken[len(cr.SessionToken)-1] == 'A' {
		last = "B"
	}
	forged := cr.SessionToken[:len(cr.SessionToken)-1] + last
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Open(forged, cr.AccessKeyID); err != ErrInvalidToken {
			b.Fatal(err)
		}
	}
}

func BenchmarkSecret(b *testing.B) {
	kr := mustKeyring(b, mustServerKey(b, 1))
	_, c := mint(b, kr, roleClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Secret(&c); err != nil {
			b.Fatal(err)
		}
	}
}
