package testutil

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

// TempStore opens a bbolt store in a new temporary directory of the test,
// closed when the test ends, and returns it with its file's path.
func TempStore(t testing.TB) (*bolt.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

// Sealer returns a sealer under one new data key (id 1).
func Sealer(t testing.TB) *seal.Sealer {
	t.Helper()
	dk, err := seal.NewDataKey(rand.Reader, 1)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.NewSealer(rand.Reader, dk)
	if err != nil {
		t.Fatal(err)
	}
	return sealer
}
