//go:build linux

package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/shortfuse/shortfuse/internal/audit"
)

// allocated returns the bytes allocated to the file at path, and its size.
func allocated(t *testing.T, path string) (int64, int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512, fi.Size()
}

// TestIntentReserve checks on the machine's file system that an intent leaves at least
// IntentReserve bytes allocated past the end of the log, and that the space is reserved
// ahead, so that later intents usually find it done.
func TestIntentReserve(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := mustOpen(t, path, testOptions())
	intent := func(i int) {
		r := newRecord(i)
		r.Phase = audit.PhaseIntent
		r.ReadOnly = false
		if err := w.Append(context.Background(), r); err != nil {
			t.Fatalf("Append(intent %d) = %v", i, err)
		}
	}
	intent(0)
	alloc, size := allocated(t, path)
	if alloc == 0 {
		t.Skip("this file system does not report allocated blocks")
	}
	if alloc < size+audit.IntentReserve {
		t.Fatalf("after an intent: %d bytes allocated for a %d-byte log, want at least %d more", alloc, size, audit.IntentReserve)
	}
	// Reserved ahead: a few more intents fit in what the first one allocated.
	if alloc < size+audit.IntentReserve+64<<10 {
		t.Errorf("after an intent: %d bytes allocated for a %d-byte log, want the reserve allocated ahead", alloc, size)
	}
	for i := 1; i < 50; i++ {
		intent(i)
		alloc, size = allocated(t, path)
		if alloc < size+audit.IntentReserve {
			t.Fatalf("after intent %d: %d bytes allocated for a %d-byte log", i, alloc, size)
		}
	}
	mustVerify(t, path, 50)
}
