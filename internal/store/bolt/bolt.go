package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/shortfuse/shortfuse/internal/store"
)

// Defaults for the zero fields of Options.
const (
	DefaultLockTimeout  = time.Second
	DefaultMaxBatchSize = 1000
	// DefaultInitialMmapSize is far above the size of a broker's store, so
	// that in practice readers never hold up writers.
	DefaultInitialMmapSize = 256 << 20
)

// ErrInUse means another Store, in this or another process, holds the file.
var ErrInUse = errors.New("data directory is in use by another shortfuse process")

// Options tunes Open. The zero value is the recommended configuration.
type Options struct {
	// LockTimeout bounds how long Open waits for the file lock before
	// failing with ErrInUse. Zero means DefaultLockTimeout; it never means
	// waiting forever.
	LockTimeout time.Duration

	// MaxBatchDelay chooses how concurrent Updates share commits. Zero (the
	// default) is group commit: Updates that arrive while a commit is in
	// progress join the next one, and a lone Update commits at once. A
	// positive value is bbolt's DB.Batch instead: a batch waits up to that
	// long for more callers. A negative value disables batching: each Update
	// commits (and fsyncs) alone.
	MaxBatchDelay time.Duration

	// MaxBatchSize bounds the Updates that share one commit. Zero means
	// DefaultMaxBatchSize.
	MaxBatchSize int

	// InitialMmapSize is the initial size in bytes of bbolt's read-only
	// memory map of the file. While the file fits in the map, readers never
	// block the writer; a writer that has to grow the map waits until every
	// open read transaction (a long Scan, a Backup) has ended, and all other
	// writers wait behind it. The map costs address space, not memory; with
	// a map this large bbolt grows the file in sparse 16 MiB steps from the
	// start (so a new store shows 16 MiB but uses a few KiB of disk; Backup
	// copies only the used part). Zero means DefaultInitialMmapSize; a
	// negative value starts with bbolt's small map, grown as the file
	// grows.
	InitialMmapSize int
}

// Store is a store.Store kept in one bbolt file.
type Store struct {
	db    *bbolt.DB
	batch bool         // bbolt's DB.Batch (MaxBatchDelay > 0)
	group *groupCommit // group commit (MaxBatchDelay == 0)

	// Transactions register in inflight through gate, so that Close,
	// having closed gate, can wait for all of them. failed is the first
	// commit failure.
	gate     store.Gate
	inflight sync.WaitGroup
	failed   atomic.Pointer[error]

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// The file's own bookkeeping lives in a bucket whose name no valid store
// bucket can take (store bucket names never contain NUL).
var (
	metaBucket = []byte("\x00shortfuse")
	formatKey  = []byte("format")
	formatV1   = []byte("shortfuse-store-v1")
)

// Open opens or creates the store file at path with mode 0600. The parent
// directory must exist. It fails with an error wrapping ErrInUse if another
// Store holds the file, and refuses a bbolt file that was not created by
// this package.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.MaxBatchSize <= 0 {
		opts.MaxBatchSize = DefaultMaxBatchSize
	}
	switch {
	case opts.InitialMmapSize == 0:
		opts.InitialMmapSize = DefaultInitialMmapSize
	case opts.InitialMmapSize < 0:
		opts.InitialMmapSize = 0
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:         opts.LockTimeout,
		FreelistType:    bbolt.FreelistArrayType,
		InitialMmapSize: opts.InitialMmapSize,
		// NoSync and NoGrowSync stay false: every commit is fsynced.
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: %w (lock not acquired within %s)", path, ErrInUse, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	db.MaxBatchDelay = opts.MaxBatchDelay
	db.MaxBatchSize = opts.MaxBatchSize

	// bbolt fsyncs the file but not the directory entry of a file it has
	// just created; without this a crash could lose the whole file, and
	// every write acknowledged in it.
	if err := syncDir(filepath.Dir(path)); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if err := checkFormat(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	st := &Store{db: db, batch: opts.MaxBatchDelay > 0}
	if opts.MaxBatchDelay == 0 {
		st.group = &groupCommit{db: db, max: opts.MaxBatchSize}
	}
	return st, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// checkFormat marks a new file as ours and refuses a file that holds other
// bbolt data or a format this version does not know. Open holds the file
// lock, so nothing changes between the View and the Update.
func checkFormat(db *bbolt.DB) error {
	marked := false
	err := db.View(func(btx *bbolt.Tx) error {
		if m := btx.Bucket(metaBucket); m != nil {
			if v := m.Get(formatKey); !bytes.Equal(v, formatV1) {
				return fmt.Errorf("unsupported store format %q", v)
			}
			marked = true
			return nil
		}
		if k, _ := btx.Cursor().First(); k != nil {
			return errors.New("not a shortfuse store (bbolt file without a format marker)")
		}
		return nil
	})
	if err != nil || marked {
		return err
	}
	return db.Update(func(btx *bbolt.Tx) error {
		m, err := btx.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		return m.Put(formatKey, bytes.Clone(formatV1))
	})
}

// enter registers a transaction, or reports why none may start.
func (s *Store) enter(ctx context.Context, write bool) error {
	if err := s.gate.Enter(ctx, &s.inflight); err != nil {
		return err
	}
	if write {
		if err := s.refuseWrites(); err != nil {
			s.inflight.Done()
			return err
		}
	}
	return nil
}

// refuseWrites refuses every write once a commit has failed.
func (s *Store) refuseWrites() error {
	if failed := s.failed.Load(); failed != nil {
		return fmt.Errorf("bolt: refusing writes after a failed commit, restart required: %w", *failed)
	}
	return nil
}

// View implements store.Store.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.enter(ctx, false); err != nil {
		return err
	}
	defer s.inflight.Done()
	var fnErr error
	err := s.db.View(func(btx *bbolt.Tx) error {
		fnErr = run(btx, false, fn)
		return fnErr
	})
	// fnErr is fn's own error, which bbolt passes through; compare with nil
	// only, as error values need not be comparable.
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("bolt: view: %w", err)
	}
	return nil
}

// Update implements store.Store. See the package documentation for how
// concurrent calls are batched.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.enter(ctx, true); err != nil {
		return err
	}
	defer s.inflight.Done()
	// Batched, fn may run several times (in a shared transaction, then
	// alone in this goroutine); fnErr holds the result of the last run,
	// which is the one reported. The channel hand-off of the batch orders
	// the committing goroutine's write before this goroutine's read.
	var fnErr error
	wrapped := func(btx *bbolt.Tx) error {
		fnErr = run(btx, true, fn)
		return fnErr
	}
	var err error
	switch {
	case s.group != nil:
		err = s.group.update(wrapped)
	case s.batch:
		err = s.db.Batch(wrapped)
	default:
		err = s.db.Update(wrapped)
	}
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		s.fail(err)
		return fmt.Errorf("bolt: commit: %w", err)
	}
	return nil
}

// fail records the first commit failure. Retrying writes after a failed
// fsync can silently lose data (PostgreSQL's "fsyncgate"), so the store stops
// writing instead.
func (s *Store) fail(err error) {
	s.failed.CompareAndSwap(nil, &err)
}

// Backup writes a consistent copy of the whole store file to w, taken from
// a read transaction while writers carry on, and returns the number of
// bytes written. The copy is a valid store file for Open.
func (s *Store) Backup(w io.Writer) (int64, error) {
	if err := s.enter(context.Background(), false); err != nil {
		return 0, err
	}
	defer s.inflight.Done()
	var n int64
	err := s.db.View(func(btx *bbolt.Tx) error {
		var err error
		n, err = btx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("bolt: backup: %w", err)
	}
	return n, nil
}

// Close implements store.Store: it refuses new transactions, waits for those
// in flight, and closes the file, releasing its lock. Every call returns the
// result of the first.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.gate.Close()
		s.inflight.Wait()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("bolt: close: %w", err)
		}
	})
	return s.closeErr
}

// run calls fn with a Tx that stops working when fn returns, even if fn
// panics.
func run(btx *bbolt.Tx, writable bool, fn func(store.Tx) error) error {
	t := &tx{btx: btx, writable: writable}
	defer func() { t.done = true }()
	return fn(t)
}

// tx implements store.Tx over one bucket per store bucket.
type tx struct {
	btx      *bbolt.Tx
	writable bool
	done     bool
	// writes counts successful writes, so that Scan knows when its cursor
	// may have been invalidated by fn.
	writes uint64
}

func (t *tx) check(bucket, key string) error {
	return store.CheckTx(t.done, false, t.writable, nil, bucket, key)
}

func (t *tx) checkWrite(bucket, key string) error {
	return store.CheckTx(t.done, true, t.writable, nil, bucket, key)
}

func (t *tx) checkRange(bucket, prefix, after string) error {
	if t.done {
		return store.ErrTxDone
	}
	return store.CheckRange(bucket, prefix, after)
}

// Get implements store.Tx.
func (t *tx) Get(bucket, key string) ([]byte, error) {
	if err := t.check(bucket, key); err != nil {
		return nil, err
	}
	b := t.btx.Bucket([]byte(bucket))
	if b == nil {
		return nil, store.ErrNotFound
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, store.ErrNotFound
	}
	return clone(v), nil
}

// clone copies v into memory of the caller's; unlike bytes.Clone it never
// returns nil, because bbolt reads a nil value as an absent key.
func clone(v []byte) []byte {
	return append(make([]byte, 0, len(v)), v...)
}

func (t *tx) bucketForWrite(bucket string) (*bbolt.Bucket, error) {
	name := []byte(bucket)
	if b := t.btx.Bucket(name); b != nil {
		return b, nil
	}
	b, err := t.btx.CreateBucket(name)
	if err != nil {
		return nil, fmt.Errorf("bolt: create bucket %q: %w", bucket, err)
	}
	return b, nil
}

// Put implements store.Tx.
func (t *tx) Put(bucket, key string, value []byte) error {
	if err := t.checkWrite(bucket, key); err != nil {
		return err
	}
	return t.put(bucket, key, value)
}

func (t *tx) put(bucket, key string, value []byte) error {
	b, err := t.bucketForWrite(bucket)
	if err != nil {
		return err
	}
	// bbolt keeps a reference to value until commit; the copy makes the
	// caller free to reuse its slice.
	if err := b.Put([]byte(key), clone(value)); err != nil {
		return fmt.Errorf("bolt: put in bucket %q: %w", bucket, err)
	}
	t.writes++
	return nil
}

// Insert implements store.Tx.
func (t *tx) Insert(bucket, key string, value []byte) error {
	if err := t.checkWrite(bucket, key); err != nil {
		return err
	}
	if b := t.btx.Bucket([]byte(bucket)); b != nil && b.Get([]byte(key)) != nil {
		return store.ErrExists
	}
	return t.put(bucket, key, value)
}

// Delete implements store.Tx.
func (t *tx) Delete(bucket, key string) error {
	if err := t.checkWrite(bucket, key); err != nil {
		return err
	}
	b := t.btx.Bucket([]byte(bucket))
	k := []byte(key)
	if b == nil || b.Get(k) == nil {
		return store.ErrNotFound
	}
	if err := b.Delete(k); err != nil {
		return fmt.Errorf("bolt: delete in bucket %q: %w", bucket, err)
	}
	t.writes++
	return nil
}

// Scan implements store.Tx.
func (t *tx) Scan(bucket, prefix, after string, fn func(key string, value []byte) (bool, error)) error {
	if err := t.checkRange(bucket, prefix, after); err != nil {
		return err
	}
	b := t.btx.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	p := []byte(prefix)
	c := b.Cursor()
	// Every key with the prefix sorts at or after the prefix itself, so
	// start there unless the cursor is further on.
	var k, v []byte
	if after < prefix {
		k, v = c.Seek(p)
	} else {
		k, v = seekAfter(c, after)
	}
	for k != nil && bytes.HasPrefix(k, p) {
		key := string(k)
		writes := t.writes
		more, err := fn(key, v)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		if t.writes != writes {
			// fn wrote through this Tx: bbolt cursors do not survive
			// changes to their bucket (a Delete would make Next skip a
			// key), so find the position again from the last key.
			k, v = seekAfter(c, key)
		} else {
			k, v = c.Next()
		}
	}
	return nil
}

// seekAfter positions c on the first key strictly after key.
func seekAfter(c *bbolt.Cursor, key string) ([]byte, []byte) {
	k, v := c.Seek([]byte(key))
	if k != nil && string(k) == key {
		k, v = c.Next()
	}
	return k, v
}

// Count implements store.Tx.
func (t *tx) Count(bucket, prefix string) (int, error) {
	if err := t.checkRange(bucket, prefix, ""); err != nil {
		return 0, err
	}
	b := t.btx.Bucket([]byte(bucket))
	if b == nil {
		return 0, nil
	}
	p := []byte(prefix)
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		n++
	}
	return n, nil
}

// Compact rewrites the store file at path without its free pages, and
// returns its size before and after. It needs the file to itself (ErrInUse
// while a Store holds it): bbolt never gives freed pages back to the file
// system, so a store that once held many records (expired sessions, old
// secret versions) stays that large until compacted. The compacted copy is
// written next to the file, fsynced and renamed over it: a crash leaves
// one or the other whole.
func Compact(path string) (before, after int64, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, 0, fmt.Errorf("bolt: compact: %w", err)
	}
	src, err := Open(path, Options{InitialMmapSize: -1})
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	before = fi.Size()
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{FreelistType: bbolt.FreelistArrayType})
	if err != nil {
		return before, 0, fmt.Errorf("bolt: compact: %w", err)
	}
	if err := bbolt.Compact(dst, src.db, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return before, 0, fmt.Errorf("bolt: compact: %w", err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return before, 0, fmt.Errorf("bolt: compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return before, 0, fmt.Errorf("bolt: compact: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return before, 0, fmt.Errorf("bolt: compact: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return before, 0, err
	}
	if fi, err := os.Stat(path); err == nil {
		after = fi.Size()
	}
	return before, after, nil
}
