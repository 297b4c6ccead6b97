package bolt_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	live := mustOpen(t, filepath.Join(dir, "live.db"), bolt.Options{})
	if err := live.Update(t.Context(), func(tx store.Tx) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := tx.Put("items", k, bytes.Repeat([]byte(k), 5000)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if _, err := live.Backup(&backup); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bbolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("x"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	tests := []struct {
		name    string
		path    string
		wantErr error  // errors.Is
		want    string // in the error text
	}{
		{name: "ok/backup", path: write("backup.db", backup.Bytes())},
		// bbolt's read-only open takes a shared lock, which a running
		// store's exclusive lock refuses: an online backup must come from
		// the Store itself (Backup), not from opening the file.
		{name: "fail/held-by-a-running-store", path: filepath.Join(dir, "live.db"), wantErr: bolt.ErrInUse},
		{name: "fail/truncated", path: write("truncated.db", backup.Bytes()[:backup.Len()/2]), want: "verify"},
		{name: "fail/empty", path: write("empty.db", nil), want: "verify"},
		{name: "fail/not-a-store", path: foreign, want: "not a shortfuse store"},
		{name: "fail/missing", path: filepath.Join(dir, "nothing.db"), want: "verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := bolt.Verify(tt.path, 200*time.Millisecond)
			switch {
			case tt.wantErr == nil && tt.want == "":
				if err != nil {
					t.Errorf("Verify() = %v, want nil", err)
				}
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Verify() = %v, want %v", err, tt.wantErr)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Verify() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// A verified backup opens as a store with the same contents.
	s := mustOpen(t, filepath.Join(dir, "backup.db"), bolt.Options{})
	if err := s.View(t.Context(), func(tx store.Tx) error {
		n, err := tx.Count("items", "")
		if err == nil && n != 3 {
			t.Errorf("backup holds %d items, want 3", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
