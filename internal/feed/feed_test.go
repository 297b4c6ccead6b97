package feed_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/feed"
	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
	"github.com/shortfuse/shortfuse/internal/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// patience is how long a test waits for something that should happen soon.
const patience = 10 * time.Second

func openBolt(t *testing.T) store.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "feed.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// backends opens one store per backend.
func backends(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"bolt":     openBolt,
		"postgres": func(t *testing.T) store.Store { return openPostgres(t, pgtest.NewDatabase(t)) },
	}
}

func publish(t *testing.T, st store.Store, f *feed.Feed, topic, subject string) {
	t.Helper()
	if err := st.Update(t.Context(), func(tx store.Tx) error {
		return f.Publish(tx, topic, subject)
	}); err != nil {
		t.Fatalf("Publish() = %v", err)
	}
}

// recorder collects what handlers were given.
type recorder struct {
	mu      sync.Mutex
	got     []feed.Entry
	resyncs int
}

func (r *recorder) handlers(topics ...string) feed.Handlers {
	h := feed.Handlers{Topics: map[string]feed.Handler{}, Resync: func(context.Context) error {
		r.mu.Lock()
		r.resyncs++
		r.mu.Unlock()
		return nil
	}}
	for _, topic := range topics {
		h.Topics[topic] = func(_ context.Context, e feed.Entry) error {
			r.mu.Lock()
			r.got = append(r.got, e)
			r.mu.Unlock()
			return nil
		}
	}
	return h
}

func (r *recorder) entries() []feed.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func TestCatchUp(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			tests := []struct {
				name    string
				keep    int
				run     func(t *testing.T, st store.Store, f *feed.Feed)
				want    []feed.Entry
				resyncs int
				pos     uint64
			}{
				{
					name: "ok/in-order",
					run: func(t *testing.T, st store.Store, f *feed.Feed) {
						publish(t, st, f, "a", "one")
						publish(t, st, f, "b", "two")
						publish(t, st, f, "a", "")
					},
					want: []feed.Entry{{1, "a", "one"}, {2, "b", "two"}, {3, "a", ""}},
					pos:  3,
				},
				{
					name: "ok/several-in-one-transaction",
					run: func(t *testing.T, st store.Store, f *feed.Feed) {
						if err := st.Update(t.Context(), func(tx store.Tx) error {
							for _, s := range []string{"x", "y", "z"} {
								if err := f.Publish(tx, "a", s); err != nil {
									return err
								}
							}
							return nil
						}); err != nil {
							t.Fatal(err)
						}
					},
					want: []feed.Entry{{1, "a", "x"}, {2, "a", "y"}, {3, "a", "z"}},
					pos:  3,
				},
				{
					name: "ok/rolled-back-publish-is-not-seen",
					run: func(t *testing.T, st store.Store, f *feed.Feed) {
						boom := errors.New("boom")
						err := st.Update(t.Context(), func(tx store.Tx) error {
							if err := f.Publish(tx, "a", "lost"); err != nil {
								return err
							}
							return boom
						})
						if !errors.Is(err, boom) {
							t.Fatalf("Update() = %v, want boom", err)
						}
						publish(t, st, f, "a", "kept")
					},
					want: []feed.Entry{{1, "a", "kept"}},
					pos:  1,
				},
				{
					name: "ok/unknown-topic-skipped",
					run: func(t *testing.T, st store.Store, f *feed.Feed) {
						publish(t, st, f, "from-a-newer-version", "?")
						publish(t, st, f, "a", "known")
					},
					want: []feed.Entry{{2, "a", "known"}},
					pos:  2,
				},
				{
					name: "ok/pruned-records-resync",
					keep: 2,
					run: func(t *testing.T, st store.Store, f *feed.Feed) {
						for i := range 5 {
							publish(t, st, f, "a", fmt.Sprint(i))
						}
						n, err := f.Prune(t.Context())
						if err != nil || n != 3 {
							t.Fatalf("Prune() = %d, %v; want 3, nil", n, err)
						}
					},
					resyncs: 1,
					pos:     5,
				},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					st := open(t)
					f := feed.New(st, feed.Options{Keep: tt.keep})
					tt.run(t, st, f)
					var r recorder
					if err := f.CatchUp(t.Context(), r.handlers("a", "b")); err != nil {
						t.Fatalf("CatchUp() = %v", err)
					}
					if got := r.entries(); !slices.Equal(got, tt.want) {
						t.Errorf("applied %v, want %v", got, tt.want)
					}
					if r.resyncs != tt.resyncs {
						t.Errorf("resyncs = %d, want %d", r.resyncs, tt.resyncs)
					}
					if got := f.Position(); got != tt.pos {
						t.Errorf("Position() = %d, want %d", got, tt.pos)
					}
					// Caught up: nothing more happens.
					if err := f.CatchUp(t.Context(), r.handlers("a", "b")); err != nil || len(r.entries()) != len(tt.want) || r.resyncs != tt.resyncs {
						t.Errorf("second CatchUp() = %v, applied %d more", err, len(r.entries())-len(tt.want))
					}
				})
			}
		})
	}
}

func TestCatchUpHandlerFailure(t *testing.T) {
	st := openBolt(t)
	f := feed.New(st, feed.Options{})
	for _, s := range []string{"1", "2", "3"} {
		publish(t, st, f, "a", s)
	}
	var seen []string
	fail := true
	h := feed.Handlers{Topics: map[string]feed.Handler{"a": func(_ context.Context, e feed.Entry) error {
		if e.Subject == "2" && fail {
			fail = false
			return errors.New("store unavailable")
		}
		seen = append(seen, e.Subject)
		return nil
	}}}
	if err := f.CatchUp(t.Context(), h); err == nil {
		t.Fatal("CatchUp() = nil, want the handler's error")
	}
	if got := f.Position(); got != 1 {
		t.Fatalf("Position() after failure = %d, want 1", got)
	}
	if err := f.CatchUp(t.Context(), h); err != nil {
		t.Fatalf("CatchUp() retry = %v", err)
	}
	if want := []string{"1", "2", "3"}; !slices.Equal(seen, want) {
		t.Errorf("applied %q, want %q", seen, want)
	}
}

func TestFollowStoreRestored(t *testing.T) {
	st := openBolt(t)
	f := feed.New(st, feed.Options{})
	publish(t, st, f, "a", "1")
	// A follower further ahead than the log (the store was replaced by an
	// older copy) reloads everything rather than trusting its position.
	var r recorder
	g := feed.New(st, feed.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.Follow(ctx, 7, r.handlers("a")) }()
	waitFor(t, "a resync", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.resyncs == 1
	})
	cancel()
	<-done
	if got := g.Position(); got != 1 {
		t.Errorf("Position() after resync = %d, want 1", got)
	}
	if got := r.entries(); len(got) != 0 {
		t.Errorf("applied %v after resync, want nothing", got)
	}
}

func TestPublishInvalid(t *testing.T) {
	st := openBolt(t)
	f := feed.New(st, feed.Options{})
	tests := []struct {
		name, topic, subject string
	}{
		{"fail/empty-topic", "", "x"},
		{"fail/long-topic", string(make([]byte, feed.MaxTopicLen+1)), "x"},
		{"fail/long-subject", "a", string(make([]byte, feed.MaxSubjectLen+1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.Update(t.Context(), func(tx store.Tx) error { return f.Publish(tx, tt.topic, tt.subject) })
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Publish() = %v, want ErrInvalid", err)
			}
		})
	}
	if head, err := f.Head(t.Context()); err != nil || head != 0 {
		t.Errorf("Head() = %d, %v; want 0, nil", head, err)
	}
}

// TestConcurrentPublishers checks that records from concurrent writers, on
// one store or on two stores over one database, get dense sequence
// numbers: none lost, none twice.
func TestConcurrentPublishers(t *testing.T) {
	tests := []struct {
		name   string
		stores func(t *testing.T) []store.Store
	}{
		{"ok/bolt", func(t *testing.T) []store.Store { return []store.Store{openBolt(t)} }},
		{"ok/postgres-two-stores", func(t *testing.T) []store.Store {
			dsn := pgtest.NewDatabase(t)
			return []store.Store{openPostgres(t, dsn), openPostgres(t, dsn)}
		}},
	}
	const writers, each = 6, 25
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := tt.stores(t)
			var wg sync.WaitGroup
			errc := make(chan error, writers)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st := sts[w%len(sts)]
					f := feed.New(st, feed.Options{})
					for i := range each {
						if err := st.Update(t.Context(), func(tx store.Tx) error {
							return f.Publish(tx, "a", fmt.Sprintf("%d/%d", w, i))
						}); err != nil {
							errc <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Fatalf("Publish() = %v", err)
			}
			f := feed.New(sts[0], feed.Options{})
			var r recorder
			if err := f.CatchUp(t.Context(), r.handlers("a")); err != nil {
				t.Fatal(err)
			}
			got := r.entries()
			if len(got) != writers*each {
				t.Fatalf("applied %d records, want %d", len(got), writers*each)
			}
			seen := map[string]bool{}
			for i, e := range got {
				if e.Seq != uint64(i+1) {
					t.Fatalf("record %d has seq %d", i, e.Seq)
				}
				if seen[e.Subject] {
					t.Fatalf("subject %s applied twice", e.Subject)
				}
				seen[e.Subject] = true
			}
		})
	}
}

// waitFor polls cond until it holds or patience runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestFollowPolls checks the fallback: with nothing to wake it, Follow
// still applies a record at its next poll.
func TestFollowPolls(t *testing.T) {
	st := openBolt(t)
	writer := feed.New(st, feed.Options{})
	follower := feed.New(st, feed.Options{PollInterval: 20 * time.Millisecond})
	var r recorder
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- follower.Follow(ctx, 0, r.handlers("a")) }()
	publish(t, st, writer, "a", "polled")
	waitFor(t, "the polled record", func() bool { return len(r.entries()) == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow() = %v, want context.Canceled", err)
	}
}

// TestFollowNotified wires PostgreSQL notifications as a replica does: the
// publishing transaction notifies, the listener wakes the follower, which
// polls only once an hour.
func TestFollowNotified(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a, b := openPostgres(t, dsn), openPostgres(t, dsn)
	const channel = "shortfuse_feed"
	notify := func(tx store.Tx, payload string) error {
		return tx.(postgres.TxNotifier).Notify(channel, payload)
	}
	writer := feed.New(a, feed.Options{Notify: notify})
	follower := feed.New(b, feed.Options{PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	synced := make(chan struct{}, 1)
	go b.ListenSync(ctx, channel, func() {
		follower.Wake()
		select {
		case synced <- struct{}{}:
		default:
		}
	}, func(string) { follower.Wake() })
	select {
	case <-synced:
	case <-time.After(patience):
		t.Fatal("LISTEN did not take effect")
	}
	var r recorder
	go follower.Follow(ctx, 0, r.handlers("a"))
	for i := range 3 {
		publish(t, a, writer, "a", fmt.Sprint(i))
		waitFor(t, fmt.Sprintf("record %d", i+1), func() bool { return len(r.entries()) == i+1 })
	}
}
