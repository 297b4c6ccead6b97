package dbcred

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/store"
)

// Store layout.
const (
	bucketLeases  = "dbleases"       // role → Lease (password sealed)
	bucketOwners  = "dbleases-owner" // access key id "|" secret ARN → role, for session leases
	bucketLive    = "dbleases-live"  // role → "": leases not dropped yet, what the reaper scans
	bucketMasters = "dbleases-master"
)

// States of a lease.
const (
	StateCreating = "creating" // recorded, role being created
	StateLive     = "live"     // role created, handed out
	StateDropping = "dropping" // claimed by one replica, role being dropped
	StateDropped  = "dropped"  // role dropped
	StateFailed   = "failed"   // the role could not be created
)

// Reasons a lease is dropped.
const (
	ReasonSessionEnded = "session-ended" // revoked, used up, abandoned, narrowed (or an ancestor was)
	ReasonExpired      = "expired"
	ReasonLeftover     = "leftover" // found at start without a live lease
)

// Lease is one database credential handed out: a role on the master's
// server, bound to a session (or, for long-term keys, to its expiry only).
type Lease struct {
	Role        string    `json:"role"`
	SecretARN   string    `json:"secret"`
	MasterARN   string    `json:"master"`
	Engine      string    `json:"engine"`
	Host        string    `json:"host"`
	Port        int       `json:"port"`
	DBName      string    `json:"dbname"`
	AccessKeyID string    `json:"akid"`
	Session     bool      `json:"session,omitempty"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires"`
	State       string    `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	Ended       time.Time `json:"ended,omitzero"`
	ClaimedBy   string    `json:"claimedBy,omitempty"`
	ClaimedAt   time.Time `json:"claimedAt,omitzero"`
	// Sealed is the password, sealed with AAD ("db-lease", role).
	Sealed []byte `json:"sealed,omitempty"`
}

// Credential is what a reader of a dynamic secret gets.
type Credential struct {
	Lease    *Lease
	Password Password
}

// Event is a lease's creation or drop, for the audit trail. It holds no
// password.
type Event struct {
	Name        string // CreateDatabaseLease, DropDatabaseLease
	Time        time.Time
	Role        string
	SecretARN   string
	MasterARN   string
	Database    string // host:port/dbname
	AccessKeyID string
	Expires     time.Time
	Reason      string
	Error       string
}

// Errors.
var (
	// ErrEngine: the database did not do what was asked (down, wrong
	// master password, missing privilege). The message is safe to show.
	ErrEngine = errors.New("the database refused or could not be reached")
	// ErrNoLease: a dynamic secret cannot be read without a live session
	// lease (the session's lease was dropped).
	ErrNoLease = errors.New("the database credential of this session was dropped")
)

// Options configures a Service.
type Options struct {
	Store   store.Store
	Sealer  *seal.Sealer
	Engines map[string]Engine
	// Master reads and parses the master secret arn (current version).
	Master func(ctx context.Context, arn string) (*Master, error)
	// Live reports whether the session of access key id akid, and every
	// session it descends from, is live at now.
	Live func(ctx context.Context, akid string, now time.Time) (bool, error)
	// Audit records an event; an error refuses the lease it is about
	// (creation) and is logged (drop).
	Audit func(ctx context.Context, e Event) error
	// Replica: a drop claimed by a replica that has not finished it after
	// ClaimTimeout is taken over; default 10 s.
	Replica
}

// Replica is what a service that claims work in the store (a lease's drop,
// a rotation) knows of the replica it runs on.
type Replica struct {
	// Owner names this replica in its claims.
	Owner  string
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
	// ClaimTimeout: work claimed by a replica that has not finished it
	// after this long is taken over.
	ClaimTimeout time.Duration
}

// WithDefaults returns r with time.Now, a logger that discards and
// claimTimeout where r has none.
func (r Replica) WithDefaults(claimTimeout time.Duration) Replica {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.ClaimTimeout == 0 {
		r.ClaimTimeout = claimTimeout
	}
	return r
}

// Service hands out, keeps and drops leases.
type Service struct {
	o       Options
	mu      sync.Mutex // serializes the creation of one owner's lease on this replica
	pending map[string]*sync.Mutex
	m       metrics
	nudge   chan struct{}
}

// Nudge asks for a reaper pass now: a session was revoked here, or another
// replica's change to a session was applied. It never blocks.
func (s *Service) Nudge() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// Nudged delivers the nudges; the reaper's loop waits on it as well as on
// its ticker.
func (s *Service) Nudged() <-chan struct{} { return s.nudge }

type metrics struct {
	live    prometheus.Gauge
	created prometheus.Counter
	dropped *prometheus.CounterVec
	failed  *prometheus.CounterVec
}

// New returns a Service.
func New(o Options) *Service {
	o.Replica = o.Replica.WithDefaults(10 * time.Second)
	return &Service{o: o, pending: map[string]*sync.Mutex{}, nudge: make(chan struct{}, 1), m: metrics{
		live: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shortfuse_db_leases_live",
			Help: "Database credentials (leases) not dropped yet, as of this replica's last reaper pass.",
		}),
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shortfuse_db_leases_created_total",
			Help: "Database credentials (roles) this replica created.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shortfuse_db_leases_dropped_total",
			Help: "Database credentials (roles) this replica dropped, by reason (session-ended, expired, leftover).",
		}, []string{"reason"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shortfuse_db_lease_failures_total",
			Help: "Database credential operations that failed, by operation (create, drop, sweep).",
		}, []string{"op"}),
	}}
}

// Collectors returns the Service's metrics.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.m.live, s.m.created, s.m.dropped, s.m.failed}
}

func ownerKey(akid, secretARN string) string { return akid + "|" + secretARN }

func passwordAAD(role string) []byte { return seal.AAD("db-lease", role) }

func getLease(tx store.Tx, role string) (*Lease, error) {
	b, err := tx.Get(bucketLeases, role)
	if err != nil {
		return nil, err
	}
	var l Lease
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("lease record %s: %w", role, err)
	}
	return &l, nil
}

func putLease(tx store.Tx, l *Lease) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return tx.Put(bucketLeases, l.Role, b)
}

// Acquire is what reading a dynamic secret does.
type Acquire struct {
	SecretARN string
	Config    *Dynamic // resolved against Master
	Master    *Master
	// AccessKeyID of the caller; Session says whether it is a session's
	// (whose lease is kept and handed out again) or a long-term key's.
	AccessKeyID string
	Session     bool
	// Expires is when the lease ends: the session's end, or now plus the
	// secret's lease lifetime.
	Expires time.Time
}

// Get returns the caller's credential for the secret: for a session, the
// lease it already has, if any; otherwise a new lease, created on the
// database before it is returned. Two calls of one session at once get
// one lease.
func (s *Service) Get(ctx context.Context, a Acquire) (*Credential, error) {
	if !a.Session {
		return s.create(ctx, a)
	}
	key := ownerKey(a.AccessKeyID, a.SecretARN)
	unlock := s.lockOwner(key)
	defer unlock()
	for range 3 {
		c, err := s.existing(ctx, key)
		if err != nil || c != nil {
			return c, err
		}
		c, err = s.create(ctx, a)
		if !errors.Is(err, errCreating) {
			return c, err
		}
	}
	return nil, fmt.Errorf("%w: this session's credential is being created by another replica", ErrEngine)
}

// errCreating: the owner has a lease already (another replica made it
// meanwhile).
var errCreating = errors.New("lease being created")

// existing returns the session's live lease for the secret, waits while
// another replica creates it, and returns nil when there is none (or it
// failed) so that a new one is made.
func (s *Service) existing(ctx context.Context, key string) (*Credential, error) {
	for range 100 {
		var l *Lease
		err := s.o.Store.View(ctx, func(tx store.Tx) error {
			l = nil
			role, err := tx.Get(bucketOwners, key)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			l, err = getLease(tx, string(role))
			return err
		})
		if err != nil {
			return nil, err
		}
		switch {
		case l == nil || l.State == StateFailed:
			return nil, nil
		case l.State == StateLive:
			pw, err := s.o.Sealer.Open(l.Sealed, passwordAAD(l.Role))
			if err != nil {
				return nil, fmt.Errorf("lease %s: %w", l.Role, err)
			}
			return &Credential{Lease: l, Password: NewPassword(string(pw))}, nil
		case l.State == StateCreating:
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		default:
			return nil, ErrNoLease
		}
	}
	return nil, fmt.Errorf("%w: another replica is still creating this session's credential", ErrEngine)
}

func (s *Service) lockOwner(key string) func() {
	s.mu.Lock()
	m := s.pending[key]
	if m == nil {
		m = &sync.Mutex{}
		s.pending[key] = m
	}
	s.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		s.mu.Lock()
		if s.pending[key] == m && m.TryLock() {
			delete(s.pending, key)
			m.Unlock()
		}
		s.mu.Unlock()
	}
}

// recordNew records a new lease l in state creating: its record, its
// place among the live leases and its master's, and, for a session, the
// session's one credential for that secret (refused with errCreating while
// another is live or being created).
func recordNew(tx store.Tx, a Acquire, l *Lease) error {
	if a.Session {
		k := ownerKey(a.AccessKeyID, a.SecretARN)
		if have, err := tx.Get(bucketOwners, k); err == nil {
			if cur, err := getLease(tx, string(have)); err == nil && (cur.State == StateLive || cur.State == StateCreating) {
				return errCreating
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.Put(bucketOwners, k, []byte(l.Role)); err != nil {
			return err
		}
	}
	if err := tx.Put(bucketMasters, a.Config.MasterARN, nil); err != nil {
		return err
	}
	if err := tx.Put(bucketLive, l.Role, nil); err != nil {
		return err
	}
	return tx.Insert(bucketLeases, l.Role, mustJSON(l))
}

// create records a new lease, audits it, creates its role, and marks it
// live. The record comes first: a role on the database always has a
// record, so a broker that dies midway leaves a lease the reaper or the
// start-up sweep drops.
func (s *Service) create(ctx context.Context, a Acquire) (*Credential, error) {
	eng := s.o.Engines[a.Config.Engine]
	if eng == nil {
		return nil, configErr("engine %q is not supported", a.Config.Engine)
	}
	now := s.o.Now().UTC()
	role, err := RoleName(s.o.Rand, a.AccessKeyID)
	if err != nil {
		return nil, err
	}
	pw, err := NewPasswordFrom(s.o.Rand)
	if err != nil {
		return nil, err
	}
	sealed, err := s.o.Sealer.Seal([]byte(pw.Reveal()), passwordAAD(role))
	if err != nil {
		return nil, err
	}
	l := &Lease{
		Role: role, SecretARN: a.SecretARN, MasterARN: a.Config.MasterARN, Engine: a.Config.Engine,
		Host: a.Config.Host, Port: a.Config.Port, DBName: a.Config.DBName,
		AccessKeyID: a.AccessKeyID, Session: a.Session,
		Created: now, Expires: a.Expires.UTC(), State: StateCreating, Sealed: sealed,
	}
	if err := s.o.Store.Update(ctx, func(tx store.Tx) error { return recordNew(tx, a, l) }); err != nil {
		return nil, err
	}
	ev := s.event("CreateDatabaseLease", l, "")
	if err := s.audit(ctx, ev); err != nil {
		s.fail(ctx, l)
		return nil, err
	}
	if err := eng.CreateLease(ctx, a.Master, role, pw, a.Config.Grants, l.Expires); err != nil {
		s.m.failed.WithLabelValues("create").Inc()
		s.o.Logger.Error("database credential not created", "role", role, "secret", a.SecretARN, "err", err)
		s.fail(ctx, l)
		ev.Name, ev.Error = "CreateDatabaseLeaseFailed", err.Error()
		_ = s.audit(ctx, ev)
		return nil, fmt.Errorf("%w: %v", ErrEngine, err)
	}
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		cur, err := getLease(tx, role)
		if err != nil {
			return err
		}
		if cur.State != StateCreating {
			return ErrNoLease // the reaper got to it first
		}
		cur.State = StateLive
		return putLease(tx, cur)
	})
	if err != nil {
		return nil, err
	}
	l.State = StateLive
	s.m.created.Inc()
	s.o.Logger.Info("database credential created", "role", role, "secret", a.SecretARN, "access_key_id", a.AccessKeyID, "expires", l.Expires)
	return &Credential{Lease: l, Password: pw}, nil
}

// fail marks a lease that could not be created; its role, if the
// database made it after all, is dropped by the start-up sweep.
func (s *Service) fail(ctx context.Context, l *Lease) {
	ctx = context.WithoutCancel(ctx)
	_ = s.o.Store.Update(ctx, func(tx store.Tx) error { return s.end(tx, l.Role, StateFailed) })
}

// end records the end of the lease of role in state (failed or dropped):
// its password is forgotten, it leaves the live leases, and a session's
// entry for the secret is removed if it still names this lease. It may
// name a newer one: a lease the reaper ended while it was being created
// no longer holds the entry, and a new lease for the session may have
// taken it since.
func (s *Service) end(tx store.Tx, role, state string) error {
	cur, err := getLease(tx, role)
	if err != nil {
		return err
	}
	cur.State, cur.Ended, cur.Sealed = state, s.o.Now().UTC(), nil
	if err := putLease(tx, cur); err != nil {
		return err
	}
	if cur.Session {
		k := ownerKey(cur.AccessKeyID, cur.SecretARN)
		switch v, err := tx.Get(bucketOwners, k); {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case string(v) == role:
			if err := tx.Delete(bucketOwners, k); err != nil {
				return err
			}
		}
	}
	if err := tx.Delete(bucketLive, role); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

func (s *Service) event(name string, l *Lease, reason string) Event {
	return Event{
		Name: name, Time: s.o.Now().UTC(), Role: l.Role, SecretARN: l.SecretARN, MasterARN: l.MasterARN,
		Database: fmt.Sprintf("%s:%d/%s", l.Host, l.Port, l.DBName), AccessKeyID: l.AccessKeyID,
		Expires: l.Expires, Reason: reason,
	}
}

func (s *Service) audit(ctx context.Context, e Event) error {
	if s.o.Audit == nil {
		return nil
	}
	return s.o.Audit(ctx, e)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Reap drops the leases whose session is no longer live (revoked, used
// up, abandoned, narrowed, expired, or an ancestor so) or that expired. It
// returns how many this replica dropped. Every replica reaps; a lease is
// dropped by the one that claims it (Drop).
func (s *Service) Reap(ctx context.Context) (int, error) {
	now := s.o.Now()
	var roles []string
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(bucketLive, "", "", func(k string, _ []byte) (bool, error) {
			roles = append(roles, k)
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	s.m.live.Set(float64(len(roles)))
	n := 0
	var errs []error
	for _, role := range roles {
		var l *Lease
		if err := s.o.Store.View(ctx, func(tx store.Tx) error {
			var err error
			l, err = getLease(tx, role)
			return err
		}); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		reason, err := s.ended(ctx, l, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if reason == "" {
			continue
		}
		dropped, err := s.Drop(ctx, role, reason)
		if err != nil {
			errs = append(errs, err)
		}
		if dropped {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// ended says why a lease must be dropped at now, or "" if it need not.
func (s *Service) ended(ctx context.Context, l *Lease, now time.Time) (string, error) {
	switch l.State {
	case StateDropped, StateFailed:
		return "", nil
	case StateDropping:
		// Claimed: taken over only if its claimant went silent.
		if now.Sub(l.ClaimedAt) < s.o.ClaimTimeout {
			return "", nil
		}
		if l.Reason != "" {
			return l.Reason, nil
		}
	case StateCreating:
		// A creation takes well under a minute; one older is a broker
		// that died midway.
		if now.Sub(l.Created) > time.Minute {
			return ReasonExpired, nil
		}
	}
	if !now.Before(l.Expires) {
		return ReasonExpired, nil
	}
	if l.Session && s.o.Live != nil {
		live, err := s.o.Live(ctx, l.AccessKeyID, now)
		if err != nil {
			return "", err
		}
		if !live {
			return ReasonSessionEnded, nil
		}
	}
	return "", nil
}

// Drop claims the lease (one store transaction: only a replica that finds
// it live, creating, or claimed by a silent replica takes it), drops its
// role, and records it dropped. It reports whether this call dropped it.
// Dropping a role twice is harmless (DROP ROLE IF EXISTS), so a takeover
// after a slow claimant does no harm either.
func (s *Service) Drop(ctx context.Context, role, reason string) (bool, error) {
	now := s.o.Now().UTC()
	var l *Lease
	err := s.o.Store.Update(ctx, func(tx store.Tx) error {
		l = nil
		cur, err := getLease(tx, role)
		if err != nil {
			return err
		}
		switch cur.State {
		case StateDropped, StateFailed:
			return nil
		case StateDropping:
			if now.Sub(cur.ClaimedAt) < s.o.ClaimTimeout {
				return nil
			}
		}
		cur.State, cur.Reason, cur.ClaimedBy, cur.ClaimedAt = StateDropping, reason, s.o.Owner, now
		l = cur
		return putLease(tx, cur)
	})
	if err != nil || l == nil {
		return false, err
	}
	if err := s.dropRole(ctx, l.Engine, l.MasterARN, role); err != nil {
		s.m.failed.WithLabelValues("drop").Inc()
		s.o.Logger.Error("database credential not dropped; retrying", "role", role, "reason", reason, "err", err)
		return false, err
	}
	err = s.o.Store.Update(ctx, func(tx store.Tx) error { return s.end(tx, role, StateDropped) })
	if err != nil {
		return false, err
	}
	s.m.dropped.WithLabelValues(reason).Inc()
	s.o.Logger.Info("database credential dropped", "role", role, "reason", reason)
	if err := s.audit(ctx, s.event("DropDatabaseLease", l, reason)); err != nil {
		s.o.Logger.Error("audit record of a dropped database credential not written", "role", role, "err", err)
	}
	return true, nil
}

func (s *Service) dropRole(ctx context.Context, engine, masterARN, role string) error {
	eng := s.o.Engines[engine]
	if eng == nil {
		return fmt.Errorf("engine %q is not supported", engine)
	}
	m, err := s.o.Master(ctx, masterARN)
	if err != nil {
		return fmt.Errorf("master secret: %w", err)
	}
	return eng.Drop(ctx, m, role)
}

// Sweep drops, on every master a lease was ever created with, the roles
// named with RolePrefix that the master created and that no lease holds
// any more (dropped, failed, expired, or never recorded): what a broker
// that died left behind. Run it at start.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	var masters []string
	if err := s.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(bucketMasters, "", "", func(k string, _ []byte) (bool, error) {
			masters = append(masters, k)
			return true, nil
		})
	}); err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, arn := range masters {
		m, err := s.o.Master(ctx, arn)
		if err != nil {
			// A master deleted since: nothing to sweep with.
			s.o.Logger.Warn("leftover sweep: master secret not readable", "master", arn, "err", err)
			continue
		}
		eng := s.o.Engines[m.Engine]
		if eng == nil {
			continue
		}
		roles, err := eng.ListLeftovers(ctx, m, RolePrefix)
		if err != nil {
			s.m.failed.WithLabelValues("sweep").Inc()
			errs = append(errs, fmt.Errorf("master %s: %w", arn, err))
			continue
		}
		now := s.o.Now()
		for _, role := range roles {
			var l *Lease
			err := s.o.Store.View(ctx, func(tx store.Tx) error {
				var err error
				l, err = getLease(tx, role)
				return err
			})
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				errs = append(errs, err)
				continue
			case (l.State == StateLive || l.State == StateCreating || l.State == StateDropping) && now.Before(l.Expires):
				continue // the reaper's
			}
			if l != nil && l.State != StateDropped && l.State != StateFailed {
				// Recorded and past its expiry: the usual way.
				if ok, err := s.Drop(ctx, role, ReasonExpired); err != nil {
					errs = append(errs, err)
				} else if ok {
					n++
				}
				continue
			}
			if err := eng.Drop(ctx, m, role); err != nil {
				s.m.failed.WithLabelValues("sweep").Inc()
				errs = append(errs, fmt.Errorf("drop %s: %w", role, err))
				continue
			}
			n++
			s.m.dropped.WithLabelValues(ReasonLeftover).Inc()
			s.o.Logger.Info("leftover database role dropped", "role", role, "master", arn)
			ev := Event{Name: "DropDatabaseLease", Time: now.UTC(), Role: role, MasterARN: arn,
				Database: fmt.Sprintf("%s:%d/%s", m.Host, m.Port, m.DBName), Reason: ReasonLeftover}
			if l != nil {
				ev = s.event("DropDatabaseLease", l, ReasonLeftover)
			}
			if err := s.audit(ctx, ev); err != nil {
				s.o.Logger.Error("audit record of a dropped database credential not written", "role", role, "err", err)
			}
		}
	}
	return n, errors.Join(errs...)
}

// Leases returns the leases of the given sessions (by access key id),
// newest first per session.
func (s *Service) Leases(ctx context.Context, akids []string) (map[string][]Lease, error) {
	out := map[string][]Lease{}
	want := map[string]bool{}
	for _, a := range akids {
		want[a] = true
	}
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(bucketLeases, "", "", func(_ string, v []byte) (bool, error) {
			var l Lease
			if err := json.Unmarshal(v, &l); err != nil {
				return false, err
			}
			if want[l.AccessKeyID] {
				l.Sealed = nil
				out[l.AccessKeyID] = append(out[l.AccessKeyID], l)
			}
			return true, nil
		})
	})
	for _, ls := range out {
		sort.Slice(ls, func(i, j int) bool { return ls[i].Created.After(ls[j].Created) })
	}
	return out, err
}

// Purge deletes the records of leases that ended more than keep ago.
func (s *Service) Purge(ctx context.Context, now time.Time, keep time.Duration) (int, error) {
	var dead []string
	err := s.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(bucketLeases, "", "", func(k string, v []byte) (bool, error) {
			var l Lease
			if err := json.Unmarshal(v, &l); err != nil {
				return false, err
			}
			if (l.State == StateDropped || l.State == StateFailed) && now.Sub(l.Ended) > keep {
				dead = append(dead, k)
			}
			return true, nil
		})
	})
	if err != nil || len(dead) == 0 {
		return 0, err
	}
	err = s.o.Store.Update(ctx, func(tx store.Tx) error {
		for _, k := range dead {
			if err := tx.Delete(bucketLeases, k); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	return len(dead), err
}

// IsConfigError reports whether err is a configuration that cannot be
// used.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}
