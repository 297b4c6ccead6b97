package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/feed"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
	"github.com/shortfuse/shortfuse/internal/store/postgres"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// replica is one broker's registry and its follower of the feed.
type replica struct {
	reg  *registry.Service
	feed *feed.Feed
}

func (r *replica) handlers() feed.Handlers {
	apply := func(ctx context.Context, e feed.Entry) error { return r.reg.Apply(ctx, e.Topic, e.Subject) }
	return feed.Handlers{
		Topics: map[string]feed.Handler{registry.TopicSession: apply, registry.TopicRevokeBefore: apply},
		Resync: r.reg.Reload,
	}
}

// catchUp applies what the other replicas published.
func (r *replica) catchUp(t *testing.T) {
	t.Helper()
	if err := r.feed.CatchUp(t.Context(), r.handlers()); err != nil {
		t.Fatalf("CatchUp() = %v", err)
	}
}

func newReplica(t *testing.T, st store.Store) *replica {
	t.Helper()
	f := feed.New(st, feed.Options{})
	reg, err := registry.New(t.Context(), st, registry.Options{Publisher: f})
	if err != nil {
		t.Fatal(err)
	}
	return &replica{reg: reg, feed: f}
}

// pair returns two replicas over one store of each backend: for bolt, two
// registries over one Store; for PostgreSQL, two Stores over one database.
func pairs(t *testing.T) map[string]func(t *testing.T) (*replica, *replica) {
	return map[string]func(t *testing.T) (*replica, *replica){
		"bolt": func(t *testing.T) (*replica, *replica) {
			st, _ := testutil.TempStore(t)
			return newReplica(t, st), newReplica(t, st)
		},
		"postgres": func(t *testing.T) (*replica, *replica) {
			dsn := pgtest.NewDatabase(t)
			var sts [2]*postgres.Store
			for i := range sts {
				st, err := postgres.Open(t.Context(), dsn, postgres.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				sts[i] = st
			}
			return newReplica(t, sts[0]), newReplica(t, sts[1])
		},
	}
}

// onPairs runs test, once per backend, on two replicas sharing a store.
func onPairs(t *testing.T, test func(t *testing.T, a, b *replica)) {
	for backend, pair := range pairs(t) {
		t.Run(backend, func(t *testing.T) {
			a, b := pair(t)
			test(t, a, b)
		})
	}
}

var nextSession = 0

// register records a new session of principal issued at t0.
func register(t *testing.T, r *replica, principal string, maxUses int) *sessiontoken.Claims {
	t.Helper()
	nextSession++
	c := &sessiontoken.Claims{
		AccessKeyID:  fmt.Sprintf("ASIAAAAAAAAAAAAA%04d", nextSession),
		SessionID:    fmt.Sprintf("%040d", nextSession),
		Type:         sessiontoken.TypeGetSessionToken,
		PrincipalARN: principal,
		IssuedAt:     t0,
		Expires:      t0.Add(time.Hour),
		MaxUses:      maxUses,
	}
	if err := r.reg.Register(t.Context(), c); err != nil {
		t.Fatalf("Register() = %v", err)
	}
	return c
}

const alice = "arn:aws:iam::123456789012:user/alice"

// TestReplicas checks that what one replica changes is enforced by the
// other once it has applied the feed, and that refusals the other can
// settle only from the store are settled there.
func TestReplicas(t *testing.T) {
	tests := []struct {
		name string
		// change acts on a, then b (having caught up) admits at when.
		change func(t *testing.T, a *replica, c *sessiontoken.Claims)
		// later acts on a after b caught up, unknown to b.
		later   func(t *testing.T, a *replica, c *sessiontoken.Claims)
		when    time.Time
		wantErr error
	}{
		{
			name:    "fail/revoked-on-the-other",
			change:  func(t *testing.T, a *replica, c *sessiontoken.Claims) { mustRevoke(t, a, c) },
			when:    t0.Add(time.Minute),
			wantErr: registry.ErrRevoked,
		},
		{
			name: "fail/principal-revoked-on-the-other",
			change: func(t *testing.T, a *replica, c *sessiontoken.Claims) {
				if _, err := a.reg.RevokeBefore(t.Context(), alice, t0.Add(time.Second), t0.Add(time.Second)); err != nil {
					t.Fatal(err)
				}
			},
			when:    t0.Add(time.Minute),
			wantErr: registry.ErrRevoked,
		},
		{
			name: "fail/armed-on-the-other-and-abandoned",
			change: func(t *testing.T, a *replica, c *sessiontoken.Claims) {
				mustHeartbeat(t, a, c, t0.Add(time.Minute))
			},
			when:    t0.Add(3 * time.Minute),
			wantErr: registry.ErrAbandoned,
		},
		{
			name: "ok/armed-on-the-other-and-alive",
			change: func(t *testing.T, a *replica, c *sessiontoken.Claims) {
				mustHeartbeat(t, a, c, t0.Add(time.Minute))
			},
			when: t0.Add(time.Minute + 30*time.Second),
		},
		{
			// Re-arming is not published: b holds the first deadline and
			// finds the later one in the store when the first passes.
			name: "ok/heartbeats-on-the-other-move-the-deadline",
			change: func(t *testing.T, a *replica, c *sessiontoken.Claims) {
				mustHeartbeat(t, a, c, t0.Add(time.Minute))
			},
			later: func(t *testing.T, a *replica, c *sessiontoken.Claims) {
				mustHeartbeat(t, a, c, t0.Add(2*time.Minute))
				mustHeartbeat(t, a, c, t0.Add(3*time.Minute))
			},
			when: t0.Add(3*time.Minute + 30*time.Second),
		},
	}
	for backend, pair := range pairs(t) {
		t.Run(backend, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					a, b := pair(t)
					c := register(t, a, alice, 0)
					if err := b.reg.Admit(t.Context(), c, t0.Add(time.Second), registry.Use{Count: true}); err != nil {
						t.Fatalf("Admit() before the change = %v", err)
					}
					tt.change(t, a, c)
					b.catchUp(t)
					if tt.later != nil {
						tt.later(t, a, c)
					}
					err := b.reg.Admit(t.Context(), c, tt.when, registry.Use{Count: true})
					if !errors.Is(err, tt.wantErr) {
						t.Errorf("Admit() on the other replica = %v, want %v", err, tt.wantErr)
					}
				})
			}
		})
	}
}

func mustRevoke(t *testing.T, r *replica, c *sessiontoken.Claims) {
	t.Helper()
	if err := r.reg.Revoke(t.Context(), c.AccessKeyID, alice, t0.Add(time.Second)); err != nil {
		t.Fatalf("Revoke() = %v", err)
	}
}

func mustHeartbeat(t *testing.T, r *replica, c *sessiontoken.Claims, now time.Time) {
	t.Helper()
	if _, err := r.reg.Heartbeat(t.Context(), c.AccessKeyID, time.Minute, now); err != nil {
		t.Fatalf("Heartbeat() = %v", err)
	}
}

// TestUseLimitAcrossReplicas checks that a use limit holds over the sum of
// the calls made on both replicas.
func TestUseLimitAcrossReplicas(t *testing.T) {
	onPairs(t, func(t *testing.T, a, b *replica) {
		c := register(t, a, alice, 3)
		for i, r := range []*replica{a, b, a} {
			if err := r.reg.Admit(t.Context(), c, t0.Add(time.Second), registry.Use{Count: true}); err != nil {
				t.Fatalf("use %d: Admit() = %v", i+1, err)
			}
		}
		if err := b.reg.Admit(t.Context(), c, t0.Add(time.Second), registry.Use{Count: true}); !errors.Is(err, registry.ErrUsedUp) {
			t.Errorf("use 4: Admit() = %v, want ErrUsedUp", err)
		}
	})
}

// TestRevocationSticks checks that a replica that applies an old change
// after a revocation does not forget the revocation.
func TestRevocationSticks(t *testing.T) {
	onPairs(t, func(t *testing.T, a, b *replica) {
		c := register(t, a, alice, 0)
		mustHeartbeat(t, a, c, t0.Add(time.Second))
		mustRevoke(t, a, c)
		b.catchUp(t)
		// Apply again, out of order: the revocation stays.
		if err := b.reg.Apply(t.Context(), registry.TopicSession, c.AccessKeyID); err != nil {
			t.Fatal(err)
		}
		if err := b.reg.Admit(t.Context(), c, t0.Add(2*time.Second), registry.Use{}); !errors.Is(err, registry.ErrRevoked) {
			t.Errorf("Admit() = %v, want ErrRevoked", err)
		}
		if err := b.reg.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := b.reg.Admit(t.Context(), c, t0.Add(2*time.Second), registry.Use{}); !errors.Is(err, registry.ErrRevoked) {
			t.Errorf("Admit() after Reload = %v, want ErrRevoked", err)
		}
	})
}

// TestPurgeForgetsWhatOthersDeleted checks that a replica's Purge also
// drops what it remembers of sessions another replica already purged.
func TestPurgeForgetsWhatOthersDeleted(t *testing.T) {
	onPairs(t, func(t *testing.T, a, b *replica) {
		c := register(t, a, alice, 0)
		mustRevoke(t, a, c)
		b.catchUp(t)
		later := c.Expires.Add(25 * time.Hour)
		if n, err := a.reg.Purge(t.Context(), later, 24*time.Hour); err != nil || n != 1 {
			t.Fatalf("Purge() on a = %d, %v; want 1, nil", n, err)
		}
		if n, err := b.reg.Purge(t.Context(), later, 24*time.Hour); err != nil || n != 0 {
			t.Fatalf("Purge() on b = %d, %v; want 0, nil", n, err)
		}
		if err := b.reg.Apply(t.Context(), registry.TopicSession, c.AccessKeyID); err != nil {
			t.Errorf("Apply() of a purged session = %v", err)
		}
	})
}
