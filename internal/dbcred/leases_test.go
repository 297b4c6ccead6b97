package dbcred

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

// fakeEngine records roles as a database would.
type fakeEngine struct {
	mu      sync.Mutex
	roles   map[string]string // role → password
	drops   map[string]int
	failing bool
}

func (e *fakeEngine) CreateLease(_ context.Context, _ *Master, role string, pw Password, _ []string, _ time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failing {
		return errors.New("connection refused")
	}
	e.roles[role] = pw.Reveal()
	return nil
}

func (e *fakeEngine) Drop(_ context.Context, _ *Master, role string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failing {
		return errors.New("connection refused")
	}
	if _, ok := e.roles[role]; ok {
		e.drops[role]++
	}
	delete(e.roles, role)
	return nil
}

func (e *fakeEngine) ListLeftovers(_ context.Context, _ *Master, prefix string) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for r := range e.roles {
		out = append(out, r)
	}
	return out, nil
}

type leaseFixture struct {
	st     store.Store
	eng    *fakeEngine
	live   map[string]bool
	mu     sync.Mutex
	now    time.Time
	events []Event
	svc    func(owner string) *Service
}

func newLeaseFixture(t *testing.T) *leaseFixture {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dk, _ := seal.NewDataKey(rand.Reader, 1)
	sealer, _ := seal.NewSealer(rand.Reader, dk)
	f := &leaseFixture{st: st, eng: &fakeEngine{roles: map[string]string{}, drops: map[string]int{}}, live: map[string]bool{}, now: time.Unix(1_800_000_000, 0)}
	f.svc = func(owner string) *Service {
		return New(Options{
			Store: st, Sealer: sealer, Engines: map[string]Engine{EnginePostgres: f.eng},
			Master: func(context.Context, string) (*Master, error) { return &Master{Engine: EnginePostgres}, nil },
			Live: func(_ context.Context, akid string, _ time.Time) (bool, error) {
				f.mu.Lock()
				defer f.mu.Unlock()
				return f.live[akid], nil
			},
			Audit: func(_ context.Context, e Event) error {
				f.mu.Lock()
				defer f.mu.Unlock()
				f.events = append(f.events, e)
				return nil
			},
			Replica: Replica{Owner: owner, Now: func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }},
		})
	}
	return f
}

// leaseLive marks session ASIA1 live and has s lease arn:s to it for an
// hour.
func (f *leaseFixture) leaseLive(t *testing.T, s *Service) *Credential {
	t.Helper()
	f.setLive("ASIA1", true)
	c, err := s.Get(context.Background(), acquire("ASIA1", "arn:s", true, f.now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *leaseFixture) setLive(akid string, v bool) { f.mu.Lock(); f.live[akid] = v; f.mu.Unlock() }
func (f *leaseFixture) advance(d time.Duration)     { f.mu.Lock(); f.now = f.now.Add(d); f.mu.Unlock() }

func acquire(akid, secret string, session bool, exp time.Time) Acquire {
	return Acquire{
		SecretARN: secret, AccessKeyID: akid, Session: session, Expires: exp, Master: &Master{Engine: EnginePostgres},
		Config: &Dynamic{Engine: EnginePostgres, Host: "h", Port: 5432, DBName: "d", MasterARN: "arn:m", Grants: []string{"r"}},
	}
}

func TestLeaseSameSessionSameCredential(t *testing.T) {
	f := newLeaseFixture(t)
	s := f.svc("a")
	ctx := context.Background()
	f.setLive("ASIA1", true)
	f.setLive("ASIA2", true)
	exp := f.now.Add(time.Hour)
	c1, err := s.Get(ctx, acquire("ASIA1", "arn:s", true, exp))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.Get(ctx, acquire("ASIA1", "arn:s", true, exp))
	if err != nil {
		t.Fatal(err)
	}
	if c1.Lease.Role != c2.Lease.Role || c1.Password.Reveal() != c2.Password.Reveal() {
		t.Fatal("the same session got two credentials")
	}
	// Another session, another secret: other credentials.
	c3, _ := s.Get(ctx, acquire("ASIA2", "arn:s", true, exp))
	c4, _ := s.Get(ctx, acquire("ASIA1", "arn:s2", true, exp))
	if c3.Lease.Role == c1.Lease.Role || c4.Lease.Role == c1.Lease.Role || c3.Password.Reveal() == c1.Password.Reveal() {
		t.Fatal("a session got another's credential")
	}
	// Long-term keys: a new lease each time.
	l1, _ := s.Get(ctx, acquire("AKIA1", "arn:s", false, f.now.Add(15*time.Minute)))
	l2, _ := s.Get(ctx, acquire("AKIA1", "arn:s", false, f.now.Add(15*time.Minute)))
	if l1.Lease.Role == l2.Lease.Role {
		t.Fatal("long-term keys got a kept lease")
	}
	if len(f.eng.roles) != 5 {
		t.Fatalf("%d roles on the database, want 5", len(f.eng.roles))
	}
	// The password is sealed at rest.
	_ = f.st.View(ctx, func(tx store.Tx) error {
		return tx.Scan(bucketLeases, "", "", func(_ string, v []byte) (bool, error) {
			if bytes.Contains(v, []byte(c1.Password.Reveal())) {
				t.Error("a lease record holds the password in clear")
			}
			return true, nil
		})
	})
	for _, e := range f.events {
		if e.Name != "CreateDatabaseLease" {
			t.Errorf("event %s", e.Name)
		}
	}
}

func TestLeaseConcurrentGet(t *testing.T) {
	f := newLeaseFixture(t)
	a, b := f.svc("a"), f.svc("b")
	f.setLive("ASIA1", true)
	var wg sync.WaitGroup
	roles := make([]string, 8)
	for i := range roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			c, err := s.Get(context.Background(), acquire("ASIA1", "arn:s", true, f.now.Add(time.Hour)))
			if err != nil {
				t.Error(err)
				return
			}
			roles[i] = c.Lease.Role
		}()
	}
	wg.Wait()
	// Two replicas may race once; on one replica the calls share a lease.
	seen := map[string]bool{}
	for _, r := range roles {
		seen[r] = true
	}
	if len(seen) > 2 {
		t.Fatalf("%d leases for one session", len(seen))
	}
}

func TestReapOnceAcrossReplicas(t *testing.T) {
	f := newLeaseFixture(t)
	a, b := f.svc("a"), f.svc("b")
	ctx := context.Background()
	c := f.leaseLive(t, a)
	if n, _ := a.Reap(ctx); n != 0 {
		t.Fatalf("a live session's lease reaped")
	}
	f.setLive("ASIA1", false)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, s := range []*Service{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.Reap(ctx)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != 1 || f.eng.drops[c.Lease.Role] != 1 {
		t.Fatalf("drops: replica counts %v, engine drops %d; want exactly one", counts, f.eng.drops[c.Lease.Role])
	}
	if _, ok := f.eng.roles[c.Lease.Role]; ok {
		t.Fatal("role not dropped")
	}
	// The dropped lease is not handed out again.
	if _, err := a.Get(ctx, acquire("ASIA1", "arn:s", true, f.now.Add(time.Hour))); err == nil {
		// A new lease for a dead session would be dropped at the next
		// pass; the server refuses the session before it gets here.
		if n, _ := a.Reap(ctx); n != 1 {
			t.Fatal("a lease of a dead session survived a reaper pass")
		}
	}
	ls, _ := a.Leases(ctx, []string{"ASIA1"})
	if len(ls["ASIA1"]) == 0 || ls["ASIA1"][len(ls["ASIA1"])-1].State != StateDropped {
		t.Fatalf("Leases() = %+v", ls)
	}
}

func TestReapExpiry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration
		drop  bool
	}{{"ok/before", 14*time.Minute + 59*time.Second, false}, {"drop/at", 15 * time.Minute, true}, {"drop/after", 15*time.Minute + time.Second, true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newLeaseFixture(t)
			s := f.svc("a")
			ctx := context.Background()
			if _, err := s.Get(ctx, acquire("AKIA1", "arn:s", false, f.now.Add(15*time.Minute))); err != nil {
				t.Fatal(err)
			}
			f.advance(tc.after)
			n, err := s.Reap(ctx)
			if err != nil || (n == 1) != tc.drop {
				t.Fatalf("Reap() = %d, %v; want drop %v", n, err, tc.drop)
			}
		})
	}
}

func TestCreateFailureAndRetry(t *testing.T) {
	f := newLeaseFixture(t)
	s := f.svc("a")
	ctx := context.Background()
	f.setLive("ASIA1", true)
	f.eng.failing = true
	if _, err := s.Get(ctx, acquire("ASIA1", "arn:s", true, f.now.Add(time.Hour))); !errors.Is(err, ErrEngine) {
		t.Fatalf("Get() with the database down = %v, want ErrEngine", err)
	}
	f.eng.failing = false
	if _, err := s.Get(ctx, acquire("ASIA1", "arn:s", true, f.now.Add(time.Hour))); err != nil {
		t.Fatalf("Get() once the database is back = %v", err)
	}
}

func TestDropFailureIsRetried(t *testing.T) {
	f := newLeaseFixture(t)
	s := f.svc("a")
	ctx := context.Background()
	c := f.leaseLive(t, s)
	f.setLive("ASIA1", false)
	f.eng.failing = true
	if n, err := s.Reap(ctx); n != 0 || err == nil {
		t.Fatalf("Reap() with the database down = %d, %v", n, err)
	}
	f.eng.failing = false
	if n, _ := s.Reap(ctx); n != 0 {
		t.Fatal("a claimed drop was taken over before the claim timeout")
	}
	f.advance(11 * time.Second)
	if n, err := s.Reap(ctx); n != 1 || err != nil {
		t.Fatalf("Reap() after the claim timeout = %d, %v", n, err)
	}
	if _, ok := f.eng.roles[c.Lease.Role]; ok {
		t.Fatal("role not dropped")
	}
}

func TestSweepLeftovers(t *testing.T) {
	f := newLeaseFixture(t)
	s := f.svc("a")
	ctx := context.Background()
	c := f.leaseLive(t, s)
	f.eng.roles["sf_orphan_x"] = "p" // a role without a record
	n, err := s.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep() = %d, %v; want 1", n, err)
	}
	if _, ok := f.eng.roles[c.Lease.Role]; !ok {
		t.Fatal("Sweep dropped a live lease's role")
	}
	if _, ok := f.eng.roles["sf_orphan_x"]; ok {
		t.Fatal("Sweep left a role without a lease")
	}
}

// A lease that ends after the session's entry for its secret passed to a
// newer lease (the reaper ended it while it was being created, and the
// session asked again) leaves the newer lease the session's credential.
func TestEndedLeaseLeavesNewerLeaseTheSessions(t *testing.T) {
	f := newLeaseFixture(t)
	s := f.svc("a")
	ctx := context.Background()
	newer := f.leaseLive(t, s)
	older := &Lease{Role: "sf_older", SecretARN: "arn:s", AccessKeyID: "ASIA1", Session: true, Engine: EnginePostgres, State: StateDropped}
	if err := f.st.Update(ctx, func(tx store.Tx) error { return tx.Insert(bucketLeases, older.Role, mustJSON(older)) }); err != nil {
		t.Fatal(err)
	}
	s.fail(ctx, older)
	again, err := s.Get(ctx, acquire("ASIA1", "arn:s", true, f.now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if again.Lease.Role != newer.Lease.Role || len(f.eng.roles) != 1 {
		t.Fatalf("the session got lease %s (%d roles on the database), want its lease %s kept", again.Lease.Role, len(f.eng.roles), newer.Lease.Role)
	}
}
