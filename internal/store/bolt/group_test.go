package bolt

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func openGroup(t *testing.T, max int) *groupCommit {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &groupCommit{db: db, max: max}
}

func putKey(key string) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), []byte("v"))
	}
}

// waitQueued waits until n callers are queued behind the commit in progress.
func waitQueued(t *testing.T, g *groupCommit, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		g.mu.Lock()
		q := len(g.queue)
		g.mu.Unlock()
		if q >= n {
			return
		}
	}
	t.Fatalf("fewer than %d callers queued", n)
}

// TestGroupCommitBatches holds a first, lone commit open while ten callers arrive: they
// must then share one transaction, and a failing one among them must get its own error
// while the others commit.
func TestGroupCommitBatches(t *testing.T) {
	g := openGroup(t, 1000)
	release := make(chan struct{})
	var mu sync.Mutex
	txs := map[*bbolt.Tx]int{}
	seen := func(tx *bbolt.Tx) {
		mu.Lock()
		txs[tx]++
		mu.Unlock()
	}
	first := make(chan error, 1)
	go func() {
		first <- g.update(func(tx *bbolt.Tx) error {
			seen(tx)
			<-release
			return putKey("first")(tx)
		})
	}()
	for { // the first caller leads at once...
		g.mu.Lock()
		leading := g.leading
		g.mu.Unlock()
		if leading {
			break
		}
		time.Sleep(time.Millisecond)
	}
	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range 10 {
		wg.Go(func() {
			errs[i] = g.update(func(tx *bbolt.Tx) error {
				seen(tx)
				if i == 4 {
					return errBoom
				}
				return putKey(string(rune('a' + i)))(tx)
			})
		})
	}
	waitQueued(t, g, 10) // ...and the others queue behind it
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first update: %v", err)
	}
	for i, err := range errs {
		switch {
		case i == 4 && !errors.Is(err, errBoom):
			t.Errorf("failing update returned %v, want boom", err)
		case i != 4 && err != nil:
			t.Errorf("update %d: %v", i, err)
		}
	}
	// Transactions: the first alone; the ten together (rolled back by the failure); the
	// nine again together; the failing one alone.
	if len(txs) != 4 {
		t.Errorf("%d transactions, want 4", len(txs))
	}
	err := g.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i := range 10 {
			v := b.Get([]byte(string(rune('a' + i))))
			if (v != nil) != (i != 4) {
				t.Errorf("key %c stored = %v", 'a'+i, v != nil)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommitMaxBatch checks that no transaction holds more than max callers and that
// every caller returns, leaders included, under contention.
func TestGroupCommitMaxBatch(t *testing.T) {
	g := openGroup(t, 3)
	var mu sync.Mutex
	perTx := map[*bbolt.Tx]map[int]bool{}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			err := g.update(func(tx *bbolt.Tx) error {
				mu.Lock()
				if perTx[tx] == nil {
					perTx[tx] = map[int]bool{}
				}
				perTx[tx][i] = true
				mu.Unlock()
				return putKey(string(rune(0x100 + i)))(tx)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, callers := range perTx {
		if len(callers) > 3 {
			t.Errorf("a transaction ran %d callers, want at most 3", len(callers))
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.leading || len(g.queue) != 0 {
		t.Errorf("after all updates: leading %v, queue %d; want idle", g.leading, len(g.queue))
	}
}

// TestGroupCommitPanic checks that a panicking function panics in its own caller, and that
// the callers batched with it still commit.
func TestGroupCommitPanic(t *testing.T) {
	g := openGroup(t, 1000)
	var wg sync.WaitGroup
	panicked := make(chan any, 1)
	for i := range 20 {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					panicked <- p
				}
			}()
			err := g.update(func(tx *bbolt.Tx) error {
				if i == 7 {
					panic("fn 7")
				}
				return putKey(string(rune('A' + i)))(tx)
			})
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	select {
	case p := <-panicked:
		if p != "fn 7" {
			t.Errorf("panic = %v", p)
		}
	default:
		t.Error("the panicking function did not panic in its caller")
	}
}
