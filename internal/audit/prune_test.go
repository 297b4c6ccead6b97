package audit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/audit"
)

// TestPrune: rotated files beyond the newest Keep are shipped and removed,
// oldest first, each only once it verifies and links to the next; what
// stays verifies with VerifyPruned, and the shipped copies are the files.
func TestPrune(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	ship := filepath.Join(t.TempDir(), "ship")
	if err := os.Mkdir(ship, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.MaxBytes = 4096
	w := mustOpen(t, path, opts)
	appendN(t, w, 0, 40)
	before := logFiles(t, path)
	if len(before) < 5 {
		t.Fatalf("want several rotated files, have %v", before)
	}
	contents := map[string][]byte{}
	for _, f := range before {
		b, _ := os.ReadFile(f)
		contents[filepath.Base(f)] = b
	}

	if _, err := audit.Prune(path, audit.PruneOptions{Keep: 0}); err == nil {
		t.Errorf("Prune with Keep 0 = nil, want an error")
	}
	removed, err := audit.Prune(path, audit.PruneOptions{Keep: 2, ShipDir: ship})
	if err != nil {
		t.Fatal(err)
	}
	after := logFiles(t, path)
	if len(after) != 3 || len(removed) != len(before)-3 {
		t.Fatalf("after pruning to 2 rotated files: %v (removed %v)", after, removed)
	}
	for _, f := range removed {
		got, err := os.ReadFile(filepath.Join(ship, filepath.Base(f)))
		if err != nil || !bytes.Equal(got, contents[filepath.Base(f)]) {
			t.Errorf("shipped copy of %s: %v", f, err)
		}
	}
	if res, _ := audit.Verify(after...); res.OK {
		t.Errorf("Verify of a pruned log = OK, want the missing start reported")
	}
	res, err := audit.VerifyPruned(after...)
	if err != nil || !res.OK || res.StartSeq <= 1 || res.LastSeq != 40 {
		t.Fatalf("VerifyPruned = %+v, %v", res, err)
	}
	// The shipped files and what stays make the whole chain.
	all, _ := filepath.Glob(filepath.Join(ship, "audit.log*"))
	all = append(all, after...)
	if res, err := audit.Verify(all...); err != nil || !res.OK || res.Records != 40 {
		t.Errorf("Verify(shipped + kept) = %+v, %v", res, err)
	}

	// A rotated file that was edited is never pruned.
	appendN(t, w, 40, 40)
	files := logFiles(t, path)
	oldest := files[1] // files[0] is the active file
	b, _ := os.ReadFile(oldest)
	if err := os.WriteFile(oldest, bytes.Replace(b, []byte("GetSecretValue"), []byte("GetSecretValuX"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	removed, err = audit.Prune(path, audit.PruneOptions{Keep: 1})
	if err == nil || len(removed) != 0 || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("Prune with an edited oldest file: removed %v, %v", removed, err)
	}
	if _, err := os.Stat(oldest); err != nil {
		t.Errorf("the edited file was removed: %v", err)
	}
}
