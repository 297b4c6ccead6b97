package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/store"
)

func testGet(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name    string
		bucket  string
		key     string
		want    string
		wantErr error
	}{
		{"ok/existing", "items", "k1", "v1", nil},
		{"ok/empty-value", "items", "empty", "", nil},
		{"ok/slash-key", "items", "/prod/db", "secret-ref", nil},
		{"ok/unicode-key", "items", "ключ", "unicode", nil},
		{"fail/missing-key", "items", "k9", "", store.ErrNotFound},
		{"fail/missing-bucket", "never", "k1", "", store.ErrNotFound},
		{"fail/key-of-other-bucket", "items", "k2", "", store.ErrNotFound},
		{"fail/prefix-of-a-key", "items", "/prod", "", store.ErrNotFound},
		{"fail/case-differs", "items", "K1", "", store.ErrNotFound},
	}
	s := open(t)
	seed(t, s, "items", "k1", "v1", "empty", "", "/prod/db", "secret-ref", "ключ", "unicode")
	seed(t, s, "other", "k2", "v2")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inEachTx(s, func(kind string, run func(context.Context, func(store.Tx) error) error) {
				var got []byte
				var getErr error
				err := run(t.Context(), func(tx store.Tx) error {
					got, getErr = tx.Get(tt.bucket, tt.key)
					return nil
				})
				if err != nil {
					t.Fatalf("%s() = %v, want nil", kind, err)
				}
				if tt.wantErr != nil {
					if !errors.Is(getErr, tt.wantErr) {
						t.Errorf("Get() in %s = %q, %v; want error %v", kind, got, getErr, tt.wantErr)
					}
					return
				}
				if getErr != nil || string(got) != tt.want {
					t.Errorf("Get() in %s = %q, %v; want %q, nil", kind, got, getErr, tt.want)
				}
			})
		})
	}

	t.Run("ok/result-is-a-copy", func(t *testing.T) {
		s := open(t)
		seed(t, s, "items", "k1", "v1")
		mustView(t, s, func(tx store.Tx) error {
			v, err := tx.Get("items", "k1")
			if err != nil {
				return err
			}
			v[0] = 'X'
			return nil
		})
		// Also after the transaction ended, when the slice could point into
		// a released snapshot.
		var kept []byte
		mustView(t, s, func(tx store.Tx) error {
			var err error
			kept, err = tx.Get("items", "k1")
			return err
		})
		seed(t, s, "items", "k1", "v2")
		if string(kept) != "v1" {
			t.Errorf("value kept from an ended View = %q, want %q", kept, "v1")
		}
		if got, err := Get(t, s, "items", "k1"); err != nil || got != "v2" {
			t.Errorf("Get() = %q, %v; want %q, nil", got, err, "v2")
		}
	})
}

// writeCase runs op in an Update that commits whatever op returns, then
// compares op's error and the contents of the listed buckets.
type writeCase struct {
	name    string
	op      func(tx store.Tx) error
	wantErr error
	want    map[string]map[string]string
}

var seedItems = map[string]string{"k1": "v1", "k2": "v2"}

// withItems returns seedItems changed by alternating keys and values; a
// value of "<deleted>" removes the key.
func withItems(kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range seedItems {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<deleted>" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

func runWriteCases(t *testing.T, open func(t *testing.T) store.Store, tests []writeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			seed(t, s, "items", "k1", "v1", "k2", "v2")
			checkOp(t, s, mustUpdate, "op error", tt.op, tt.wantErr)
			for bucket, want := range tt.want {
				if got := Contents(t, s, bucket); !maps.Equal(got, want) {
					t.Errorf("bucket %q = %v, want %v", bucket, got, want)
				}
			}
		})
	}
}

// newKeyCases are the cases in which Put and Insert, given as write, do
// the same: they write a key that is not there yet, in a bucket that holds
// other keys and in a new one.
func newKeyCases(write func(tx store.Tx, bucket, key string, value []byte) error) []writeCase {
	return []writeCase{
		{
			name: "ok/new-key",
			op:   func(tx store.Tx) error { return write(tx, "items", "k3", []byte("v3")) },
			want: map[string]map[string]string{"items": withItems("k3", "v3")},
		},
		{
			name: "ok/new-bucket",
			op:   func(tx store.Tx) error { return write(tx, "fresh", "k1", []byte("f1")) },
			want: map[string]map[string]string{"items": seedItems, "fresh": {"k1": "f1"}},
		},
	}
}

func testPut(t *testing.T, open func(t *testing.T) store.Store) {
	runWriteCases(t, open, append(newKeyCases(store.Tx.Put), []writeCase{
		{
			name: "ok/overwrite",
			op:   func(tx store.Tx) error { return tx.Put("items", "k1", []byte("new")) },
			want: map[string]map[string]string{"items": withItems("k1", "new")},
		},
		{
			name: "ok/empty-value",
			op:   func(tx store.Tx) error { return tx.Put("items", "k1", []byte{}) },
			want: map[string]map[string]string{"items": withItems("k1", "")},
		},
		{
			name: "ok/nil-value",
			op:   func(tx store.Tx) error { return tx.Put("items", "k3", nil) },
			want: map[string]map[string]string{"items": withItems("k3", "")},
		},
		{
			name: "ok/binary-value",
			op:   func(tx store.Tx) error { return tx.Put("items", "k3", []byte("\x00\xff\x01\n")) },
			want: map[string]map[string]string{"items": withItems("k3", "\x00\xff\x01\n")},
		},
		{
			name: "ok/last-put-in-tx-wins",
			op: func(tx store.Tx) error {
				for _, v := range []string{"a", "b", "c"} {
					if err := tx.Put("items", "k1", []byte(v)); err != nil {
						return err
					}
				}
				return nil
			},
			want: map[string]map[string]string{"items": withItems("k1", "c")},
		},
		{
			name: "ok/value-is-copied",
			op: func(tx store.Tx) error {
				v := []byte("orig")
				if err := tx.Put("items", "k3", v); err != nil {
					return err
				}
				copy(v, "XXXX")
				if got, err := tx.Get("items", "k3"); err != nil || string(got) != "orig" {
					return fmt.Errorf("Get() after changing the Put slice = %q, %v; want %q", got, err, "orig")
				}
				return nil
			},
			want: map[string]map[string]string{"items": withItems("k3", "orig")},
		},
		{
			name: "ok/reads-own-writes",
			op: func(tx store.Tx) error {
				if err := tx.Put("fresh", "a", []byte("1")); err != nil {
					return err
				}
				if got, err := tx.Get("fresh", "a"); err != nil || string(got) != "1" {
					return fmt.Errorf("Get() = %q, %v; want %q", got, err, "1")
				}
				if n, err := tx.Count("fresh", ""); err != nil || n != 1 {
					return fmt.Errorf("Count() = %d, %v; want 1", n, err)
				}
				if keys, err := scanKeys(tx, "fresh", "", ""); err != nil || len(keys) != 1 {
					return fmt.Errorf("Scan() = %q, %v; want [a]", keys, err)
				}
				return nil
			},
			want: map[string]map[string]string{"fresh": {"a": "1"}},
		},
	}...))
}

func testInsert(t *testing.T, open func(t *testing.T) store.Store) {
	runWriteCases(t, open, append(newKeyCases(store.Tx.Insert), []writeCase{
		{
			name: "ok/after-delete-in-same-tx",
			op: func(tx store.Tx) error {
				if err := tx.Delete("items", "k1"); err != nil {
					return err
				}
				return tx.Insert("items", "k1", []byte("again"))
			},
			want: map[string]map[string]string{"items": withItems("k1", "again")},
		},
		{
			name: "ok/empty-value",
			op:   func(tx store.Tx) error { return tx.Insert("items", "k3", nil) },
			want: map[string]map[string]string{"items": withItems("k3", "")},
		},
		{
			name:    "fail/exists",
			op:      func(tx store.Tx) error { return tx.Insert("items", "k1", []byte("new")) },
			wantErr: store.ErrExists,
			want:    map[string]map[string]string{"items": seedItems},
		},
		{
			name: "fail/exists-with-empty-value",
			op: func(tx store.Tx) error {
				if err := tx.Put("items", "k3", nil); err != nil {
					return err
				}
				return tx.Insert("items", "k3", []byte("new"))
			},
			wantErr: store.ErrExists,
			want:    map[string]map[string]string{"items": withItems("k3", "")},
		},
		{
			name: "fail/inserted-earlier-in-tx",
			op: func(tx store.Tx) error {
				if err := tx.Insert("items", "k3", []byte("first")); err != nil {
					return err
				}
				return tx.Insert("items", "k3", []byte("second"))
			},
			wantErr: store.ErrExists,
			want:    map[string]map[string]string{"items": withItems("k3", "first")},
		},
	}...))
}

func testDelete(t *testing.T, open func(t *testing.T) store.Store) {
	runWriteCases(t, open, []writeCase{
		{
			name: "ok/existing",
			op:   func(tx store.Tx) error { return tx.Delete("items", "k1") },
			want: map[string]map[string]string{"items": withItems("k1", "<deleted>")},
		},
		{
			name: "ok/all-keys",
			op: func(tx store.Tx) error {
				return errors.Join(tx.Delete("items", "k1"), tx.Delete("items", "k2"))
			},
			want: map[string]map[string]string{"items": {}},
		},
		{
			name: "ok/put-after-delete",
			op: func(tx store.Tx) error {
				if err := tx.Delete("items", "k1"); err != nil {
					return err
				}
				return tx.Put("items", "k1", []byte("back"))
			},
			want: map[string]map[string]string{"items": withItems("k1", "back")},
		},
		{
			name: "ok/key-put-in-same-tx",
			op: func(tx store.Tx) error {
				if err := tx.Put("fresh", "a", []byte("1")); err != nil {
					return err
				}
				return tx.Delete("fresh", "a")
			},
			want: map[string]map[string]string{"items": seedItems, "fresh": {}},
		},
		{
			name:    "fail/missing-key",
			op:      func(tx store.Tx) error { return tx.Delete("items", "k9") },
			wantErr: store.ErrNotFound,
			want:    map[string]map[string]string{"items": seedItems},
		},
		{
			name:    "fail/missing-bucket",
			op:      func(tx store.Tx) error { return tx.Delete("never", "k1") },
			wantErr: store.ErrNotFound,
			want:    map[string]map[string]string{"items": seedItems, "never": {}},
		},
		{
			name: "fail/deleted-earlier-in-tx",
			op: func(tx store.Tx) error {
				if err := tx.Delete("items", "k1"); err != nil {
					return err
				}
				return tx.Delete("items", "k1")
			},
			wantErr: store.ErrNotFound,
			want:    map[string]map[string]string{"items": withItems("k1", "<deleted>")},
		},
	})
}

func testCount(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name   string
		bucket string
		prefix string
		want   int
	}{
		{"ok/all", "scan", "", len(scanAll)},
		{"ok/prefix", "scan", "a/", 4},
		{"ok/prefix-is-also-a-key", "scan", "a", 6},
		{"ok/no-match", "scan", "c", 0},
		{"ok/missing-bucket", "never", "", 0},
		{"ok/whole-key-as-prefix", "scan", "b/1", 1},
		{"ok/longer-than-any-key", "scan", "b/1/x", 0},
	}
	s := open(t)
	seed(t, s, "scan", scanData...)
	seed(t, s, "other", "a/9", "x")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustView(t, s, func(tx store.Tx) error {
				n, err := tx.Count(tt.bucket, tt.prefix)
				if err != nil || n != tt.want {
					t.Errorf("Count(%q, %q) = %d, %v; want %d, nil", tt.bucket, tt.prefix, n, err, tt.want)
				}
				return nil
			})
		})
	}
}

// testValidation checks that every method refuses bad bucket names, keys
// and values. It is long by design: one table per method.
func testValidation(t *testing.T, open func(t *testing.T) store.Store) {
	longBucket := strings.Repeat("b", store.MaxBucketLen)
	longKey := strings.Repeat("k", store.MaxKeyLen)
	badBuckets := map[string]string{
		"empty":     "",
		"too-long":  longBucket + "b",
		"uppercase": "Items",
		"slash":     "iam/users",
		"space":     "iam users",
		"nul":       "items\x00",
		"non-ascii": "itéms",
	}
	badKeys := map[string]string{
		"empty":        "",
		"too-long":     longKey + "k",
		"nul":          "k\x00",
		"invalid-utf8": "k\xff",
	}
	// Prefixes and cursors may be empty but otherwise follow the key rules.
	badRanges := map[string]string{
		"too-long":     longKey + "k",
		"nul":          "k\x00",
		"invalid-utf8": "k\xff",
	}
	noop := func(string, []byte) (bool, error) { return true, nil }

	type opCase struct {
		name string
		op   func(tx store.Tx) error
	}
	var fails []opCase
	for what, b := range badBuckets {
		fails = append(fails,
			opCase{"fail/get-bucket-" + what, func(tx store.Tx) error { _, err := tx.Get(b, "k"); return err }},
			opCase{"fail/put-bucket-" + what, func(tx store.Tx) error { return tx.Put(b, "k", nil) }},
			opCase{"fail/insert-bucket-" + what, func(tx store.Tx) error { return tx.Insert(b, "k", nil) }},
			opCase{"fail/delete-bucket-" + what, func(tx store.Tx) error { return tx.Delete(b, "k") }},
			opCase{"fail/scan-bucket-" + what, func(tx store.Tx) error { return tx.Scan(b, "", "", noop) }},
			opCase{"fail/count-bucket-" + what, func(tx store.Tx) error { _, err := tx.Count(b, ""); return err }},
		)
	}
	for what, k := range badKeys {
		fails = append(fails,
			opCase{"fail/get-key-" + what, func(tx store.Tx) error { _, err := tx.Get("items", k); return err }},
			opCase{"fail/put-key-" + what, func(tx store.Tx) error { return tx.Put("items", k, nil) }},
			opCase{"fail/insert-key-" + what, func(tx store.Tx) error { return tx.Insert("items", k, nil) }},
			opCase{"fail/delete-key-" + what, func(tx store.Tx) error { return tx.Delete("items", k) }},
		)
	}
	for what, r := range badRanges {
		fails = append(fails,
			opCase{"fail/scan-prefix-" + what, func(tx store.Tx) error { return tx.Scan("items", r, "", noop) }},
			opCase{"fail/scan-after-" + what, func(tx store.Tx) error { return tx.Scan("items", "", r, noop) }},
			opCase{"fail/count-prefix-" + what, func(tx store.Tx) error { _, err := tx.Count("items", r); return err }},
		)
	}

	slices.SortFunc(fails, func(a, b opCase) int { return strings.Compare(a.name, b.name) })

	s := open(t)
	seed(t, s, "items", "k", "v")
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			var opErr error
			mustUpdate(t, s, func(tx store.Tx) error {
				opErr = tt.op(tx)
				return nil
			})
			if !errors.Is(opErr, store.ErrInvalid) || errors.Is(opErr, store.ErrNotFound) {
				t.Errorf("op error = %v, want ErrInvalid (and not ErrNotFound)", opErr)
			}
		})
	}
	if got := Contents(t, s, "items"); !maps.Equal(got, map[string]string{"k": "v"}) {
		t.Errorf("after invalid writes, bucket = %v, want only k", got)
	}

	t.Run("fail/get-in-view", func(t *testing.T) {
		mustView(t, s, func(tx store.Tx) error {
			if _, err := tx.Get("Items", "k"); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Get() = %v, want ErrInvalid", err)
			}
			return nil
		})
	})

	t.Run("ok/limits", func(t *testing.T) {
		s := open(t)
		keys := []string{longKey, "/prod/db", "arn:aws:iam::123456789012:user/alice", "日本", "a b\tc"}
		mustUpdate(t, s, func(tx store.Tx) error {
			for _, k := range keys {
				if err := tx.Insert(longBucket, k, []byte(k)); err != nil {
					return fmt.Errorf("Insert(%d-byte key): %w", len(k), err)
				}
			}
			return tx.Put("abcdefghijklmnopqrstuvwxyz0123456789_.-", "k", nil)
		})
		mustUpdate(t, s, func(tx store.Tx) error {
			for _, k := range keys {
				if v, err := tx.Get(longBucket, k); err != nil || string(v) != k {
					return fmt.Errorf("Get(%d-byte key) = %d bytes, %v", len(k), len(v), err)
				}
			}
			got, err := scanKeys(tx, longBucket, longKey[:store.MaxKeyLen-1], "")
			if err != nil || len(got) != 1 || got[0] != longKey {
				return fmt.Errorf("Scan(longest prefix) = %d keys, %v; want the longest key", len(got), err)
			}
			if n, err := tx.Count(longBucket, longKey); err != nil || n != 1 {
				return fmt.Errorf("Count(longest key) = %d, %v; want 1", n, err)
			}
			return tx.Delete(longBucket, longKey)
		})
	})
}
