package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shortfuse/shortfuse/internal/audit"
)

// reseal decodes a line, lets edit change the record, and encodes it again with a hash
// that matches: what someone who knows the format but not the rest of the chain can do.
func reseal(tb testing.TB, line []byte, edit func(r *audit.Record)) []byte {
	tb.Helper()
	var r audit.Record
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		tb.Fatal(err)
	}
	edit(&r)
	r.Hash = ""
	b, err := json.Marshal(&r)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(b)
	r.Hash = hex.EncodeToString(sum[:])
	b, err = json.Marshal(&r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func hashOf(tb testing.TB, line []byte) string {
	tb.Helper()
	var r audit.Record
	if err := json.Unmarshal(line, &r); err != nil {
		tb.Fatal(err)
	}
	return r.Hash
}

func TestVerifyTampering(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.log")
	w := mustOpen(t, orig, testOptions())
	appendN(t, w, 1, 10)
	w.Close()
	good := readLines(t, orig)

	tests := []struct {
		name     string
		tamper   func(lines [][]byte) [][]byte
		raw      func(b []byte) []byte // applied to the file bytes after tamper
		brokenAt uint64
		line     int
		reason   string
	}{
		{name: "ok/untouched", tamper: func(l [][]byte) [][]byte { return l }},
		{name: "fail/edited", tamper: func(l [][]byte) [][]byte {
			l[3] = bytes.Replace(l[3], []byte("GetSecretValue"), []byte("PutSecretValue"), 1)
			return l
		}, brokenAt: 4, line: 4, reason: "hash of seq 4 does not match"},
		{name: "fail/edited-and-resealed", tamper: func(l [][]byte) [][]byte {
			l[3] = reseal(t, l[3], func(r *audit.Record) { r.SourceIPAddress = "192.0.2.1" })
			return l
		}, brokenAt: 5, line: 5, reason: "prevHash of seq 5 is not the hash of seq 4"},
		{name: "fail/deleted-middle", tamper: func(l [][]byte) [][]byte { return slices.Delete(l, 3, 4) },
			brokenAt: 4, line: 4, reason: "seq 5 follows seq 3: 1 record(s) missing"},
		{name: "fail/deleted-first", tamper: func(l [][]byte) [][]byte { return l[1:] },
			brokenAt: 1, line: 1, reason: "chain starts at seq 2"},
		{name: "fail/duplicated", tamper: func(l [][]byte) [][]byte { return slices.Insert(l, 4, l[3]) },
			brokenAt: 5, line: 5, reason: "seq 4 follows seq 4: a duplicated or reordered record"},
		{name: "fail/reordered", tamper: func(l [][]byte) [][]byte { l[3], l[4] = l[4], l[3]; return l },
			brokenAt: 4, line: 4, reason: "seq 5 follows seq 3"},
		{name: "fail/inserted", tamper: func(l [][]byte) [][]byte {
			forged := reseal(t, l[3], func(r *audit.Record) { r.Seq, r.PrevHash, r.EventName = 5, hashOf(t, l[3]), "DeleteSecret" })
			return slices.Insert(l, 4, forged)
		}, brokenAt: 6, line: 6, reason: "seq 5 follows seq 5"},
		{name: "fail/replaced-resealed-chain-rest-kept", tamper: func(l [][]byte) [][]byte {
			l[9] = reseal(t, l[9], func(r *audit.Record) { r.PrevHash = hashOf(t, l[7]) })
			return l
		}, brokenAt: 10, line: 10, reason: "prevHash of seq 10 is not the hash of seq 9"},
		{name: "fail/first-prevhash", tamper: func(l [][]byte) [][]byte {
			l[0] = reseal(t, l[0], func(r *audit.Record) { r.PrevHash = "00" })
			return l
		}, brokenAt: 1, line: 1, reason: "prevHash of seq 1 is not empty"},
		{name: "fail/truncated-tail", tamper: func(l [][]byte) [][]byte { return l },
			raw:      func(b []byte) []byte { return b[:len(b)-40] },
			brokenAt: 10, line: 10, reason: "partial record at the end"},
		{name: "fail/newline-cut", tamper: func(l [][]byte) [][]byte { return l },
			raw:      func(b []byte) []byte { return b[:len(b)-1] },
			brokenAt: 10, line: 10, reason: "partial record"},
		{name: "fail/garbage-appended", tamper: func(l [][]byte) [][]byte { return append(l, []byte("garbage")) },
			brokenAt: 11, line: 11, reason: "not a record: invalid JSON"},
		{name: "fail/empty-line", tamper: func(l [][]byte) [][]byte { return slices.Insert(l, 2, []byte{}) },
			brokenAt: 3, line: 3, reason: "empty line"},
		{name: "fail/space-added", tamper: func(l [][]byte) [][]byte {
			l[3] = append([]byte("{ "), l[3][1:]...)
			return l
		}, brokenAt: 4, line: 4, reason: "not in canonical form"},
		{name: "fail/crlf", tamper: func(l [][]byte) [][]byte { l[3] = append(l[3], '\r'); return l },
			brokenAt: 4, line: 4, reason: "not in canonical form"},
		{name: "fail/duplicate-key", tamper: func(l [][]byte) [][]byte {
			l[3] = append([]byte(`{"eventName":"DeleteSecret",`), l[3][1:]...)
			return l
		}, brokenAt: 4, line: 4, reason: "not in canonical form"},
		{name: "fail/field-name-case", tamper: func(l [][]byte) [][]byte {
			l[3] = bytes.Replace(l[3], []byte(`"eventName"`), []byte(`"EventName"`), 1)
			return l
		}, brokenAt: 4, line: 4, reason: "not in canonical form"},
		{name: "fail/unknown-field", tamper: func(l [][]byte) [][]byte {
			l[3] = append([]byte(`{"extra":1,`), l[3][1:]...)
			return l
		}, brokenAt: 4, line: 4, reason: "unknown field"},
		{name: "fail/wrong-type", tamper: func(l [][]byte) [][]byte {
			l[3] = bytes.Replace(l[3], []byte(`"readOnly":true`), []byte(`"readOnly":"yes"`), 1)
			return l
		}, brokenAt: 4, line: 4, reason: "wrong type for field"},
		{name: "fail/hash-upper-case", tamper: func(l [][]byte) [][]byte {
			h := hashOf(t, l[3])
			l[3] = bytes.Replace(l[3], []byte(h), bytes.ToUpper([]byte(h)), 1)
			return l
		}, brokenAt: 4, line: 4, reason: "hash of seq 4 does not match"},
		{name: "fail/hash-cut", tamper: func(l [][]byte) [][]byte {
			h := hashOf(t, l[3])
			l[3] = bytes.Replace(l[3], []byte(h), []byte(h[:10]), 1)
			return l
		}, brokenAt: 4, line: 4, reason: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := make([][]byte, len(good))
			for i := range good {
				lines[i] = bytes.Clone(good[i])
			}
			path := filepath.Join(t.TempDir(), "audit.log")
			writeLines(t, path, tt.tamper(lines))
			if tt.raw != nil {
				b, _ := os.ReadFile(path)
				os.WriteFile(path, tt.raw(b), 0o600)
			}
			res, err := audit.Verify(path)
			if err != nil {
				t.Fatalf("Verify() error = %v", err)
			}
			if tt.reason == "" {
				if !res.OK || res.Records != 10 || res.LastSeq != 10 {
					t.Fatalf("Verify() = %+v, want whole with 10 records", res)
				}
				return
			}
			if res.OK || res.BrokenAt != tt.brokenAt || res.Line != tt.line || res.BrokenFile != path ||
				!contains(res.Reason, tt.reason) {
				t.Fatalf("Verify() = OK %v broken at %d (%s:%d): %q; want broken at %d (line %d): %q",
					res.OK, res.BrokenAt, res.BrokenFile, res.Line, res.Reason, tt.brokenAt, tt.line, tt.reason)
			}
			if res.Records != int(tt.brokenAt-1) || res.LastSeq != tt.brokenAt-1 {
				t.Errorf("Records = %d LastSeq = %d, want %d", res.Records, res.LastSeq, tt.brokenAt-1)
			}
		})
	}
}

func TestVerifyFiles(t *testing.T) {
	// A log rotated into several files.
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	opts := testOptions()
	opts.MaxBytes = 4 << 10
	w := mustOpen(t, path, opts)
	appendN(t, w, 1, 40)
	w.Close()
	files := logFiles(t, path)
	if len(files) < 4 {
		t.Fatalf("files = %v, want several", files)
	}
	var active string
	var rot []string
	for _, f := range files {
		if f == path {
			active = f
		} else {
			rot = append(rot, f)
		}
	}
	byFirst := func(names []string) []string {
		out := slices.Clone(names)
		slices.SortFunc(out, func(a, b string) int {
			var ra, rb audit.Record
			json.Unmarshal(readLines(t, a)[0], &ra)
			json.Unmarshal(readLines(t, b)[0], &rb)
			return int(ra.Seq) - int(rb.Seq)
		})
		return out
	}
	chain := append(byFirst(rot), active)

	tests := []struct {
		name   string
		files  []string
		ok     bool
		reason string
		at     uint64
	}{
		{"ok/chain-order", chain, true, "", 0},
		{"ok/reverse-order", reversed(chain), true, "", 0},
		{"ok/named-twice", append(slices.Clone(chain), chain[0]), true, "", 0},
		{"fail/middle-file-missing", slices.Delete(slices.Clone(chain), 1, 2), false, "record(s) missing", 0},
		{"fail/first-file-missing", chain[1:], false, "chain starts at seq", 1},
		{"ok/last-file-missing", chain[:len(chain)-1], true, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := audit.Verify(tt.files...)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tt.ok || !contains(res.Reason, tt.reason) || (tt.at != 0 && res.BrokenAt != tt.at) {
				t.Fatalf("Verify() = %+v, want OK %v reason %q", res, tt.ok, tt.reason)
			}
			if tt.ok && !slices.Equal(res.Files, chain[:len(res.Files)]) {
				t.Errorf("Files = %v, want chain order %v", res.Files, chain)
			}
		})
	}
	t.Run("fail/no-files", func(t *testing.T) {
		if _, err := audit.Verify(); err == nil {
			t.Fatal("Verify() with no files: no error")
		}
	})
	t.Run("fail/unreadable", func(t *testing.T) {
		if _, err := audit.Verify(filepath.Join(dir, "nope")); err == nil {
			t.Fatal("Verify(missing file): no error")
		}
	})
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
