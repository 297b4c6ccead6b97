package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
	"github.com/shortfuse/shortfuse/internal/store/postgres"
)

// listener runs ListenSync in the background and collects what it gets.
type listener struct {
	synced   chan struct{}
	payloads chan string
	done     chan error
}

func listen(t *testing.T, s *postgres.Store, ctx context.Context, channel string) *listener {
	t.Helper()
	l := &listener{synced: make(chan struct{}, 10), payloads: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		l.done <- s.ListenSync(ctx, channel,
			func() { l.synced <- struct{}{} },
			func(p string) { l.payloads <- p })
	}()
	l.waitSynced(t)
	return l
}

// How long a test waits for something that should happen at once.
const patience = 10 * time.Second

func (l *listener) waitSynced(t *testing.T) {
	t.Helper()
	select {
	case <-l.synced:
	case err := <-l.done:
		t.Fatalf("ListenSync() = %v before listening", err)
	case <-time.After(patience):
		t.Fatal("LISTEN did not take effect")
	}
}

// expect checks that the next payloads are want, and then that nothing else
// arrives (a notification is sent after them as a marker).
func (l *listener) expect(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for range want {
		select {
		case p := <-l.payloads:
			got = append(got, p)
		case <-time.After(patience):
			t.Fatalf("received %q, want %q", got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("received %q, want %q", got, want)
	}
}

func TestNotify(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := mustOpen(t, dsn, postgres.Options{})
	b := mustOpen(t, dsn, postgres.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	l := listen(t, a, ctx, "revocations")
	other := listen(t, a, ctx, "other")

	notifyInTx := func(s *postgres.Store, payload string, fail error) error {
		return s.Update(t.Context(), func(tx store.Tx) error {
			if err := tx.Put("revoked", payload, nil); err != nil {
				return err
			}
			if err := tx.(postgres.TxNotifier).Notify("revocations", payload); err != nil {
				return err
			}
			return fail
		})
	}

	t.Run("ok/direct-across-stores", func(t *testing.T) {
		if err := b.Notify(t.Context(), "revocations", "s-1"); err != nil {
			t.Fatal(err)
		}
		l.expect(t, "s-1")
	})

	t.Run("ok/to-own-store", func(t *testing.T) {
		if err := a.Notify(t.Context(), "revocations", "s-2"); err != nil {
			t.Fatal(err)
		}
		l.expect(t, "s-2")
	})

	t.Run("ok/in-committed-update", func(t *testing.T) {
		if err := notifyInTx(b, "s-3", nil); err != nil {
			t.Fatal(err)
		}
		l.expect(t, "s-3")
	})

	t.Run("ok/failed-update-sends-nothing", func(t *testing.T) {
		if err := notifyInTx(b, "lost", errors.New("abort")); err == nil {
			t.Fatal("Update() = nil, want the function's error")
		}
		if err := b.Notify(t.Context(), "revocations", "marker"); err != nil {
			t.Fatal(err)
		}
		l.expect(t, "marker")
	})

	t.Run("ok/order-of-commits", func(t *testing.T) {
		var want []string
		for _, p := range []string{"o-1", "o-2", "o-3", "o-4"} {
			if err := notifyInTx(b, p, nil); err != nil {
				t.Fatal(err)
			}
			want = append(want, p)
		}
		l.expect(t, want...)
	})

	t.Run("ok/channels-are-separate", func(t *testing.T) {
		if err := b.Notify(t.Context(), "other", "x"); err != nil {
			t.Fatal(err)
		}
		other.expect(t, "x")
		if err := b.Notify(t.Context(), "revocations", "marker"); err != nil {
			t.Fatal(err)
		}
		l.expect(t, "marker")
	})

	t.Run("ok/payload-at-limit", func(t *testing.T) {
		p := strings.Repeat("p", postgres.MaxPayloadLen)
		if err := b.Notify(t.Context(), "revocations", p); err != nil {
			t.Fatal(err)
		}
		l.expect(t, p)
	})

	t.Run("fail/notify-in-view", func(t *testing.T) {
		var txErr error
		err := b.View(t.Context(), func(tx store.Tx) error {
			txErr = tx.(postgres.TxNotifier).Notify("revocations", "x")
			return nil
		})
		if err != nil || !errors.Is(txErr, store.ErrReadOnly) {
			t.Errorf("Notify() in View = %v (View() = %v), want ErrReadOnly", txErr, err)
		}
	})

	t.Run("ok/reconnects-after-connection-loss", func(t *testing.T) {
		// Kill every listening connection of the database.
		exec(t, dsn, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND (query LIKE 'LISTEN %' OR query = '-- ping') AND pid <> pg_backend_pid()`)
		l.waitSynced(t)
		other.waitSynced(t)
		if err := b.Notify(t.Context(), "revocations", "after"); err != nil {
			t.Fatal(err)
		}
		l.expect(t, "after")
	})

	t.Run("ok/stops-with-context", func(t *testing.T) {
		lctx, lcancel := context.WithCancel(t.Context())
		l := listen(t, b, lctx, "revocations")
		lcancel()
		select {
		case err := <-l.done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("ListenSync() = %v, want context.Canceled", err)
			}
		case <-time.After(patience):
			t.Fatal("ListenSync() did not return after its context ended")
		}
	})
}

func TestNotifyInvalid(t *testing.T) {
	s := mustOpen(t, pgtest.NewDatabase(t), postgres.Options{})
	tests := []struct {
		name             string
		channel, payload string
	}{
		{"fail/channel-empty", "", "p"},
		{"fail/channel-uppercase", "Revocations", "p"},
		{"fail/channel-quote", `a"b`, "p"},
		{"fail/channel-too-long", strings.Repeat("c", postgres.MaxChannelLen+1), "p"},
		{"fail/payload-too-long", "revocations", strings.Repeat("p", postgres.MaxPayloadLen+1)},
		{"fail/payload-nul", "revocations", "a\x00b"},
		{"fail/payload-invalid-utf8", "revocations", "\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Notify(t.Context(), tt.channel, tt.payload); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Notify() = %v, want ErrInvalid", err)
			}
			var txErr error
			err := s.Update(t.Context(), func(tx store.Tx) error {
				txErr = tx.(postgres.TxNotifier).Notify(tt.channel, tt.payload)
				return nil
			})
			if err != nil || !errors.Is(txErr, store.ErrInvalid) {
				t.Errorf("Tx Notify() = %v (Update() = %v), want ErrInvalid", txErr, err)
			}
		})
	}
	if err := s.Listen(t.Context(), "Bad", func(string) {}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Listen() = %v, want ErrInvalid", err)
	}
}

func TestListenClose(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := listen(t, s, t.Context(), "revocations")
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-l.done:
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("ListenSync() = %v after Close, want ErrClosed", err)
		}
	case <-time.After(patience):
		t.Fatal("ListenSync() did not return after Close")
	}
	if err := <-closed; err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := s.Listen(t.Context(), "revocations", func(string) {}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Listen() after Close = %v, want ErrClosed", err)
	}
	if err := s.Notify(t.Context(), "revocations", "x"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Notify() after Close = %v, want ErrClosed", err)
	}
}
