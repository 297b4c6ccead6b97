package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/store"
)

// listError is an error type whose values cannot be compared with ==, so a
// backend that compares errors instead of passing them through would panic.
type listError struct{ items []string }

func (e listError) Error() string { return fmt.Sprintf("storetest: %d items", len(e.items)) }

// testUpdate checks Update's commit and rollback rules. It is long by
// design: one subtest per rule, each a few lines, in the order store.Store
// documents them.
func testUpdate(t *testing.T, open func(t *testing.T) store.Store) {
	wrapped := fmt.Errorf("update: %w", errSentinel)
	// Every failing case first makes these changes, all of which must be
	// rolled back.
	scribble := func(tx store.Tx) error {
		return errors.Join(
			tx.Put("items", "k1", []byte("changed")),
			tx.Put("items", "k3", []byte("added")),
			tx.Delete("items", "k2"),
			tx.Put("fresh", "x", []byte("new bucket")),
		)
	}
	// scribbleThen scribbles and, if that succeeds, ends with last.
	scribbleThen := func(last func(tx store.Tx) error) func(store.Tx) error {
		return func(tx store.Tx) error {
			if err := scribble(tx); err != nil {
				return err
			}
			return last(tx)
		}
	}
	tests := []struct {
		name string
		fn   func(tx store.Tx) error
		// check inspects the error Update returned; nil wants nil.
		check func(t *testing.T, err error)
		want  map[string]map[string]string
	}{
		{
			name: "ok/commit",
			fn:   scribble,
			want: map[string]map[string]string{
				"items": {"k1": "changed", "k3": "added"},
				"fresh": {"x": "new bucket"},
			},
		},
		{
			name: "ok/no-writes",
			fn:   func(store.Tx) error { return nil },
			want: map[string]map[string]string{"items": seedItems, "fresh": {}},
		},
		{
			name: "ok/ignored-op-error-keeps-other-writes",
			fn: func(tx store.Tx) error {
				if err := tx.Insert("items", "k1", []byte("dup")); !errors.Is(err, store.ErrExists) {
					return fmt.Errorf("Insert() = %v, want ErrExists", err)
				}
				return tx.Put("items", "k3", []byte("added"))
			},
			want: map[string]map[string]string{"items": withItems("k3", "added")},
		},
		{
			name: "fail/wrapped-sentinel-rolls-back",
			fn:   scribbleThen(func(store.Tx) error { return wrapped }),
			check: func(t *testing.T, err error) {
				if err != wrapped || !errors.Is(err, errSentinel) {
					t.Errorf("Update() = %v, want the function's error value unchanged", err)
				}
			},
			want: map[string]map[string]string{"items": seedItems, "fresh": {}},
		},
		{
			name: "fail/store-error-rolls-back",
			fn:   scribbleThen(func(tx store.Tx) error { return tx.Insert("items", "k1", []byte("dup")) }),
			check: func(t *testing.T, err error) {
				if !errors.Is(err, store.ErrExists) {
					t.Errorf("Update() = %v, want ErrExists", err)
				}
			},
			want: map[string]map[string]string{"items": seedItems, "fresh": {}},
		},
		{
			name: "fail/uncomparable-error-type",
			fn:   scribbleThen(func(store.Tx) error { return fmt.Errorf("wrapped: %w", listError{items: []string{"a", "b"}}) }),
			check: func(t *testing.T, err error) {
				var le listError
				if !errors.As(err, &le) || len(le.items) != 2 {
					t.Errorf("Update() = %v, want a wrapped listError", err)
				}
			},
			want: map[string]map[string]string{"items": seedItems, "fresh": {}},
		},
		{
			name: "fail/panic-propagates-and-rolls-back",
			fn:   scribbleThen(func(store.Tx) error { panic("storetest: boom") }),
			check: func(t *testing.T, err error) {
				t.Errorf("Update() returned %v, want the panic to propagate", err)
			},
			want: map[string]map[string]string{"items": seedItems, "fresh": {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			seed(t, s, "items", "k1", "v1", "k2", "v2")
			func() {
				defer func() {
					if p := recover(); p != nil && p != "storetest: boom" {
						t.Errorf("Update() panicked with %v", p)
					}
				}()
				err := s.Update(t.Context(), tt.fn)
				if tt.check != nil {
					tt.check(t, err)
				} else if err != nil {
					t.Errorf("Update() = %v, want nil", err)
				}
			}()
			for bucket, want := range tt.want {
				if got := Contents(t, s, bucket); !maps.Equal(got, want) {
					t.Errorf("bucket %q = %v, want %v", bucket, got, want)
				}
			}
			// The store stays usable after any outcome.
			seed(t, s, "items", "after", "1")
			if got, err := Get(t, s, "items", "after"); err != nil || got != "1" {
				t.Errorf("Get() after the case = %q, %v; want %q, nil", got, err, "1")
			}
		})
	}

	t.Run("fail/tx-used-after-update", func(t *testing.T) {
		s := open(t)
		seed(t, s, "items", "k1", "v1")
		var kept store.Tx
		mustUpdate(t, s, func(tx store.Tx) error {
			kept = tx
			return nil
		})
		checkDone(t, kept)
		if got := Contents(t, s, "items"); !maps.Equal(got, map[string]string{"k1": "v1"}) {
			t.Errorf("bucket = %v, want it unchanged", got)
		}
	})
}

// checkDone checks that every method of a Tx whose function returned fails
// with ErrTxDone.
func checkDone(t *testing.T, tx store.Tx) {
	t.Helper()
	noop := func(string, []byte) (bool, error) { return true, nil }
	ops := map[string]error{
		"Get":    func() error { _, err := tx.Get("items", "k1"); return err }(),
		"Put":    tx.Put("items", "k1", []byte("late")),
		"Insert": tx.Insert("items", "late", nil),
		"Delete": tx.Delete("items", "k1"),
		"Scan":   tx.Scan("items", "", "", noop),
		"Count":  func() error { _, err := tx.Count("items", ""); return err }(),
	}
	for name, err := range ops {
		if !errors.Is(err, store.ErrTxDone) {
			t.Errorf("%s() on an ended Tx = %v, want ErrTxDone", name, err)
		}
	}
}

func testView(t *testing.T, open func(t *testing.T) store.Store) {
	noop := func(string, []byte) (bool, error) { return true, nil }
	tests := []struct {
		name    string
		op      func(tx store.Tx) error
		wantErr error
	}{
		{"ok/get", func(tx store.Tx) error { _, err := tx.Get("items", "k1"); return err }, nil},
		{"ok/scan", func(tx store.Tx) error { return tx.Scan("items", "", "", noop) }, nil},
		{"ok/count", func(tx store.Tx) error { _, err := tx.Count("items", ""); return err }, nil},
		{"fail/put", func(tx store.Tx) error { return tx.Put("items", "k1", []byte("x")) }, store.ErrReadOnly},
		{"fail/put-new-bucket", func(tx store.Tx) error { return tx.Put("fresh", "k1", []byte("x")) }, store.ErrReadOnly},
		{"fail/insert", func(tx store.Tx) error { return tx.Insert("items", "k3", []byte("x")) }, store.ErrReadOnly},
		{"fail/delete", func(tx store.Tx) error { return tx.Delete("items", "k1") }, store.ErrReadOnly},
		{"fail/delete-missing", func(tx store.Tx) error { return tx.Delete("items", "k9") }, store.ErrReadOnly},
	}
	s := open(t)
	seed(t, s, "items", "k1", "v1", "k2", "v2")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOp(t, s, mustView, "op in View", tt.op, tt.wantErr)
		})
	}
	if got := Contents(t, s, "items"); !maps.Equal(got, seedItems) {
		t.Errorf("bucket after writes in View = %v, want it unchanged", got)
	}
	if got := Contents(t, s, "fresh"); len(got) != 0 {
		t.Errorf("bucket created by a write in View: %v", got)
	}

	t.Run("fail/error-returned-unchanged", func(t *testing.T) {
		want := fmt.Errorf("view: %w", errSentinel)
		if err := s.View(t.Context(), func(store.Tx) error { return want }); err != want {
			t.Errorf("View() = %v, want the function's error value unchanged", err)
		}
		err := s.View(t.Context(), func(store.Tx) error { return listError{items: []string{"a"}} })
		if le, ok := err.(listError); !ok || len(le.items) != 1 {
			t.Errorf("View() = %v, want the listError unchanged", err)
		}
	})

	t.Run("fail/panic-propagates", func(t *testing.T) {
		func() {
			defer func() {
				if p := recover(); p != "storetest: boom" {
					t.Errorf("View() panicked with %v, want the function's panic", p)
				}
			}()
			_ = s.View(t.Context(), func(store.Tx) error { panic("storetest: boom") })
		}()
		seed(t, s, "items", "k4", "v4")
		if got, err := Get(t, s, "items", "k4"); err != nil || got != "v4" {
			t.Errorf("store after a panic in View: Get() = %q, %v", got, err)
		}
	})

	t.Run("fail/tx-used-after-view", func(t *testing.T) {
		var kept store.Tx
		mustView(t, s, func(tx store.Tx) error {
			kept = tx
			return nil
		})
		checkDone(t, kept)
	})
}

// testIsolation checks that transactions see no uncommitted writes of
// others. It is long by design: one subtest per anomaly, each a few lines.
func testIsolation(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("ok/view-keeps-its-snapshot", func(t *testing.T) {
		s := open(t)
		seed(t, s, "acct", "a", "old", "b", "old")
		opened := make(chan struct{})
		committed := make(chan error, 1)
		go func() {
			<-opened
			committed <- s.Update(context.Background(), func(tx store.Tx) error {
				return errors.Join(
					tx.Put("acct", "a", []byte("new")),
					tx.Put("acct", "b", []byte("new")),
					tx.Put("acct", "c", []byte("new")),
				)
			})
		}()
		var a, b string
		var n int
		var concurrent bool
		mustView(t, s, func(tx store.Tx) error {
			v, err := tx.Get("acct", "a")
			if err != nil {
				return err
			}
			a = string(v)
			close(opened)
			// A backend may hold the writer back until this View ends;
			// then the snapshot is trivially kept, and waiting forever
			// would deadlock.
			select {
			case err := <-committed:
				if err != nil {
					return fmt.Errorf("concurrent Update() = %w", err)
				}
				concurrent = true
			case <-time.After(10 * time.Second):
			}
			if v, err = tx.Get("acct", "b"); err != nil {
				return err
			}
			b = string(v)
			n, err = tx.Count("acct", "")
			return err
		})
		if !concurrent {
			if err := <-committed; err != nil {
				t.Fatalf("Update() = %v", err)
			}
			t.Log("the Update did not commit while a View was open; snapshot checked without overlap")
		}
		if a != "old" || b != "old" || n != 2 {
			t.Errorf("View saw a=%q b=%q count=%d, want its snapshot: old, old, 2", a, b, n)
		}
		want := map[string]string{"a": "new", "b": "new", "c": "new"}
		if got := Contents(t, s, "acct"); !maps.Equal(got, want) {
			t.Errorf("after the Update, bucket = %v, want %v", got, want)
		}
	})

	t.Run("ok/uncommitted-writes-invisible", func(t *testing.T) {
		s := open(t)
		seed(t, s, "acct", "a", "old")
		p := pauseTx(s.Update, func(tx store.Tx) error {
			return errors.Join(tx.Put("acct", "a", []byte("new")), tx.Put("acct", "b", []byte("new")))
		}, nil)
		<-p.paused
		if got := Contents(t, s, "acct"); !maps.Equal(got, map[string]string{"a": "old"}) {
			t.Errorf("View during an open Update saw %v, want only committed data", got)
		}
		close(p.resume)
		if err := <-p.done; err != nil {
			t.Fatalf("Update() = %v", err)
		}
		if got := Contents(t, s, "acct"); !maps.Equal(got, map[string]string{"a": "new", "b": "new"}) {
			t.Errorf("after commit, bucket = %v", got)
		}
	})
}

func testContext(t *testing.T, open func(t *testing.T) store.Store) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	tests := []struct {
		name    string
		ctx     context.Context
		update  bool
		wantErr error
	}{
		{"fail/view-canceled", canceled, false, context.Canceled},
		{"fail/update-canceled", canceled, true, context.Canceled},
		{"fail/view-deadline-exceeded", expired, false, context.DeadlineExceeded},
		{"fail/update-deadline-exceeded", expired, true, context.DeadlineExceeded},
	}
	s := open(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			fn := func(tx store.Tx) error {
				called = true
				return nil
			}
			var err error
			if tt.update {
				err = s.Update(tt.ctx, fn)
			} else {
				err = s.View(tt.ctx, fn)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if called {
				t.Error("the transaction function ran despite the done context")
			}
		})
	}
}

func testClose(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("fail/use-after-close", func(t *testing.T) {
		s := open(t)
		seed(t, s, "items", "k1", "v1")
		if err := s.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		called := false
		fn := func(store.Tx) error { called = true; return nil }
		if err := s.View(t.Context(), fn); !errors.Is(err, store.ErrClosed) {
			t.Errorf("View() after Close = %v, want ErrClosed", err)
		}
		if err := s.Update(t.Context(), fn); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Update() after Close = %v, want ErrClosed", err)
		}
		if called {
			t.Error("a transaction function ran after Close")
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close() = %v, want nil", err)
		}
	})

	for _, kind := range []string{"View", "Update"} {
		t.Run("ok/close-waits-for-"+kind, func(t *testing.T) {
			s := open(t)
			seed(t, s, "items", "k1", "v1")
			run := s.View
			if kind == "Update" {
				run = s.Update
			}
			p := pauseTx(run, nil, func(tx store.Tx) error {
				// The transaction must still work although Close has
				// been called.
				v, err := tx.Get("items", "k1")
				if err != nil || string(v) != "v1" {
					return fmt.Errorf("Get() while closing = %q, %v", v, err)
				}
				if kind == "Update" {
					return tx.Put("items", "k2", []byte("v2"))
				}
				return nil
			})
			<-p.paused
			closed := make(chan error, 1)
			go func() { closed <- s.Close() }()
			// Wait until Close has begun: new transactions are refused.
			for s.View(context.Background(), func(store.Tx) error { return nil }) == nil {
				runtime.Gosched()
			}
			select {
			case err := <-closed:
				t.Fatalf("Close() = %v returned while a %s was in flight", err, kind)
			default:
			}
			close(p.resume)
			if err := <-p.done; err != nil {
				t.Errorf("%s() in flight during Close = %v, want nil", kind, err)
			}
			if err := <-closed; err != nil {
				t.Errorf("Close() = %v", err)
			}
		})
	}
}

// pausedTx is a transaction that pauseTx started.
type pausedTx struct {
	paused chan struct{} // closed once the function has paused
	resume chan struct{} // closed by the test to let it go on
	done   chan error    // what the transaction returned
}

// pauseTx runs, in a goroutine, a transaction that run (a Store's View or
// Update) starts: its function runs first (if not nil), pauses until the
// test resumes it, and then runs then (if not nil). The function may run
// again; it signals its pause once.
func pauseTx(run func(context.Context, func(store.Tx) error) error, first, then func(store.Tx) error) *pausedTx {
	p := &pausedTx{paused: make(chan struct{}), resume: make(chan struct{}), done: make(chan error, 1)}
	var once sync.Once
	go func() {
		p.done <- run(context.Background(), func(tx store.Tx) error {
			if first != nil {
				if err := first(tx); err != nil {
					return err
				}
			}
			once.Do(func() { close(p.paused) })
			<-p.resume
			if then != nil {
				return then(tx)
			}
			return nil
		})
	}()
	return p
}
