package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// testRand returns a deterministic random source for reproducible tests.
func testRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return mrand.NewChaCha8(s)
}

// mustDataKey returns a new data key with the given ID, failing tb on error.
func mustDataKey(tb testing.TB, id uint32) *DataKey {
	tb.Helper()
	dk, err := NewDataKey(rand.Reader, id)
	if err != nil {
		tb.Fatalf("NewDataKey() error = %v", err)
	}
	return dk
}

// mustSealer returns a sealer over keys, failing tb on error.
func mustSealer(tb testing.TB, keys ...*DataKey) *Sealer {
	tb.Helper()
	s, err := NewSealer(rand.Reader, keys...)
	if err != nil {
		tb.Fatalf("NewSealer() error = %v", err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := mustSealer(t, mustDataKey(t, 1))
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"ok/empty-plaintext", nil, AAD("secret-version", "arn:x", "v1")},
		{"ok/no-aad", []byte("hunter2"), nil},
		{"ok/1KiB", bytes.Repeat([]byte{0xa5}, 1024), AAD("a")},
		{"ok/binary-aad", []byte("x"), []byte{0, 1, 2, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := s.Seal(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatalf("Seal() error = %v", err)
			}
			if got, want := len(ct), len(tt.plaintext)+Overhead; got != want {
				t.Errorf("len(Seal()) = %d, want %d", got, want)
			}
			// A short plaintext appears in random ciphertext by chance (a
			// 1-byte one in about one run of seven): only check 7 bytes or more.
			if len(tt.plaintext) >= 7 && bytes.Contains(ct, tt.plaintext) {
				t.Errorf("Seal() output contains the plaintext")
			}
			got, err := s.Open(ct, tt.aad)
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open() = %x, want %x", got, tt.plaintext)
			}
		})
	}
}

func TestSealNonceIsFresh(t *testing.T) {
	s := mustSealer(t, mustDataKey(t, 1))
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Errorf("Seal() twice gave the same ciphertext")
	}
}

func TestOpenFailures(t *testing.T) {
	s := mustSealer(t, mustDataKey(t, 7))
	aad := AAD("secret-version", "arn:aws:secretsmanager:us-east-1:123456789012:secret:a", "v1")
	ct, err := s.Seal([]byte("hunter2"), aad)
	if err != nil {
		t.Fatal(err)
	}
	withVersion := func(v byte) []byte { c := bytes.Clone(ct); c[0] = v; return c }
	withKeyID := func(id byte) []byte { c := bytes.Clone(ct); c[4] = id; return c }

	other := mustSealer(t, mustDataKey(t, 7)) // same ID, different key
	tests := []struct {
		name string
		s    *Sealer
		ct   []byte
		aad  []byte
	}{
		{"fail/wrong-aad", s, ct, AAD("secret-version", "arn:aws:secretsmanager:us-east-1:123456789012:secret:b", "v1")},
		{"fail/other-version-aad", s, ct, AAD("secret-version", "arn:aws:secretsmanager:us-east-1:123456789012:secret:a", "v2")},
		{"fail/no-aad", s, ct, nil},
		{"fail/empty", s, nil, aad},
		{"fail/header-only", s, ct[:headerSize], aad},
		{"fail/one-byte-short", s, ct[:len(ct)-1], aad},
		{"fail/appended-byte", s, append(bytes.Clone(ct), 0), aad},
		{"fail/unknown-version", s, withVersion(2), aad},
		{"fail/unknown-key-id", s, withKeyID(8), aad},
		{"fail/same-id-other-key", other, ct, aad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Open(tt.ct, tt.aad)
			if err != ErrOpen {
				t.Errorf("Open() = %q, %v; want ErrOpen", got, err)
			}
		})
	}
	t.Run("fail/every-truncation", func(t *testing.T) {
		for n := range len(ct) {
			if _, err := s.Open(ct[:n], aad); err != ErrOpen {
				t.Fatalf("Open(ct[:%d]) error = %v, want ErrOpen", n, err)
			}
		}
	})
}

func TestOpenEveryBitFlip(t *testing.T) {
	s := mustSealer(t, mustDataKey(t, 1), mustDataKey(t, 2))
	aad := AAD("record", "1")
	ct, err := s.Seal([]byte("attack at dawn"), aad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(ct) * 8 {
		c := bytes.Clone(ct)
		c[i/8] ^= 1 << (i % 8)
		if pt, err := s.Open(c, aad); err != ErrOpen {
			t.Fatalf("Open() with bit %d flipped = %q, %v; want ErrOpen", i, pt, err)
		}
	}
	for i := range len(aad) * 8 {
		a := bytes.Clone(aad)
		a[i/8] ^= 1 << (i % 8)
		if _, err := s.Open(ct, a); err != ErrOpen {
			t.Fatalf("Open() with aad bit %d flipped: error = %v, want ErrOpen", i, err)
		}
	}
}

func TestAAD(t *testing.T) {
	distinct := []struct {
		name string
		a, b []string
	}{
		{"split-point", []string{"a", "bc"}, []string{"ab", "c"}},
		{"empty-part-added", []string{"a"}, []string{"a", ""}},
		{"no-parts-vs-empty-part", nil, []string{""}},
		{"order", []string{"x", "y"}, []string{"y", "x"}},
		{"length-lookalike", []string{"\x01a"}, []string{"a"}},
		{"join-lookalike", []string{"a", "b"}, []string{"a\x01b"}},
	}
	for _, tt := range distinct {
		t.Run("ok/distinct/"+tt.name, func(t *testing.T) {
			if bytes.Equal(AAD(tt.a...), AAD(tt.b...)) {
				t.Errorf("AAD(%q) == AAD(%q)", tt.a, tt.b)
			}
		})
	}
	t.Run("ok/stable", func(t *testing.T) {
		got := AAD("secret-version", "arn", "v1")
		want := []byte("\x0esecret-version\x03arn\x02v1")
		if !bytes.Equal(got, want) {
			t.Errorf("AAD() = %q, want %q", got, want)
		}
	})
	t.Run("fail/swapped-parts-do-not-open", func(t *testing.T) {
		s := mustSealer(t, mustDataKey(t, 1))
		ct, _ := s.Seal([]byte("v"), AAD("a", "bc"))
		if _, err := s.Open(ct, AAD("ab", "c")); err != ErrOpen {
			t.Errorf("Open() error = %v, want ErrOpen", err)
		}
	})
}

func TestRotatedSealerOpensOldRecordsAndSealsWithTheNewKey(t *testing.T) {
	k1, k2 := mustDataKey(t, 1), mustDataKey(t, 2)
	s := mustSealer(t, k1)
	aad := AAD("r")
	old, err := s.Seal([]byte("old"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(k2); err != nil {
		t.Fatalf("Add() error = %v", err)
	}
	if got := s.ActiveKeyID(); got != 2 {
		t.Errorf("ActiveKeyID() = %d, want 2", got)
	}
	if got, err := s.Open(old, aad); err != nil || string(got) != "old" {
		t.Errorf("Open(old) = %q, %v; want \"old\"", got, err)
	}
	fresh, err := s.Seal([]byte("new"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if got := keyIDOf(fresh); got != 2 {
		t.Errorf("new ciphertext key id = %d, want 2", got)
	}
	// A sealer that only knows key 1 cannot open it.
	if _, err := mustSealer(t, k1).Open(fresh, aad); err != ErrOpen {
		t.Errorf("Open() with key 1 only: error = %v, want ErrOpen", err)
	}
	// Adding an older key does not change the active one.
	if err := s.Add(mustDataKey(t, 0)); err != nil {
		t.Fatal(err)
	}
	if got := s.ActiveKeyID(); got != 2 {
		t.Errorf("ActiveKeyID() after adding key 0 = %d, want 2", got)
	}
}

func keyIDOf(ct []byte) uint32 {
	return uint32(ct[1])<<24 | uint32(ct[2])<<16 | uint32(ct[3])<<8 | uint32(ct[4])
}

func TestNewSealerAndAdd(t *testing.T) {
	k1 := mustDataKey(t, 1)
	t.Run("ok/highest-id-active-whatever-the-order", func(t *testing.T) {
		s := mustSealer(t, mustDataKey(t, 9), k1, mustDataKey(t, 3))
		if got := s.ActiveKeyID(); got != 9 {
			t.Errorf("ActiveKeyID() = %d, want 9", got)
		}
	})
	t.Run("ok/re-adding-same-key-is-noop", func(t *testing.T) {
		s := mustSealer(t, k1)
		same := &DataKey{ID: 1, key: k1.key}
		if err := s.Add(same); err != nil {
			t.Errorf("Add(same key) error = %v", err)
		}
	})
	t.Run("ok/caller-may-clear-its-key", func(t *testing.T) {
		dk := mustDataKey(t, 5)
		s := mustSealer(t, dk)
		ct, _ := s.Seal([]byte("x"), nil)
		clear(dk.key[:])
		if _, err := s.Open(ct, nil); err != nil {
			t.Errorf("Open() after clearing caller's key: %v", err)
		}
	})
	t.Run("fail/conflicting-key-same-id", func(t *testing.T) {
		s := mustSealer(t, k1)
		ct, _ := s.Seal([]byte("x"), nil)
		if err := s.Add(mustDataKey(t, 1)); err == nil {
			t.Errorf("Add(conflicting key) error = nil, want error")
		}
		if _, err := s.Open(ct, nil); err != nil {
			t.Errorf("Open() after refused Add: %v", err)
		}
	})
	t.Run("fail/no-keys", func(t *testing.T) {
		if _, err := NewSealer(rand.Reader); err == nil {
			t.Errorf("NewSealer() with no keys: error = nil")
		}
	})
	t.Run("fail/nil-key", func(t *testing.T) {
		if _, err := NewSealer(rand.Reader, nil); err == nil {
			t.Errorf("NewSealer(nil) error = nil")
		}
	})
	t.Run("fail/nil-rand", func(t *testing.T) {
		if _, err := NewSealer(nil, k1); err == nil {
			t.Errorf("NewSealer(nil rand) error = nil")
		}
	})
	t.Run("fail/rand-exhausted", func(t *testing.T) {
		s, err := NewSealer(bytes.NewReader(nil), k1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Seal([]byte("x"), nil); err == nil {
			t.Errorf("Seal() with empty rand: error = nil")
		}
		if _, err := NewDataKey(bytes.NewReader(make([]byte, 31)), 1); err == nil {
			t.Errorf("NewDataKey() with short rand: error = nil")
		}
	})
}

func TestWrapUnwrap(t *testing.T) {
	mk, err := GenerateMasterKey(testRand(1))
	if err != nil {
		t.Fatal(err)
	}
	dk1, dk2 := mustDataKey(t, 1), mustDataKey(t, 2)
	w1, err := mk.Wrap(dk1, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := mk.Wrap(dk2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ok/round-trip", func(t *testing.T) {
		got, err := mk.Unwrap(1, w1)
		if err != nil {
			t.Fatalf("Unwrap() error = %v", err)
		}
		if got.ID != 1 || !got.equal(dk1) {
			t.Errorf("Unwrap() returned another key")
		}
		if bytes.Contains(w1, dk1.key[:]) {
			t.Errorf("wrapped key contains the raw key")
		}
	})
	other, _ := GenerateMasterKey(testRand(2))
	tests := []struct {
		name    string
		mk      *MasterKey
		id      uint32
		wrapped []byte
	}{
		{"fail/other-id", mk, 2, w1},
		{"fail/swapped-bytes", mk, 1, w2},
		{"fail/other-master-key", other, 1, w1},
		{"fail/truncated", mk, 1, w1[:len(w1)-1]},
		{"fail/appended", mk, 1, append(bytes.Clone(w1), 0)},
		{"fail/empty", mk, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if dk, err := tt.mk.Unwrap(tt.id, tt.wrapped); err != ErrOpen {
				t.Errorf("Unwrap() = %v, %v; want ErrOpen", dk, err)
			}
		})
	}
	t.Run("fail/every-bit-flip", func(t *testing.T) {
		for i := range len(w1) * 8 {
			c := bytes.Clone(w1)
			c[i/8] ^= 1 << (i % 8)
			if _, err := mk.Unwrap(1, c); err != ErrOpen {
				t.Fatalf("Unwrap() with bit %d flipped: error = %v, want ErrOpen", i, err)
			}
		}
	})
}

func TestParseMasterKey(t *testing.T) {
	mk, _ := GenerateMasterKey(testRand(3))
	text := mk.Text()
	b64 := strings.TrimSuffix(strings.TrimPrefix(text, masterKeyPrefix), "\n")
	raw, _ := base64.StdEncoding.DecodeString(b64)
	// Last base64 char of 32 bytes carries 2 padding bits; set one of them.
	nonCanonical := b64[:len(b64)-2] + string(b64[len(b64)-2]+1) + "="
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"ok/key-file-text", text, true},
		{"ok/no-newline", strings.TrimSpace(text), true},
		{"ok/crlf", strings.TrimSpace(text) + "\r\n", true},
		{"ok/env-with-spaces", "  " + strings.TrimSpace(text) + "  ", true},
		{"fail/empty", "", false},
		{"fail/no-prefix", b64, false},
		{"fail/other-version", "shortfuse-master-key-v2:" + b64, false},
		{"fail/upper-case-prefix", strings.ToUpper(masterKeyPrefix) + b64, false},
		{"fail/short", masterKeyPrefix + base64.StdEncoding.EncodeToString(raw[:31]), false},
		{"fail/long", masterKeyPrefix + base64.StdEncoding.EncodeToString(append(raw, 0)), false},
		{"fail/unpadded", masterKeyPrefix + strings.TrimRight(b64, "="), false},
		{"fail/url-alphabet", masterKeyPrefix + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)), false},
		{"fail/newline-inside", masterKeyPrefix + b64[:10] + "\n" + b64[10:], false},
		{"fail/non-canonical", masterKeyPrefix + nonCanonical, false},
		{"fail/hex", masterKeyPrefix + hex.EncodeToString(raw), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMasterKey(tt.text)
			if !tt.ok {
				if !errors.Is(err, ErrMalformedKey) {
					t.Errorf("ParseMasterKey() error = %v, want ErrMalformedKey", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMasterKey() error = %v", err)
			}
			if got.key != mk.key {
				t.Errorf("ParseMasterKey() returned another key")
			}
		})
	}
}

func TestKeysNeverPrint(t *testing.T) {
	mk, _ := GenerateMasterKey(testRand(4))
	dk, _ := NewDataKey(testRand(5), 42)
	for _, c := range []struct {
		name string
		raw  []byte
		v    any
	}{
		{"master-key-pointer", mk.key[:], mk},
		{"master-key-value", mk.key[:], *mk},
		{"data-key-pointer", dk.key[:], dk},
		{"data-key-value", dk.key[:], *dk},
		{"in-a-struct", mk.key[:], struct{ K *MasterKey }{mk}},
	} {
		t.Run("ok/"+c.name, func(t *testing.T) {
			var outs []string
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
				outs = append(outs, fmt.Sprintf(verb, c.v))
			}
			j, err := json.Marshal(c.v)
			if err != nil {
				t.Fatalf("json.Marshal() error = %v", err)
			}
			outs = append(outs, string(j), logText(c.v), logJSON(c.v))
			forms := []string{
				hex.EncodeToString(c.raw), strings.ToUpper(hex.EncodeToString(c.raw)),
				base64.StdEncoding.EncodeToString(c.raw), fmt.Sprint(c.raw), string(c.raw),
				fmt.Sprintf("%d", c.raw[:4]),
			}
			for _, out := range outs {
				for _, f := range forms {
					if strings.Contains(out, strings.Trim(f, "[]")) {
						t.Fatalf("output %q reveals the key", out)
					}
				}
			}
		})
	}
	if got := mk.String(); got != "[redacted]" {
		t.Errorf("String() = %q", got)
	}
	if got := fmt.Sprint(dk); !strings.Contains(got, "42") {
		t.Errorf("DataKey String() = %q, want it to show the ID", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := mustSealer(t, mustDataKey(t, 1))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				aad := AAD(fmt.Sprint(g), fmt.Sprint(i))
				ct, err := s.Seal([]byte("v"), aad)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Open(ct, aad); err != nil {
					t.Error(err)
					return
				}
				if i == 25 {
					if err := s.Add(mustDataKey(t, uint32(100+g))); err != nil {
						t.Error(err)
					}
					_ = s.ActiveKeyID()
				}
			}
		})
	}
	wg.Wait()
	if got := s.ActiveKeyID(); got != 107 {
		t.Errorf("ActiveKeyID() = %d, want 107", got)
	}
}

func TestZeroKeysRefused(t *testing.T) {
	mk, _ := GenerateMasterKey(rand.Reader)
	dk := mustDataKey(t, 1)
	w, _ := mk.Wrap(dk, rand.Reader)
	tests := []struct {
		name string
		err  func() error
	}{
		{"fail/sealer-zero-data-key", func() error { _, err := NewSealer(rand.Reader, &DataKey{ID: 1}); return err }},
		{"fail/wrap-zero-data-key", func() error { _, err := mk.Wrap(&DataKey{ID: 1}, rand.Reader); return err }},
		{"fail/wrap-under-zero-master", func() error { _, err := new(MasterKey).Wrap(dk, rand.Reader); return err }},
		{"fail/unwrap-under-zero-master", func() error { _, err := new(MasterKey).Unwrap(1, w); return err }},
		{"fail/zero-value-sealer", func() error { _, err := new(Sealer).Seal([]byte("x"), nil); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); err == nil {
				t.Errorf("error = nil, want refusal")
			}
		})
	}
}
