package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shortfuse/shortfuse/internal/store"
)

// Run runs the conformance suite against the stores that open returns. Each
// call of open must return a new, empty store and arrange to close it when
// the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Get", testGet},
		{"Put", testPut},
		{"Insert", testInsert},
		{"Delete", testDelete},
		{"Scan", testScan},
		{"ScanPaging", testScanPaging},
		{"ScanCallback", testScanCallback},
		{"Count", testCount},
		{"Validation", testValidation},
		{"Update", testUpdate},
		{"View", testView},
		{"Isolation", testIsolation},
		{"Concurrency", testConcurrency},
		{"LargeValues", testLargeValues},
		{"Context", testContext},
		{"Close", testClose},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, open) })
	}
}

// inEachTx runs check in a View and in an Update of s; kind names which.
func inEachTx(s store.Store, check func(kind string, run func(context.Context, func(store.Tx) error) error)) {
	check("View", s.View)
	check("Update", s.Update)
}

// errSentinel is what failing transaction functions wrap.
var errSentinel = errors.New("storetest: sentinel")

func mustUpdate(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update() = %v, want nil", err)
	}
}

func mustView(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View() = %v, want nil", err)
	}
}

// checkOp runs op in the transaction that in (mustUpdate or mustView)
// runs on s, and fails t unless op's error is want (by errors.Is; nil wants
// nil). what names op in the failure.
func checkOp(t *testing.T, s store.Store, in func(*testing.T, store.Store, func(store.Tx) error), what string, op func(store.Tx) error, want error) {
	t.Helper()
	var opErr error
	in(t, s, func(tx store.Tx) error {
		opErr = op(tx)
		return nil
	})
	switch {
	case want == nil && opErr != nil:
		t.Errorf("%s = %v, want nil", what, opErr)
	case want != nil && !errors.Is(opErr, want):
		t.Errorf("%s = %v, want %v", what, opErr, want)
	}
}

// seed writes alternating keys and values to bucket in one Update.
func seed(t *testing.T, s store.Store, bucket string, kv ...string) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error {
		for i := 0; i+1 < len(kv); i += 2 {
			if err := tx.Put(bucket, kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
}

// Put writes one key of s in its own Update, failing t if it cannot.
func Put(t *testing.T, s store.Store, bucket, key, value string) {
	t.Helper()
	seed(t, s, bucket, key, value)
}

// Fill writes n keys of bucket, fmt.Sprintf(format, i) for i from 0, each
// with value, in one Update of s, failing tb if it cannot.
func Fill(tb testing.TB, s store.Store, bucket, format string, n int, value []byte) {
	tb.Helper()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for i := range n {
			if err := tx.Put(bucket, fmt.Sprintf(format, i), value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// MustOpen returns the store that open opens, failing tb if it cannot, and
// closes the store when the test ends.
func MustOpen[S store.Store](tb testing.TB, open func() (S, error)) S {
	tb.Helper()
	s, err := open()
	if err != nil {
		tb.Fatalf("Open() = %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() = %v", err)
		}
	})
	return s
}

// Get reads one key of s in its own View.
func Get(t *testing.T, s store.Store, bucket, key string) (string, error) {
	t.Helper()
	var v []byte
	err := s.View(t.Context(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get(bucket, key)
		return err
	})
	return string(v), err
}

// Contents returns every key and value of bucket, read in its own View.
func Contents(t *testing.T, s store.Store, bucket string) map[string]string {
	t.Helper()
	m := map[string]string{}
	mustView(t, s, func(tx store.Tx) error {
		return tx.Scan(bucket, "", "", func(k string, v []byte) (bool, error) {
			m[k] = string(v)
			return true, nil
		})
	})
	return m
}

// scanKeys returns the keys that Scan visits.
func scanKeys(tx store.Tx, bucket, prefix, after string) ([]string, error) {
	keys := []string{}
	err := tx.Scan(bucket, prefix, after, func(k string, _ []byte) (bool, error) {
		keys = append(keys, k)
		return true, nil
	})
	return keys, err
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
