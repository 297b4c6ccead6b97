package seal

import (
	"crypto/rand"
	"testing"
)

func BenchmarkSeal(b *testing.B) {
	s := mustSealer(b, mustDataKey(b, 1))
	pt, aad := make([]byte, 1024), AAD("secret-version", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x", "v1")
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Seal(pt, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s := mustSealer(b, mustDataKey(b, 1))
	pt, aad := make([]byte, 1024), AAD("secret-version", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x", "v1")
	rand.Read(pt)
	ct, err := s.Seal(pt, aad)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(ct, aad); err != nil {
			b.Fatal(err)
		}
	}
}
