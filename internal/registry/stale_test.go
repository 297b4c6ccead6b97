package registry_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/feed"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// hangingStore is a store whose transactions can be made to wait for
// their context, as a database cut off without a reset does.
type hangingStore struct {
	store.Store
	hang atomic.Bool
}

func (h *hangingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if h.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return h.Store.View(ctx, fn)
}

func (h *hangingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if h.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return h.Store.Update(ctx, fn)
}

// TestStaleViewFailsClosed: a replica whose view of the others' changes is
// older than the bound checks a session in the store before admitting it,
// and refuses it (ErrUnconfirmed, within the store timeout) when the store
// does not answer; within the bound it answers from memory.
func TestStaleViewFailsClosed(t *testing.T) {
	st, _ := testutil.TempStore(t)
	a := newReplica(t, st)
	hs := &hangingStore{Store: st}
	var current atomic.Int64
	current.Store(time.Now().UnixNano())
	fb := feed.New(hs, feed.Options{})
	b, err := registry.New(t.Context(), hs, registry.Options{
		Publisher: fb, MaxStaleness: time.Second, StoreTimeout: 200 * time.Millisecond,
		Current: func() time.Time { return time.Unix(0, current.Load()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	c := register(t, a, alice, 0)
	now := t0.Add(time.Minute)
	if err := b.Admit(t.Context(), c, now, registry.Use{Count: true}); err != nil {
		t.Fatalf("fresh view, live session: %v", err)
	}
	mustRevoke(t, a, c)

	// Within the bound, memory decides (the revocation is not applied
	// here yet): this is the staleness the bound allows.
	if err := b.Admit(t.Context(), c, now, registry.Use{Count: true}); err != nil {
		t.Fatalf("fresh view: %v", err)
	}
	// Past the bound, the store decides.
	current.Store(time.Now().Add(-2 * time.Second).UnixNano())
	if err := b.Admit(t.Context(), c, now, registry.Use{Count: true}); !errors.Is(err, registry.ErrRevoked) {
		t.Fatalf("stale view, revoked in the store: %v, want ErrRevoked", err)
	}
	// A store that does not answer refuses, within the store timeout.
	d := register(t, a, alice, 0)
	hs.hang.Store(true)
	start := time.Now()
	err = b.Admit(t.Context(), d, now, registry.Use{Count: true})
	if !errors.Is(err, registry.ErrUnconfirmed) {
		t.Fatalf("stale view, store hung: %v, want ErrUnconfirmed", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("refusing took %v with a 200ms store timeout", took)
	}
	// Fresh again: memory answers, the hung store is not asked.
	current.Store(time.Now().UnixNano())
	if err := b.Admit(t.Context(), d, now, registry.Use{Count: true}); err != nil {
		t.Errorf("fresh view, store hung, no use limit: %v", err)
	}
}
