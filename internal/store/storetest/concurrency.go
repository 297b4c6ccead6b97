package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"testing"

	"github.com/shortfuse/shortfuse/internal/store"
)

// idError is a distinct error value per goroutine, to check that each
// caller gets back exactly the error its own function returned.
type idError struct{ id int }

func (e *idError) Error() string { return fmt.Sprintf("storetest: goroutine %d failed", e.id) }

func testConcurrency(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"ok/read-modify-write-counter", testCounter},
		{"ok/failures-mixed-with-commits", testMixedFailures},
		{"ok/one-insert-wins", testInsertRace},
		{"ok/readers-see-consistent-transfers", testTransfers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

// testCounter has 16 goroutines increment one counter 200 times each with
// read-modify-write transactions; a lost update shows in the total.
func testCounter(t *testing.T, s store.Store) {
	const workers, rounds = 16, 200
	seed(t, s, "ctr", "n", "0")
	UpdateConcurrently(t, s, workers, rounds, func(tx store.Tx, _, _ int) error { return Increment(tx, "ctr", "n") })
	if got, err := Get(t, s, "ctr", "n"); err != nil || got != strconv.Itoa(workers*rounds) {
		t.Errorf("counter = %q, %v; want %d", got, err, workers*rounds)
	}
}

// Increment adds one to the decimal counter at key of bucket: a read,
// then a write, in tx.
func Increment(tx store.Tx, bucket, key string) error {
	v, err := tx.Get(bucket, key)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return err
	}
	return tx.Put(bucket, key, []byte(strconv.Itoa(n+1)))
}

// UpdateConcurrently has workers goroutines run rounds Updates of s each,
// with fn given the worker and the round; a worker stops at its first
// failed Update, which fails t.
func UpdateConcurrently(t *testing.T, s store.Store, workers, rounds int, fn func(tx store.Tx, worker, round int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				if err := s.Update(context.Background(), func(tx store.Tx) error { return fn(tx, w, r) }); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update() = %v", err)
	}
}

// testMixedFailures runs rounds of concurrent Updates where every other one
// fails after writing: a backend that batches writers must still give each
// caller its own error, keep the failed writes out and the others in.
func testMixedFailures(t *testing.T, s store.Store) {
	const workers, rounds = 16, 20
	for round := range rounds {
		var wg sync.WaitGroup
		results := make([]error, workers)
		wants := make([]error, workers)
		for i := range workers {
			if i%2 == 1 {
				wants[i] = &idError{id: i}
			}
			wg.Go(func() {
				key := fmt.Sprintf("r%02d/w%02d", round, i)
				results[i] = s.Update(context.Background(), func(tx store.Tx) error {
					if err := tx.Put("mixed", key, []byte(key)); err != nil {
						return err
					}
					if err := tx.Put("mixed", "shared", []byte(key)); err != nil {
						return err
					}
					return wants[i]
				})
			})
		}
		wg.Wait()
		for i := range workers {
			if wants[i] == nil && results[i] != nil {
				t.Errorf("round %d: goroutine %d: Update() = %v, want nil", round, i, results[i])
			}
			if wants[i] != nil && results[i] != wants[i] {
				t.Errorf("round %d: goroutine %d: Update() = %v, want its own %v", round, i, results[i], wants[i])
			}
		}
	}
	got := Contents(t, s, "mixed")
	for round := range rounds {
		for i := range workers {
			key := fmt.Sprintf("r%02d/w%02d", round, i)
			if _, ok := got[key]; ok != (i%2 == 0) {
				t.Errorf("key %s present = %v, want %v", key, ok, i%2 == 0)
			}
		}
	}
	// The last round runs after all others, so one of its committed
	// Updates wrote "shared" last.
	var r, w int
	if _, err := fmt.Sscanf(got["shared"], "r%02d/w%02d", &r, &w); err != nil || r != rounds-1 || w%2 != 0 {
		t.Errorf("shared = %q, want the key of a committed Update of the last round", got["shared"])
	}
}

// testInsertRace has 16 goroutines Insert the same key: exactly one wins and
// the stored value is the winner's.
func testInsertRace(t *testing.T, s store.Store) {
	const workers = 16
	var wg sync.WaitGroup
	results := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			results[i] = s.Update(context.Background(), func(tx store.Tx) error {
				return tx.Insert("race", "key", []byte(strconv.Itoa(i)))
			})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("goroutines %d and %d both inserted the key", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrExists):
			t.Errorf("goroutine %d: Update() = %v, want nil or ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no Insert succeeded")
	}
	if got, err := Get(t, s, "race", "key"); err != nil || got != strconv.Itoa(winner) {
		t.Errorf("value = %q, %v; want the winner's %d", got, err, winner)
	}
}

// testTransfers moves units between two keys while readers check that they
// always add up: a View never sees half of an Update.
func testTransfers(t *testing.T, s store.Store) {
	const writers, transfers, readers, total = 8, 50, 4, 1000
	seed(t, s, "bank", "a", strconv.Itoa(total), "b", "0")
	var writing sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, writers+readers)
	for range writers {
		writing.Go(func() {
			for range transfers {
				err := s.Update(context.Background(), func(tx store.Tx) error {
					a, b, err := balances(tx)
					if err != nil {
						return err
					}
					return errors.Join(
						tx.Put("bank", "a", []byte(strconv.Itoa(a-1))),
						tx.Put("bank", "b", []byte(strconv.Itoa(b+1))),
					)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var reading sync.WaitGroup
	for range readers {
		reading.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.View(context.Background(), func(tx store.Tx) error {
					a, b, err := balances(tx)
					if err == nil && a+b != total {
						err = fmt.Errorf("View saw a=%d b=%d, sum %d, want %d", a, b, a+b, total)
					}
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	writing.Wait()
	close(stop)
	reading.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := map[string]string{"a": strconv.Itoa(total - writers*transfers), "b": strconv.Itoa(writers * transfers)}
	if got := Contents(t, s, "bank"); !maps.Equal(got, want) {
		t.Errorf("balances = %v, want %v", got, want)
	}
}

func balances(tx store.Tx) (a, b int, err error) {
	va, err := tx.Get("bank", "a")
	if err != nil {
		return 0, 0, err
	}
	vb, err := tx.Get("bank", "b")
	if err != nil {
		return 0, 0, err
	}
	if a, err = strconv.Atoi(string(va)); err != nil {
		return 0, 0, err
	}
	b, err = strconv.Atoi(string(vb))
	return a, b, err
}

// pattern returns n bytes that differ with seed and position, so that a
// truncated, shifted or mixed-up value does not compare equal.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i>>9) ^ seed
	}
	return b
}

func testLargeValues(t *testing.T, open func(t *testing.T) store.Store) {
	const mib = 1 << 20
	tests := []struct {
		name  string
		sizes []int // one key per size, all written in one Update
	}{
		{"ok/one-mib", []int{mib}},
		{"ok/one-mib-plus-one", []int{mib + 1}},
		{"ok/eight-mib-in-one-tx", []int{mib, mib, mib, mib, mib, mib, mib, mib}},
		{"ok/mixed-sizes", []int{0, 1, 4095, 4096, 4097, mib}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			key := func(i int) string { return fmt.Sprintf("big/%02d", i) }
			mustUpdate(t, s, func(tx store.Tx) error {
				for i, n := range tt.sizes {
					if err := tx.Put("blobs", key(i), pattern(n, byte(i))); err != nil {
						return err
					}
				}
				return nil
			})
			mustView(t, s, func(tx store.Tx) error {
				for i, n := range tt.sizes {
					v, err := tx.Get("blobs", key(i))
					if err != nil {
						return err
					}
					if !bytes.Equal(v, pattern(n, byte(i))) {
						t.Errorf("Get(%s) = %d bytes, not the %d written", key(i), len(v), n)
					}
				}
				i := 0
				return tx.Scan("blobs", "big/", "", func(k string, v []byte) (bool, error) {
					if k != key(i) || !bytes.Equal(v, pattern(tt.sizes[i], byte(i))) {
						t.Errorf("Scan visited %s with %d bytes, want %s with %d", k, len(v), key(i), tt.sizes[i])
					}
					i++
					return true, nil
				})
			})
			// Overwrite with a different value of the same size, then
			// delete, to exercise freeing large values.
			mustUpdate(t, s, func(tx store.Tx) error {
				return tx.Put("blobs", key(0), pattern(tt.sizes[0], 0xAA))
			})
			mustView(t, s, func(tx store.Tx) error {
				v, err := tx.Get("blobs", key(0))
				if err == nil && !bytes.Equal(v, pattern(tt.sizes[0], 0xAA)) {
					t.Errorf("after overwrite, Get(%s) differs", key(0))
				}
				return err
			})
			mustUpdate(t, s, func(tx store.Tx) error {
				for i := range tt.sizes {
					if err := tx.Delete("blobs", key(i)); err != nil {
						return err
					}
				}
				return nil
			})
			mustView(t, s, func(tx store.Tx) error {
				n, err := tx.Count("blobs", "")
				if err == nil && n != 0 {
					t.Errorf("Count() after deleting = %d, want 0", n)
				}
				return err
			})
		})
	}
}
