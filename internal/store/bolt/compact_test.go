package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

// TestCompact: a store that held many records and lost most of them
// shrinks when compacted, keeps what it holds, and cannot be compacted
// while a Store has it open.
func TestCompact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	val := []byte(strings.Repeat("v", 1000))
	for i := 0; i < 20; i++ {
		if err := st.Update(ctx, func(tx store.Tx) error {
			for j := 0; j < 1000; j++ {
				if err := tx.Put("b", fmt.Sprintf("k%02d-%04d", i, j), val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Update(ctx, func(tx store.Tx) error {
		return tx.Scan("b", "", "", func(k string, _ []byte) (bool, error) {
			if !strings.HasSuffix(k, "-0007") {
				return true, tx.Delete("b", k)
			}
			return true, nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := bolt.Compact(path); !errors.Is(err, bolt.ErrInUse) {
		t.Errorf("Compact of an open store = %v, want ErrInUse", err)
	}
	st.Close()
	before, after, err := bolt.Compact(path)
	if err != nil {
		t.Fatal(err)
	}
	if after*4 > before {
		t.Errorf("compacted from %d to %d bytes, want at least 4 times smaller", before, after)
	}
	st, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 0
	if err := st.View(ctx, func(tx store.Tx) error {
		return tx.Scan("b", "", "", func(k string, v []byte) (bool, error) {
			n++
			return true, nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if n != 20 {
		t.Errorf("%d records after compaction, want 20", n)
	}
	t.Logf("compacted %d → %d bytes", before, after)
}
