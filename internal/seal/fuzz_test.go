package seal

import (
	"bytes"
	"testing"
)

// fuzzSealer has fixed keys so the corpus stays meaningful across runs.
func fuzzSealer(tb testing.TB) *Sealer {
	k1, _ := NewDataKey(testRand(10), 1)
	k2, _ := NewDataKey(testRand(11), 2)
	s, err := NewSealer(testRand(12), k1, k2)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// FuzzOpen checks that Open never panics and that nothing but an untouched
// ciphertext with its own AAD ever opens.
func FuzzOpen(f *testing.F) {
	s := fuzzSealer(f)
	type sealed struct{ ct, aad, pt []byte }
	var valid []sealed
	for i, pt := range [][]byte{nil, []byte("hunter2"), bytes.Repeat([]byte("x"), 100)} {
		aad := AAD("record", string(rune('a'+i)))
		ct, err := s.Seal(pt, aad)
		if err != nil {
			f.Fatal(err)
		}
		valid = append(valid, sealed{ct, aad, pt})
		f.Add(ct, aad)
		f.Add(ct[:len(ct)-1], aad)
		f.Add(ct, AAD("record"))
	}
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 0, 0, 0, 1}, []byte(nil))
	f.Fuzz(func(t *testing.T, ct, aad []byte) {
		pt, err := s.Open(ct, aad)
		if err != nil {
			if err != ErrOpen {
				t.Fatalf("Open() error = %v, want ErrOpen", err)
			}
			return
		}
		for _, v := range valid {
			if bytes.Equal(ct, v.ct) && bytes.Equal(aad, v.aad) && bytes.Equal(pt, v.pt) {
				return
			}
		}
		t.Fatalf("Open() accepted a ciphertext that was never sealed: %x (aad %x)", ct, aad)
	})
}
