package bolt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/shortfuse/shortfuse/internal/store"
)

// TestCommitFailureStopsWrites makes one commit fail with a real I/O error
// (the file descriptor briefly points at /dev/full) and checks that the store
// then refuses writes instead of retrying, while reads still work.
func TestCommitFailureStopsWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(key string) error {
		return s.Update(ctx, func(tx store.Tx) error { return tx.Put("items", key, []byte("v")) })
	}
	if err := put("before"); err != nil {
		t.Fatal(err)
	}

	fd := fileDescriptor(t, path)
	saved, err := syscall.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(saved)
	full, err := os.OpenFile("/dev/full", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	if err := syscall.Dup3(int(full.Fd()), fd, 0); err != nil {
		t.Fatal(err)
	}
	failed := put("lost")
	if err := syscall.Dup3(saved, fd, 0); err != nil {
		t.Fatal(err)
	}

	if failed == nil || !strings.Contains(failed.Error(), "bolt: commit") {
		t.Fatalf("Update() with a failing disk = %v, want a commit error", failed)
	}
	err = put("after")
	if err == nil || !strings.Contains(err.Error(), "refusing writes") || !errors.Is(err, errors.Unwrap(failed)) {
		t.Errorf("Update() after a failed commit = %v, want a refusal wrapping %v", err, failed)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		if _, err := tx.Get("items", "before"); err != nil {
			return err
		}
		if _, err := tx.Get("items", "lost"); !errors.Is(err, store.ErrNotFound) {
			return errors.New("the failed write is visible")
		}
		return nil
	})
	if err != nil {
		t.Errorf("View() after a failed commit = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	// Restarting recovers: the file holds the committed data only.
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get("items", "lost"); !errors.Is(err, store.ErrNotFound) {
			return errors.New("the failed write survived a restart")
		}
		_, err := tx.Get("items", "before")
		return err
	}); err != nil {
		t.Error(err)
	}
}

// fileDescriptor finds the descriptor this process has open on path.
func fileDescriptor(t *testing.T, path string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	found := -1
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			if found >= 0 {
				t.Fatalf("%s is open more than once", path)
			}
			found, _ = strconv.Atoi(e.Name())
		}
	}
	if found < 0 {
		t.Fatalf("no descriptor open on %s", path)
	}
	return found
}
