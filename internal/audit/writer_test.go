package audit_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/audit/audittest"
)

// appendConcurrently appends n records from g goroutines started together and returns the
// seq each record got.
func appendConcurrently(tb testing.TB, w *audit.Writer, g, n int) []uint64 {
	tb.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	seqs := make([]uint64, g*n)
	errs := make(chan error, g*n)
	for i := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for j := range n {
				r := newRecord(i*n + j)
				if err := w.Append(context.Background(), r); err != nil {
					errs <- err
					return
				}
				seqs[i*n+j] = r.Seq
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatalf("Append() = %v", err)
	}
	return seqs
}

func TestConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := mustOpen(t, path, testOptions())
	const g, n = 64, 20
	seqs := appendConcurrently(t, w, g, n)
	seen := make(map[uint64]bool)
	for _, s := range seqs {
		if s < 1 || s > g*n || seen[s] {
			t.Fatalf("seq %d out of range or given twice", s)
		}
		seen[s] = true
	}
	mustVerify(t, path, g*n)
	if st := w.Stats(); st.Records != g*n || st.Failures != 0 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestGroupCommit(t *testing.T) {
	tests := []struct {
		name      string
		fsync     time.Duration // latency of each fsync
		syncDelay time.Duration
		maxSyncs  int
	}{
		// Writers that arrive during an fsync share the next one: 64 appends take the
		// first fsync alone, then a few batches.
		{"ok/share-the-next-fsync", 5 * time.Millisecond, 0, 16},
		// The first writer waits for the others: about one fsync in all.
		{"ok/sync-delay", 0, 50 * time.Millisecond, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			fsys := &audittest.FaultFS{}
			fsys.Slow(audittest.Sync, tt.fsync)
			opts := testOptions()
			opts.FS, opts.SyncDelay = fsys, tt.syncDelay
			w := mustOpen(t, path, opts)
			before := fsys.Count(audittest.Sync)
			appendConcurrently(t, w, 64, 1)
			syncs := fsys.Count(audittest.Sync) - before
			if syncs > tt.maxSyncs || syncs < 1 {
				t.Errorf("64 concurrent appends took %d fsyncs, want 1 to %d", syncs, tt.maxSyncs)
			}
			if st := w.Stats(); int(st.Syncs) != syncs {
				t.Errorf("Stats().Syncs = %d, file system saw %d", st.Syncs, syncs)
			}
			t.Logf("64 concurrent appends: %d fsyncs", syncs)
			mustVerify(t, path, 64)
		})
	}
}

// TestSinkFailure makes the disk fail in each way it can, and checks that the Append fails
// with the cause, that the log holds no part of the refused record, that the writer
// recovers when the disk does, and that the chain then stays whole with no duplicate.
func TestSinkFailure(t *testing.T) {
	type fault struct {
		op  audittest.Op
		err error
	}
	tests := []struct {
		name    string
		faults  []fault
		rotate  bool // the failing append is the one that rotates
		wantErr error
		// stuck: the disk refuses to cut away the half record while it fails; it goes
		// when the disk recovers (or, after a crash, when Open finds it).
		stuck bool
	}{
		{"fail/write-enospc-half-written", []fault{{audittest.Write, syscall.ENOSPC}}, false, syscall.ENOSPC, false},
		{"fail/fsync-eio", []fault{{audittest.Sync, syscall.EIO}}, false, syscall.EIO, false},
		{"fail/read-only", []fault{{audittest.Write, syscall.EROFS}, {audittest.Sync, syscall.EROFS},
			{audittest.Truncate, syscall.EROFS}, {audittest.Open, syscall.EROFS}, {audittest.SyncDir, syscall.EROFS}}, false, syscall.EROFS, false},
		{"fail/write-and-truncate", []fault{{audittest.Write, syscall.ENOSPC}, {audittest.Truncate, syscall.EIO}}, false, syscall.ENOSPC, true},
		{"fail/fsync-and-reopen", []fault{{audittest.Sync, syscall.EIO}, {audittest.Open, syscall.EACCES}}, false, syscall.EIO, false},
		{"fail/rotate-rename", []fault{{audittest.Rename, syscall.EROFS}}, true, syscall.EROFS, false},
		{"fail/rotate-new-file", []fault{{audittest.Open, syscall.ENOSPC}}, true, syscall.ENOSPC, false},
		{"fail/rotate-syncdir", []fault{{audittest.SyncDir, syscall.EIO}}, true, syscall.EIO, false},
		{"fail/rotate-then-write", []fault{{audittest.Write, syscall.ENOSPC}}, true, syscall.ENOSPC, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.log")
			fsys := &audittest.FaultFS{}
			opts := testOptions()
			opts.FS = fsys
			if tt.rotate {
				// Five records fit; the sixth rotates.
				line := len(readLinesAfter(t, newRecord(0)))
				opts.MaxBytes = int64(5*line + line/2)
			}
			w := mustOpen(t, path, opts)
			ctx := context.Background()
			appendN(t, w, 1, 5)
			before := snapshot(t, path)

			for _, f := range tt.faults {
				fsys.Fail(f.op, f.err)
			}
			for i := range 3 { // it keeps failing while the disk does
				r := newRecord(100 + i)
				err := w.Append(ctx, r)
				if !errors.Is(err, audit.ErrSink) || (i == 0 && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("Append() #%d on a failing disk = %v, want ErrSink and %v", i+1, err, tt.wantErr)
				}
				if r.Seq != 0 || r.Hash != "" {
					t.Errorf("refused record keeps seq %d", r.Seq)
				}
			}
			// Nothing of the refused records is in the log.
			if got := snapshot(t, path); got != before && !tt.stuck {
				t.Fatalf("log after refused appends: %s; want as before: %s", summary(got), summary(before))
			}
			if seq, _ := w.Head(); seq != 5 {
				t.Errorf("Head() = %d, want 5", seq)
			}
			if st := w.Stats(); st.Failures != 3 {
				t.Errorf("Stats().Failures = %d, want 3", st.Failures)
			}

			fsys.Heal()
			appendN(t, w, 6, 5)
			res := mustVerify(t, path, 10)
			if got := snapshot(t, path); !strings.HasPrefix(got, before) {
				t.Errorf("log after recovery does not start with the records before the failure")
			}
			if res.LastSeq != 10 {
				t.Errorf("LastSeq = %d, want 10", res.LastSeq)
			}
			assertNoDuplicate(t, path)
			// And a writer opened afterwards resumes the same chain.
			w.Close()
			w2 := mustOpen(t, path, opts)
			appendN(t, w2, 11, 1)
			mustVerify(t, path, 11)
		})
	}
}

// TestSinkFailureConcurrent fails the disk while 64 goroutines append, then heals it: every
// Append either succeeded (its record is in the log, once) or failed (it is not).
func TestSinkFailureConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	fsys := &audittest.FaultFS{}
	fsys.Slow(audittest.Sync, time.Millisecond)
	opts := testOptions()
	opts.FS = fsys
	opts.MaxBytes = 32 << 10
	w := mustOpen(t, path, opts)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := map[string]bool{}
	failed := 0
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				r := newRecord(i*10 + j)
				err := w.Append(context.Background(), r)
				mu.Lock()
				if err == nil {
					ok[r.RequestID] = true
				} else if errors.Is(err, audit.ErrSink) {
					failed++
				} else {
					t.Errorf("Append() = %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	go func() {
		for i := range 6 {
			time.Sleep(3 * time.Millisecond)
			if i%2 == 0 {
				fsys.Fail(audittest.Write, syscall.ENOSPC)
			} else {
				fsys.Heal()
			}
		}
	}()
	wg.Wait()
	fsys.Heal()
	res := mustVerify(t, path, len(ok))
	got := map[string]bool{}
	for _, f := range res.Files {
		for _, line := range readLines(t, f) {
			var r audit.Record
			json.Unmarshal(line, &r)
			if got[r.RequestID] || !ok[r.RequestID] {
				t.Fatalf("record %s in the log twice or without a successful Append", r.RequestID)
			}
			got[r.RequestID] = true
		}
	}
	t.Logf("%d appends durable, %d refused", len(ok), failed)
}

func TestReopen(t *testing.T) {
	partial := []byte(`{"eventVersion":"1.08","eventTime":"2026-11-25T19:3`)
	tests := []struct {
		name      string
		prepare   func(t *testing.T, path string) // after 5 records and Close
		records   int                             // in the log after Open
		recovered string
		wantErr   string
	}{
		{name: "ok/clean", prepare: func(t *testing.T, path string) {}, records: 5},
		{name: "ok/partial-last-line", prepare: func(t *testing.T, path string) {
			appendBytes(t, path, partial)
		}, records: 5, recovered: "cut 51 bytes of a partial record"},
		{name: "ok/complete-record-without-newline", prepare: func(t *testing.T, path string) {
			lines := readLines(t, path)
			last := lines[len(lines)-1]
			appendBytes(t, path, reseal(t, last, func(r *audit.Record) { r.Seq, r.PrevHash = 6, r.Hash }))
		}, records: 5, recovered: "partial record"},
		{name: "ok/zeros-at-the-end", prepare: func(t *testing.T, path string) {
			appendBytes(t, path, make([]byte, 4096))
		}, records: 5, recovered: "cut 4096 bytes"},
		{name: "ok/only-a-partial-line", prepare: func(t *testing.T, path string) {
			os.WriteFile(path, partial, 0o600)
		}, records: 0, recovered: "partial record"},
		{name: "ok/empty-file", prepare: func(t *testing.T, path string) {
			os.WriteFile(path, nil, 0o600)
		}, records: 0},
		{name: "ok/missing-file", prepare: func(t *testing.T, path string) { os.Remove(path) }, records: 0},
		{name: "ok/crash-between-rename-and-create", prepare: func(t *testing.T, path string) {
			os.Rename(path, path+".1-5")
		}, records: 5},
		{name: "ok/crash-after-create", prepare: func(t *testing.T, path string) {
			os.Rename(path, path+".1-5")
			os.WriteFile(path, nil, 0o600)
		}, records: 5},
		{name: "fail/last-record-edited", prepare: func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			i := bytes.LastIndex(b, []byte("GetSecretValue"))
			copy(b[i:], "PutSecretValue")
			os.WriteFile(path, b, 0o600)
		}, wantErr: "hash does not match"},
		{name: "fail/last-line-garbage", prepare: func(t *testing.T, path string) {
			appendBytes(t, path, []byte("garbage\n"))
		}, wantErr: "not a record"},
		{name: "fail/rotated-file-damaged", prepare: func(t *testing.T, path string) {
			os.Rename(path, path+".1-5")
			appendBytes(t, path+".1-5", partial)
		}, wantErr: "does not end with a complete record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			w := mustOpen(t, path, testOptions())
			appendN(t, w, 1, 5)
			w.Close()
			tt.prepare(t, path)

			w, err := audit.Open(path, testOptions())
			if tt.wantErr != "" {
				if err == nil || !contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open() = %v, want error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open() = %v", err)
			}
			defer w.Close()
			if !contains(w.Recovered, tt.recovered) || (tt.recovered == "") != (w.Recovered == "") {
				t.Errorf("Recovered = %q, want %q", w.Recovered, tt.recovered)
			}
			if seq, _ := w.Head(); seq != uint64(tt.records) {
				t.Errorf("Head() = %d, want %d", seq, tt.records)
			}
			appendN(t, w, 6, 3)
			mustVerify(t, path, tt.records+3)
		})
	}
}

func TestRotatedAuditFilesChainAndVerify(t *testing.T) {
	tests := []struct {
		name       string
		maxBytes   int64
		concurrent bool
	}{
		{"ok/serial", 8 << 10, false},
		{"ok/concurrent", 8 << 10, true},
		{"ok/one-record-per-file", 100, false}, // every record is larger than MaxBytes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			opts := testOptions()
			opts.MaxBytes = tt.maxBytes
			w := mustOpen(t, path, opts)
			const n = 128
			if tt.concurrent {
				appendConcurrently(t, w, 32, n/32)
			} else {
				appendN(t, w, 0, n)
			}
			res := mustVerify(t, path, n)
			if st := w.Stats(); int(st.Rotations) != len(res.Files)-1 {
				t.Errorf("Rotations = %d, files %d", st.Rotations, len(res.Files))
			}
			seen := map[string]bool{}
			for _, f := range res.Files {
				lines := readLines(t, f)
				fi, _ := os.Stat(f)
				if fi.Size() > tt.maxBytes && len(lines) > 1 {
					t.Errorf("%s: %d bytes in %d records, beyond MaxBytes %d", f, fi.Size(), len(lines), tt.maxBytes)
				}
				if f != path {
					var first, last audit.Record
					json.Unmarshal(lines[0], &first)
					json.Unmarshal(lines[len(lines)-1], &last)
					if want := fmt.Sprintf("%s.%d-%d", path, first.Seq, last.Seq); f != want {
						t.Errorf("rotated file %s holds seq %d-%d", f, first.Seq, last.Seq)
					}
				}
				for _, l := range lines {
					var r audit.Record
					json.Unmarshal(l, &r)
					if seen[r.RequestID] {
						t.Errorf("%s twice", r.RequestID)
					}
					seen[r.RequestID] = true
				}
			}
			if len(seen) != n {
				t.Errorf("%d distinct records, want %d", len(seen), n)
			}
			// Reopened, the writer continues the chain in the same files.
			w.Close()
			w = mustOpen(t, path, opts)
			appendN(t, w, n, 10)
			mustVerify(t, path, n+10)
		})
	}
}

// TestCrashWhileFaulted: the disk filled up mid-write and refused to cut the half record
// away, then the broker died. The next Open finds the half record and cuts it.
func TestCrashWhileFaulted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	fsys := &audittest.FaultFS{}
	opts := testOptions()
	opts.FS = fsys
	w := mustOpen(t, path, opts)
	appendN(t, w, 1, 5)
	before := snapshot(t, path)
	fsys.Fail(audittest.Write, syscall.ENOSPC)
	fsys.Fail(audittest.Truncate, syscall.EIO)
	if err := w.Append(context.Background(), newRecord(6)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append() = %v, want ENOSPC", err)
	}
	if snapshot(t, path) == before {
		t.Fatal("the fault left no half record; the test tests nothing")
	}
	// Crash: no Close. The disk is back after the reboot.
	fsys.Heal()
	w2, err := audit.Open(path, opts)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer w2.Close()
	if !contains(w2.Recovered, "partial record") {
		t.Errorf("Recovered = %q", w2.Recovered)
	}
	if got := snapshot(t, path); got != before {
		t.Fatalf("log after Open: %s; want %s", summary(got), summary(before))
	}
	appendN(t, w2, 6, 2)
	mustVerify(t, path, 7)
}

func TestCanceledWhileQueued(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	fsys := &audittest.FaultFS{}
	fsys.Slow(audittest.Sync, 20*time.Millisecond)
	opts := testOptions()
	opts.FS = fsys
	w := mustOpen(t, path, opts)
	// The first Append holds the disk; the second queues behind it and gives up.
	go w.Append(context.Background(), newRecord(1))
	time.Sleep(5 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Millisecond)
	defer cancel()
	r := newRecord(2)
	err := w.Append(ctx, r)
	if err == nil {
		// The first Append had not started yet; nothing to check.
		t.Skip("the second Append was not queued")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append() = %v, want DeadlineExceeded", err)
	}
	w.Close()
	res := mustVerify(t, path, 1)
	if res.LastSeq != 1 {
		t.Errorf("LastSeq = %d", res.LastSeq)
	}
}

// snapshot returns the contents of the log: its files, rotated ones in seq order, then
// the active file. Which file holds a record does not matter.
func snapshot(tb testing.TB, path string) string {
	tb.Helper()
	var files []string
	for _, f := range logFiles(tb, path) {
		if f != path {
			files = append(files, f)
		}
	}
	slices.SortFunc(files, func(a, b string) int {
		return cmp.Compare(firstOfName(a), firstOfName(b))
	})
	var b strings.Builder
	for _, f := range append(files, path) {
		c, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			tb.Fatal(err)
		}
		b.Write(c)
	}
	return b.String()
}

func firstOfName(name string) uint64 {
	var first, last uint64
	fmt.Sscanf(name[strings.LastIndexByte(name, '.')+1:], "%d-%d", &first, &last)
	return first
}

func assertNoDuplicate(tb testing.TB, path string) {
	tb.Helper()
	seen := map[string]bool{}
	for _, f := range logFiles(tb, path) {
		for _, l := range readLines(tb, f) {
			var r audit.Record
			json.Unmarshal(l, &r)
			if seen[r.RequestID] {
				tb.Errorf("record %s twice", r.RequestID)
			}
			seen[r.RequestID] = true
		}
	}
}

// readLinesAfter returns the line a record gets in a fresh log.
func readLinesAfter(tb testing.TB, r *audit.Record) []byte {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "probe.log")
	w := mustOpen(tb, path, testOptions())
	if err := w.Append(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	return b
}

func appendBytes(tb testing.TB, path string, b []byte) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		tb.Fatal(err)
	}
}

// summary describes a snapshot briefly.
func summary(snap string) string {
	return fmt.Sprintf("%d bytes, %d lines, ending %q", len(snap), strings.Count(snap, "\n"), snap[max(0, len(snap)-20):])
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := mustOpen(t, path, testOptions())
	appendN(t, w, 1, 1)
	if w2, err := audit.Open(path, testOptions()); err == nil || !contains(err.Error(), "in use by another writer") {
		if w2 != nil {
			w2.Close()
		}
		t.Fatalf("second Open() = %v, want in use", err)
	}
	w.Close()
	w2 := mustOpen(t, path, testOptions())
	appendN(t, w2, 2, 1)
	mustVerify(t, path, 2)
}
