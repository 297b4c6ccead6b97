package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
	"github.com/shortfuse/shortfuse/internal/store/storetest"
)

// mustOpen opens a store at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string, opts bolt.Options) *bolt.Store {
	tb.Helper()
	return storetest.MustOpen(tb, func() (*bolt.Store, error) { return bolt.Open(path, opts) })
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		opts bolt.Options
	}{
		{"ok/group-commit", bolt.Options{}},
		{"ok/bbolt-batch", bolt.Options{MaxBatchDelay: 2 * time.Millisecond}},
		{"ok/unbatched", bolt.Options{MaxBatchDelay: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) store.Store {
				return mustOpen(t, filepath.Join(t.TempDir(), "store.db"), tt.opts)
			})
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, s, "items", "k1", "v1")
	storetest.Put(t, s, "items", "k2", "v2")
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.Delete("items", "k2") })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	s = mustOpen(t, path, bolt.Options{})
	if got, err := storetest.Get(t, s, "items", "k1"); err != nil || got != "v1" {
		t.Errorf("after reopen, Get(k1) = %q, %v; want %q", got, err, "v1")
	}
	if _, err := storetest.Get(t, s, "items", "k2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after reopen, Get(k2) = %v, want ErrNotFound", err)
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // creates whatever is at path
		opts    bolt.Options
		wantErr string // "" for success
		wantIs  error
	}{
		{
			name:    "ok/new-file",
			prepare: func(*testing.T, string) {},
		},
		{
			name: "ok/existing-store",
			prepare: func(t *testing.T, path string) {
				s, err := bolt.Open(path, bolt.Options{})
				if err != nil {
					t.Fatal(err)
				}
				storetest.Put(t, s, "items", "k", "v")
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "ok/empty-bolt-file",
			prepare: func(t *testing.T, path string) {
				db, err := bbolt.Open(path, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "fail/in-use",
			prepare: func(t *testing.T, path string) {
				mustOpen(t, path, bolt.Options{})
			},
			opts:    bolt.Options{LockTimeout: 50 * time.Millisecond},
			wantErr: "data directory is in use by another shortfuse process",
			wantIs:  bolt.ErrInUse,
		},
		{
			name: "fail/in-use-default-timeout",
			prepare: func(t *testing.T, path string) {
				mustOpen(t, path, bolt.Options{})
			},
			wantErr: "data directory is in use by another shortfuse process",
			wantIs:  bolt.ErrInUse,
		},
		{
			name: "fail/other-bolt-data",
			prepare: func(t *testing.T, path string) {
				db, err := bbolt.Open(path, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				err = db.Update(func(tx *bbolt.Tx) error {
					_, err := tx.CreateBucket([]byte("foreign"))
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "not a shortfuse store",
		},
		{
			name: "fail/not-a-bolt-file",
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path, bytes.Repeat([]byte("not bolt "), 1000), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "bolt: open",
		},
		{
			name: "fail/missing-directory",
			prepare: func(t *testing.T, path string) {
				if err := os.Remove(filepath.Dir(path)); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "no such file or directory",
			wantIs:  os.ErrNotExist,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "data", "store.db")
			if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, path)
			s, err := bolt.Open(path, tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Open() = %v, want nil", err)
				}
				defer s.Close()
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if perm := fi.Mode().Perm(); perm != 0o600 {
					t.Errorf("file mode = %v, want 0600", perm)
				}
				storetest.Put(t, s, "items", "k2", "v2")
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("Open() = nil, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open() = %q, want it to contain %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Open() = %v, want errors.Is %v", err, tt.wantIs)
			}
		})
	}
}

func TestLockReleasedByClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mustOpen(t, path, bolt.Options{LockTimeout: 50 * time.Millisecond})
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, filepath.Join(dir, "store.db"), bolt.Options{})
	want := map[string]string{}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range 500 {
			k, v := fmt.Sprintf("/prod/secret-%03d", i), strings.Repeat(strconv.Itoa(i), 50)
			want[k] = v
			if err := tx.Put("secrets", k, []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	backup := filepath.Join(dir, "backup.db")
	f, err := os.OpenFile(backup, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Backup(f)
	if err != nil {
		t.Fatalf("Backup() = %d, %v", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Size() != n {
		t.Fatalf("backup file size = %v, %v; Backup() reported %d", fi.Size(), err, n)
	}

	// The copy opens (even while the original is open) and holds the data.
	b := mustOpen(t, backup, bolt.Options{})
	got := storetest.Contents(t, b, "secrets")
	if len(got) != len(want) {
		t.Fatalf("backup holds %d keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("backup %s = %q, want %q", k, got[k], v)
		}
	}
}

// TestBackupDuringWrites takes backups while writers move units between two
// keys: every copy must hold a committed state.
func TestBackupDuringWrites(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, filepath.Join(dir, "store.db"), bolt.Options{})
	storetest.Put(t, s, "bank", "a", "1000")
	storetest.Put(t, s, "bank", "b", "0")
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				err := s.Update(context.Background(), func(tx store.Tx) error {
					a, b := mustBalances(tx)
					return errors.Join(
						tx.Put("bank", "a", []byte(strconv.Itoa(a-1))),
						tx.Put("bank", "b", []byte(strconv.Itoa(b+1))),
						// Grow the file so that backups race with
						// page allocation too.
						tx.Put("pad", strconv.Itoa(b), bytes.Repeat([]byte{'p'}, 3000)),
					)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 5 {
		var buf bytes.Buffer
		if _, err := s.Backup(&buf); err != nil {
			t.Fatalf("Backup() = %v", err)
		}
		path := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			t.Fatalf("Open(backup) = %v", err)
		}
		err = b.View(t.Context(), func(tx store.Tx) error {
			a, bb := mustBalances(tx)
			if a+bb != 1000 {
				return fmt.Errorf("backup %d: a=%d b=%d, want sum 1000", i, a, bb)
			}
			n, err := tx.Count("pad", "")
			if err == nil && n != bb {
				err = fmt.Errorf("backup %d: %d pad keys, want %d", i, n, bb)
			}
			return err
		})
		if err != nil {
			t.Error(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
}

func mustBalances(tx store.Tx) (a, b int) {
	va, err1 := tx.Get("bank", "a")
	vb, err2 := tx.Get("bank", "b")
	a, err3 := strconv.Atoi(string(va))
	b, err4 := strconv.Atoi(string(vb))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		panic(err)
	}
	return a, b
}

func TestBackupAfterClose(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(&bytes.Buffer{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Backup() after Close = %v, want ErrClosed", err)
	}
}

func benchStore(b *testing.B, opts bolt.Options) *bolt.Store {
	return mustOpen(b, filepath.Join(b.TempDir(), "store.db"), opts)
}

func BenchmarkGet(b *testing.B) {
	const keys = 10000
	s := benchStore(b, bolt.Options{})
	storetest.Fill(b, s, "bench", "key-%05d", keys, bytes.Repeat([]byte{'v'}, 256))
	get := func(i int) error {
		return s.View(context.Background(), func(tx store.Tx) error {
			_, err := tx.Get("bench", fmt.Sprintf("key-%05d", i%keys))
			return err
		})
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := get(i); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1000))
			for pb.Next() {
				if err := get(i); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

func BenchmarkPut(b *testing.B) {
	value := bytes.Repeat([]byte{'v'}, 256)
	for _, bc := range []struct {
		name string
		opts bolt.Options
	}{
		{"group-commit", bolt.Options{}},
		{"bbolt-batch-2ms", bolt.Options{MaxBatchDelay: 2 * time.Millisecond}},
		{"unbatched", bolt.Options{MaxBatchDelay: -1}},
	} {
		put := func(s store.Store, i int64) error {
			return s.Update(context.Background(), func(tx store.Tx) error {
				return tx.Put("bench", fmt.Sprintf("key-%08d", i), value)
			})
		}
		b.Run("serial/"+bc.name, func(b *testing.B) {
			s := benchStore(b, bc.opts)
			b.ReportAllocs()
			var i int64
			for b.Loop() {
				if err := put(s, i); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run("parallel/"+bc.name, func(b *testing.B) {
			s := benchStore(b, bc.opts)
			b.ReportAllocs()
			// Writers mostly wait on fsync, so run many per CPU as a
			// server with many clients would.
			b.SetParallelism(16)
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := put(s, next.Add(1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestReadersDoNotBlockWriters holds a View open while an Update grows the
// file by megabytes: with the default memory map the writer need not wait.
func TestReadersDoNotBlockWriters(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
	storetest.Put(t, s, "items", "k", "old")
	err := s.View(t.Context(), func(tx store.Tx) error {
		done := make(chan error, 1)
		go func() {
			done <- s.Update(context.Background(), func(tx store.Tx) error {
				for i := range 16 {
					if err := tx.Put("blobs", strconv.Itoa(i), bytes.Repeat([]byte{'x'}, 1<<20)); err != nil {
						return err
					}
				}
				return tx.Put("items", "k", []byte("new"))
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				return err
			}
		case <-time.After(30 * time.Second):
			// Deadlock guard only: a blocked writer would wait forever.
			t.Fatal("Update() waited for an open View")
		}
		v, err := tx.Get("items", "k")
		if err == nil && string(v) != "old" {
			err = fmt.Errorf("View saw %q after a concurrent commit, want its snapshot", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
