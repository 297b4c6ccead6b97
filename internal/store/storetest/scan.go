package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/shortfuse/shortfuse/internal/store"
)

// scanAll is every key of scanData in bytewise order: upper case before
// lower case, "/" (0x2f) before letters, "~" (0x7e) before any multi-byte
// UTF-8 sequence.
var scanAll = []string{"B", "a", "a/1", "a/10", "a/2", "a/3", "ab", "b", "b/1", "~", "é"}

// scanData holds the keys of scanAll with the value "v:" + key, in an
// order that is not the sorted one.
var scanData = func() []string {
	var kv []string
	for _, i := range []int{5, 0, 10, 3, 7, 1, 9, 4, 2, 8, 6} {
		kv = append(kv, scanAll[i], "v:"+scanAll[i])
	}
	return kv
}()

func testScan(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name   string
		bucket string
		prefix string
		after  string
		want   []string
	}{
		{"ok/all", "scan", "", "", scanAll},
		{"ok/prefix", "scan", "a/", "", []string{"a/1", "a/10", "a/2", "a/3"}},
		{"ok/prefix-is-also-a-key", "scan", "a", "", []string{"a", "a/1", "a/10", "a/2", "a/3", "ab"}},
		{"ok/prefix-is-case-sensitive", "scan", "b", "", []string{"b", "b/1"}},
		{"ok/prefix-multi-byte", "scan", "é", "", []string{"é"}},
		{"ok/prefix-no-match", "scan", "c", "", []string{}},
		{"ok/after-existing-key", "scan", "", "a/10", []string{"a/2", "a/3", "ab", "b", "b/1", "~", "é"}},
		{"ok/after-missing-key", "scan", "", "a/15", []string{"a/2", "a/3", "ab", "b", "b/1", "~", "é"}},
		{"ok/after-prefix-of-keys", "scan", "", "a/", []string{"a/1", "a/10", "a/2", "a/3", "ab", "b", "b/1", "~", "é"}},
		{"ok/after-within-prefix", "scan", "a/", "a/1", []string{"a/10", "a/2", "a/3"}},
		{"ok/after-equals-prefix", "scan", "a", "a", []string{"a/1", "a/10", "a/2", "a/3", "ab"}},
		{"ok/after-before-prefix", "scan", "b", "a/3", []string{"b", "b/1"}},
		{"ok/after-past-prefix", "scan", "a/", "a0", []string{}},
		{"ok/after-last-key", "scan", "", "é", []string{}},
		{"ok/after-beyond-all", "scan", "", "ÿ", []string{}},
		{"ok/missing-bucket", "never", "", "", []string{}},
	}
	s := open(t)
	seed(t, s, "scan", scanData...)
	seed(t, s, "other", "a/0", "x", "c", "x")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inEachTx(s, func(kind string, run func(context.Context, func(store.Tx) error) error) {
				var got []string
				var bad []string
				err := run(t.Context(), func(tx store.Tx) error {
					got, bad = []string{}, nil
					return tx.Scan(tt.bucket, tt.prefix, tt.after, func(k string, v []byte) (bool, error) {
						got = append(got, k)
						if string(v) != "v:"+k {
							bad = append(bad, k)
						}
						return true, nil
					})
				})
				if err != nil {
					t.Fatalf("Scan(%q, %q) in %s = %v, want nil", tt.prefix, tt.after, kind, err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("Scan(%q, %q) in %s visited %q, want %q", tt.prefix, tt.after, kind, got, tt.want)
				}
				if bad != nil {
					t.Errorf("Scan() in %s gave wrong values for keys %q", kind, bad)
				}
			})
		})
	}
}

func testScanPaging(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	seed(t, s, "scan", scanData...)
	for _, prefix := range []string{"", "a/", "a"} {
		for _, size := range []int{1, 2, 3, len(scanAll)} {
			t.Run(fmt.Sprintf("ok/prefix-%q-page-%d", prefix, size), func(t *testing.T) {
				var want []string
				mustView(t, s, func(tx store.Tx) error {
					var err error
					want, err = scanKeys(tx, "scan", prefix, "")
					return err
				})
				var got []string
				after := ""
				for pages := 0; ; pages++ {
					if pages > len(scanAll) {
						t.Fatalf("paging does not end; visited %q", got)
					}
					var page []string
					mustView(t, s, func(tx store.Tx) error {
						page = nil
						return tx.Scan("scan", prefix, after, func(k string, _ []byte) (bool, error) {
							page = append(page, k)
							return len(page) < size, nil
						})
					})
					got = append(got, page...)
					if len(page) < size {
						break
					}
					after = page[len(page)-1]
				}
				if !slices.Equal(got, want) {
					t.Errorf("pages visited %q, want %q", got, want)
				}
			})
		}
	}
}

// testScanCallback checks what a Scan callback may and may not do. It is
// long by design: one subtest per rule of the contract, each a few lines,
// read in the order store.Store documents them.
func testScanCallback(t *testing.T, open func(t *testing.T) store.Store) {
	wrapped := fmt.Errorf("callback: %w", errSentinel)
	tests := []struct {
		name string
		// each is the callback of a Scan of the keys under prefix of
		// "scan", run in an Update on a store seeded with scanData; seen
		// holds the keys visited so far, k the last. after, if not nil,
		// runs in the same Update once the Scan has returned nil.
		prefix      string
		each        func(tx store.Tx, seen []string, k string, v []byte) (bool, error)
		after       func(tx store.Tx) error
		wantErr     error
		wantVisited []string
		wantBucket  map[string]string // contents of "scan" afterwards; nil skips
	}{
		{
			name: "ok/stop-after-first",
			each: func(store.Tx, []string, string, []byte) (bool, error) {
				return false, nil
			},
			wantVisited: scanAll[:1],
		},
		{
			name: "ok/stop-after-third",
			each: func(_ store.Tx, seen []string, _ string, _ []byte) (bool, error) {
				return len(seen) < 3, nil
			},
			wantVisited: scanAll[:3],
		},
		{
			name: "fail/callback-error-returned-unchanged",
			each: func(_ store.Tx, seen []string, _ string, _ []byte) (bool, error) {
				if len(seen) == 2 {
					return true, wrapped
				}
				return true, nil
			},
			wantErr:     wrapped,
			wantVisited: scanAll[:2],
		},
		{
			name: "ok/delete-each-key-during-scan",
			each: func(tx store.Tx, _ []string, k string, _ []byte) (bool, error) {
				return true, tx.Delete("scan", k)
			},
			wantVisited: scanAll,
			wantBucket:  map[string]string{},
		},
		{
			name: "ok/delete-next-key-during-scan",
			each: func(tx store.Tx, _ []string, k string, _ []byte) (bool, error) {
				if i := slices.Index(scanAll, k); i+1 < len(scanAll) {
					return true, tx.Delete("scan", scanAll[i+1])
				}
				return true, nil
			},
			wantVisited: everyOther(scanAll),
			wantBucket:  dataMap(everyOther(scanAll), "v:"),
		},
		{
			name: "ok/overwrite-each-key-during-scan",
			each: func(tx store.Tx, _ []string, k string, _ []byte) (bool, error) {
				return true, tx.Put("scan", k, []byte("new:"+k))
			},
			wantVisited: scanAll,
			wantBucket:  dataMap(scanAll, "new:"),
		},
		{
			name: "ok/keys-inserted-behind-are-not-visited",
			each: func(tx store.Tx, seen []string, _ string, _ []byte) (bool, error) {
				// "A…" sorts before every key of scanAll.
				return true, tx.Insert("scan", fmt.Sprintf("A%02d", len(seen)), nil)
			},
			wantVisited: scanAll,
		},
		{
			name: "ok/write-other-bucket-during-scan",
			each: func(tx store.Tx, _ []string, k string, v []byte) (bool, error) {
				return true, tx.Put("copy", k, v)
			},
			after: func(tx store.Tx) error {
				copied, err := scanKeys(tx, "copy", "", "")
				if !slices.Equal(copied, scanAll) {
					return fmt.Errorf("copy holds %q, %v", copied, err)
				}
				return err
			},
			wantVisited: scanAll,
			wantBucket:  dataMap(scanAll, "v:"),
		},
		{
			name:   "ok/nested-reads-during-scan",
			prefix: "a",
			each: func(tx store.Tx, _ []string, k string, _ []byte) (bool, error) {
				inner, err := scanKeys(tx, "scan", k, "")
				if err != nil || len(inner) == 0 || inner[0] != k {
					return false, fmt.Errorf("nested Scan(%q) = %q, %v", k, inner, err)
				}
				if n, err := tx.Count("scan", ""); err != nil || n != len(scanAll) {
					return false, fmt.Errorf("nested Count() = %d, %v", n, err)
				}
				if v, err := tx.Get("scan", k); err != nil || string(v) != "v:"+k {
					return false, fmt.Errorf("nested Get(%q) = %q, %v", k, v, err)
				}
				return true, nil
			},
			wantVisited: []string{"a", "a/1", "a/10", "a/2", "a/3", "ab"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			seed(t, s, "scan", scanData...)
			var seen []string
			var scanErr error
			mustUpdate(t, s, func(tx store.Tx) error {
				scanErr = tx.Scan("scan", tt.prefix, "", func(k string, v []byte) (bool, error) {
					seen = append(seen, k)
					return tt.each(tx, seen, k, v)
				})
				if scanErr == nil && tt.after != nil {
					scanErr = tt.after(tx)
				}
				return nil
			})
			switch {
			case tt.wantErr == nil && scanErr != nil:
				t.Errorf("Scan() = %v, want nil", scanErr)
			case tt.wantErr != nil && scanErr != tt.wantErr:
				t.Errorf("Scan() = %v, want the callback's error value unchanged", scanErr)
			}
			if !slices.Equal(seen, tt.wantVisited) {
				t.Errorf("Scan() visited %q, want %q", seen, tt.wantVisited)
			}
			if tt.wantBucket != nil {
				if got := Contents(t, s, "scan"); !maps.Equal(got, tt.wantBucket) {
					t.Errorf("bucket after Scan = %v, want %v", got, tt.wantBucket)
				}
			}
		})
	}

	t.Run("ok/copied-values-outlive-scan", func(t *testing.T) {
		s := open(t)
		seed(t, s, "scan", scanData...)
		var keys []string
		var values [][]byte
		mustView(t, s, func(tx store.Tx) error {
			return tx.Scan("scan", "", "", func(k string, v []byte) (bool, error) {
				keys = append(keys, k)
				values = append(values, bytes.Clone(v))
				return true, nil
			})
		})
		// Overwrite everything so that any slice still pointing into the
		// store would change.
		mustUpdate(t, s, func(tx store.Tx) error {
			for _, k := range scanAll {
				if err := tx.Put("scan", k, []byte("overwritten-"+k)); err != nil {
					return err
				}
			}
			return nil
		})
		if !slices.Equal(keys, scanAll) {
			t.Fatalf("keys kept = %q, want %q", keys, scanAll)
		}
		for i, k := range keys {
			if string(values[i]) != "v:"+k {
				t.Errorf("copied value of %q = %q, want %q", k, values[i], "v:"+k)
			}
		}
	})

	t.Run("fail/scan-error-aborts-update", func(t *testing.T) {
		s := open(t)
		seed(t, s, "scan", scanData...)
		err := s.Update(t.Context(), func(tx store.Tx) error {
			return tx.Scan("scan", "", "", func(k string, _ []byte) (bool, error) {
				if err := tx.Delete("scan", k); err != nil {
					return false, err
				}
				if k == "ab" {
					return false, wrapped
				}
				return true, nil
			})
		})
		if !errors.Is(err, errSentinel) {
			t.Fatalf("Update() = %v, want %v", err, wrapped)
		}
		if got := Contents(t, s, "scan"); !maps.Equal(got, dataMap(scanAll, "v:")) {
			t.Errorf("bucket after failed Update = %v, want it unchanged", got)
		}
	})
}

func everyOther(keys []string) []string {
	var out []string
	for i := 0; i < len(keys); i += 2 {
		out = append(out, keys[i])
	}
	return out
}

func dataMap(keys []string, valuePrefix string) map[string]string {
	m := map[string]string{}
	for _, k := range keys {
		m[k] = valuePrefix + k
	}
	return m
}
