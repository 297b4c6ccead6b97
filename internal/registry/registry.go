package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/store"
)

// Store layout.
const (
	bucketSessions = "sessions"      // akid → Record
	bucketBefore   = "revoke-before" // principal ARN → unix seconds
)

// Reasons a session is refused although its token is valid and unexpired.
var (
	ErrRevoked   = errors.New("the session was revoked")
	ErrUsedUp    = errors.New("the session has used all the calls it was allowed")
	ErrAbandoned = errors.New("the session's heartbeat stopped and it was revoked")
	ErrExpired   = errors.New("the session has expired")
	ErrNotFound  = errors.New("no such session")
)

// State of a session as ListSessions reports it.
const (
	StateActive    = "active"
	StateRevoked   = "revoked"
	StateExpired   = "expired"
	StateUsedUp    = "used-up"
	StateAbandoned = "abandoned"
)

// Record is what the broker keeps of a session. It holds no secret.
type Record struct {
	AccessKeyID    string    `json:"akid"`
	SessionID      string    `json:"sid"`
	Type           string    `json:"type"`
	PrincipalARN   string    `json:"principal"`
	SourceARN      string    `json:"source,omitempty"`
	RoleARN        string    `json:"role,omitempty"`
	SourceIdentity string    `json:"sourceIdentity,omitempty"`
	IssuedAt       time.Time `json:"issued"`
	Expires        time.Time `json:"expires"`
	MaxUses        int       `json:"maxUses,omitempty"`
	Uses           int       `json:"uses,omitempty"`
	Revoked        bool      `json:"revoked,omitempty"`
	RevokedAt      time.Time `json:"revokedAt,omitzero"`
	RevokedBy      string    `json:"revokedBy,omitempty"`
	LastHeartbeat  time.Time `json:"heartbeat,omitzero"`
	Deadline       time.Time `json:"deadline,omitzero"`
	// Chain lists the sessions this one descends from, root first
	// (sessiontoken.Claims.Chain).
	Chain []string `json:"chain,omitempty"`
	// Parent is set once a session has minted another: its memory is then
	// kept on every replica, since its descendants' admission reads it.
	Parent bool `json:"parent,omitempty"`
	// Narrowed is set once the session narrowed itself (Narrow).
	Narrowed bool `json:"narrowed,omitempty"`
}

// State is the session's state at now.
func (r *Record) State(now time.Time, before map[string]time.Time) string {
	// A revocation of the principal's sessions (revoke-before) labels only
	// those that were still live: one already used up, expired or
	// abandoned keeps saying so.
	if err := refusalOf(r, now); err != nil {
		return stateOf[err]
	}
	if r.revokedBefore(before) {
		return StateRevoked
	}
	return StateActive
}

// stateOf names the state of each reason a record refuses its session.
var stateOf = map[error]string{
	ErrRevoked:   StateRevoked,
	ErrExpired:   StateExpired,
	ErrUsedUp:    StateUsedUp,
	ErrAbandoned: StateAbandoned,
}

func (r *Record) revokedBefore(before map[string]time.Time) bool {
	return revokedBefore(before, r.IssuedAt, r.PrincipalARN, r.SourceARN, r.RoleARN)
}

// revokedBefore reports whether a session issued at issued, acting for
// the given principals, falls under a revoke-before time.
func revokedBefore(before map[string]time.Time, issued time.Time, principals ...string) bool {
	if len(before) == 0 {
		return false
	}
	for _, p := range principals {
		if p == "" {
			continue
		}
		if t, ok := before[p]; ok && issued.Before(t) {
			return true
		}
	}
	return false
}

// memo is the in-memory view of one session: enough to admit a request
// without reading the store.
type memo struct {
	revoked   bool
	abandoned bool // the store confirmed that the deadline passed: final
	deadline  time.Time
	maxUses   int
	expires   time.Time
	// What the revoke-before check of a descendant needs of an ancestor.
	issued                    time.Time
	principal, source, roleTo string
}

func memoOf(r *Record) *memo {
	return &memo{
		revoked: r.Revoked, deadline: r.Deadline, maxUses: r.MaxUses, expires: r.Expires,
		issued: r.IssuedAt, principal: r.PrincipalARN, source: r.SourceARN, roleTo: r.RoleARN,
	}
}

// hasState reports whether a session needs a memo at all: most sessions
// have no use limit, no dead-man switch, no descendants, and are never
// revoked or narrowed before they expire.
func (r *Record) hasState() bool {
	return r.Revoked || !r.Deadline.IsZero() || r.MaxUses > 0 || r.Parent || r.Narrowed
}

// Topics of the records the registry publishes (see Publisher).
const (
	// TopicSession: the state of one session changed (revoked, dead-man
	// switch armed); the subject is its access key id.
	TopicSession = "sessions/session"
	// TopicRevokeBefore: the sessions of a principal issued before a time
	// were revoked; the subject is the principal ARN.
	TopicRevokeBefore = "sessions/revoke-before"
)

// Publisher tells the other replicas over the same store that shared
// state changed, so that they update what they keep in memory (package
// feed). Publish is called inside the store transaction that makes the
// change, and must write only through that Tx.
type Publisher interface {
	Publish(tx store.Tx, topic, subject string) error
}

// Options tunes New.
type Options struct {
	// Publisher, if set, is told of every change that other replicas must
	// enforce: revocations and newly armed dead-man switches. Each replica
	// applies what others publish with Service.Apply. Nil for a single
	// broker.
	Publisher Publisher
	// Current, if set, tells as of when this replica has applied every
	// change the others published (feed.Feed.Current). When that is
	// older than MaxStaleness, Admit does not trust memory: it checks the
	// session and its chain in the store, within StoreTimeout, and refuses
	// with ErrUnconfirmed if it cannot. Nil for a single broker.
	Current      func() time.Time
	MaxStaleness time.Duration // default 1 s
	StoreTimeout time.Duration // default 3 s
}

// ErrUnconfirmed: this replica's view of revocations is stale and the store
// could not be asked in time, so it cannot tell whether the session is
// still live. The request may be retried (here, or on another replica).
var ErrUnconfirmed = errors.New("this replica cannot confirm that the session is still live (its view of revocations is stale and the store did not answer in time)")

// Service is the session registry.
type Service struct {
	st  store.Store
	pub Publisher

	current      func() time.Time
	maxStaleness time.Duration
	storeTimeout time.Duration

	mu       sync.RWMutex
	sessions map[string]*memo     // akid → memo, for sessions that have state
	before   map[string]time.Time // principal ARN → revoke sessions issued before
}

// New loads the registry's state from st. At most one Options may be given.
func New(ctx context.Context, st store.Store, opts ...Options) (*Service, error) {
	if len(opts) > 1 {
		return nil, errors.New("sessions: at most one Options")
	}
	s := &Service{st: st, maxStaleness: time.Second, storeTimeout: 3 * time.Second}
	if len(opts) == 1 {
		o := opts[0]
		s.pub, s.current = o.Publisher, o.Current
		if o.MaxStaleness > 0 {
			s.maxStaleness = o.MaxStaleness
		}
		if o.StoreTimeout > 0 {
			s.storeTimeout = o.StoreTimeout
		}
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// publish records a change for the other replicas, inside tx.
func (s *Service) publish(tx store.Tx, topic, subject string) error {
	if s.pub == nil {
		return nil
	}
	return s.pub.Publish(tx, topic, subject)
}

// Reload re-reads the state from the store: at start, and when another
// replica's changes can no longer be applied one by one (Apply).
func (s *Service) Reload(ctx context.Context) error {
	// A scan of every session: longer than a request's store deadline.
	ctx, cancel := store.DefaultDeadline(ctx, scanDeadline)
	defer cancel()
	sessions := map[string]*memo{}
	before := map[string]time.Time{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		if err := tx.Scan(bucketSessions, "", "", func(k string, v []byte) (bool, error) {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, fmt.Errorf("session record %s: %w", k, err)
			}
			if r.hasState() {
				sessions[k] = memoOf(&r)
			}
			return true, nil
		}); err != nil {
			return err
		}
		return tx.Scan(bucketBefore, "", "", func(k string, v []byte) (bool, error) {
			var t time.Time
			if err := t.UnmarshalText(v); err != nil {
				return false, fmt.Errorf("revocation record %s: %w", k, err)
			}
			before[k] = t
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.sessions, s.before = sessions, before
	s.mu.Unlock()
	return nil
}

// Apply brings the memory up to date with a change that a replica (this
// one or another) published: it re-reads what subject names from the
// store. It is idempotent, and a revocation once applied stays applied.
// Records of other topics are ignored.
func (s *Service) Apply(ctx context.Context, topic, subject string) error {
	switch topic {
	case TopicSession:
		var r *Record
		err := s.st.View(ctx, func(tx store.Tx) error {
			var err error
			r, err = getRecord(tx, subject)
			return err
		})
		if errors.Is(err, ErrNotFound) {
			// Purged: long expired, nothing to enforce.
			s.mu.Lock()
			delete(s.sessions, subject)
			s.mu.Unlock()
			return nil
		}
		if err != nil {
			return err
		}
		s.setMemo(r)
	case TopicRevokeBefore:
		var t time.Time
		found := false
		err := s.st.View(ctx, func(tx store.Tx) error {
			var err error
			t, found, err = getBefore(tx, subject)
			return err
		})
		if err != nil {
			return fmt.Errorf("revocation record: %w", err)
		}
		if found {
			s.raiseBefore(subject, t)
		}
	}
	return nil
}

// setMemo stores what r says of a session. A revocation or a confirmed
// abandonment already in memory is kept: neither is ever undone, and a
// reader of an older snapshot must not undo it here.
func (s *Service) setMemo(r *Record) {
	if !r.hasState() {
		return
	}
	s.keepMemo(r)
}

// keepMemo is setMemo for a session whose memory is needed whatever its
// state: an ancestor read for a descendant's admission.
func (s *Service) keepMemo(r *Record) {
	m := memoOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.sessions[r.AccessKeyID]; old != nil {
		// Nothing a session loses is given back by an older snapshot.
		m.revoked = m.revoked || old.revoked
		m.abandoned = old.abandoned
		if old.expires.Before(m.expires) {
			m.expires = old.expires
		}
		if old.maxUses > 0 && (m.maxUses == 0 || old.maxUses < m.maxUses) {
			m.maxUses = old.maxUses
		}
	}
	s.sessions[r.AccessKeyID] = m
}

// raiseBefore moves the revoke-before time of principal forward to t; it
// never moves it back.
func (s *Service) raiseBefore(principal string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.before[principal]; !ok || old.Before(t) {
		s.before[principal] = t
	}
}

// Register records a newly minted session. It must be durable before the
// credentials are handed out, so that a revocation by principal or a use
// limit applies to it.
//
// A chained session (one with a Chain) is registered only while its
// parent's record says the parent is not revoked, and the parent is marked
// as a parent in the same transaction: every replica then keeps the
// parent's state in memory, where its descendants' admission reads it.
func (s *Service) Register(ctx context.Context, c *sessiontoken.Claims) error {
	r := Record{
		AccessKeyID:    c.AccessKeyID,
		SessionID:      c.SessionID,
		Type:           c.Type,
		PrincipalARN:   c.PrincipalARN,
		SourceARN:      c.SourceARN,
		RoleARN:        c.RoleARN,
		SourceIdentity: c.SourceIdentity,
		IssuedAt:       c.IssuedAt,
		Expires:        c.Expires,
		MaxUses:        c.MaxUses,
		Chain:          c.Chain,
	}
	v, err := json.Marshal(&r)
	if err != nil {
		return err
	}
	var parent *Record
	if err := s.st.Update(ctx, func(tx store.Tx) error {
		parent = nil
		if n := len(c.Chain); n > 0 {
			p, err := getRecord(tx, c.Chain[n-1])
			if err != nil {
				return fmt.Errorf("parent session: %w", err)
			}
			if p.Revoked {
				return ErrRevoked
			}
			if !p.Parent {
				p.Parent = true
				if err := putRecord(tx, p); err != nil {
					return err
				}
				if err := s.publish(tx, TopicSession, p.AccessKeyID); err != nil {
					return err
				}
			}
			parent = p
		}
		return tx.Insert(bucketSessions, c.AccessKeyID, v)
	}); err != nil {
		if IsRefusal(err) {
			return err
		}
		return fmt.Errorf("register session: %w", err)
	}
	if parent != nil {
		s.setMemo(parent)
	}
	s.setMemo(&r)
	return nil
}

// Use says how a call of a session is admitted.
type Use struct {
	// Count: the call counts against the use limits of the session and of
	// its ancestors. Session control (heartbeats, revoking, narrowing)
	// does not.
	Count bool
	// UsedUpOK: the call is allowed to a session whose use limit is
	// exhausted (revoking itself).
	UsedUpOK bool
}

// limited is one session of a chain that has a use limit.
type limited struct {
	akid string
	max  int
}

// verdict is what memory says of a chain.
type verdict struct {
	err     error      // a final refusal
	missing string     // an ancestor memory knows nothing of
	confirm []string   // sessions whose dead-man deadline memory says passed
	limited []limited  // sessions whose use limits apply
	buf     [2]limited // backing for limited in the common case
}

// Admit decides whether a request signed with the session's credentials
// may proceed, and counts it against the use limits of the session and its
// ancestors. A session is admitted only if it and every session of its
// chain are live: not revoked (one by one, or by a revoke-before time of
// any principal they act for), not abandoned, not past an expiry they
// narrowed themselves to, and not used up.
//
// It answers from memory, which other replicas' changes reach through
// Apply, except for what memory cannot settle alone: uses are counted in
// the store; a dead-man deadline that memory says has passed is checked
// against the store first, since a heartbeat sent to another replica moves
// it without telling this one; and an ancestor that memory does not know
// yet (its replica's change not applied here yet) is read from the store.
func (s *Service) Admit(ctx context.Context, c *sessiontoken.Claims, now time.Time, u Use) error {
	var v verdict
	s.judge(c, now, &v)
	if v.err != nil {
		return v.err
	}
	_, stale := s.Stale(time.Now())
	if v.missing == "" && !stale && len(v.confirm) == 0 && len(v.limited) == 0 {
		return nil // memory settles it: no store access
	}
	// Every store access of an admission has a deadline: a hung store
	// refuses (ErrUnconfirmed), it never holds the request.
	tctx, cancel := context.WithTimeout(ctx, s.storeTimeout)
	defer cancel()
	err := s.admitFromStore(tctx, c, now, u, &v, stale)
	if err != nil && tctx.Err() != nil && ctx.Err() == nil && !errors.Is(err, ErrUnconfirmed) {
		return fmt.Errorf("%w: %v", ErrUnconfirmed, err)
	}
	return err
}

// admitFromStore is the part of Admit that memory cannot settle alone.
func (s *Service) admitFromStore(ctx context.Context, c *sessiontoken.Claims, now time.Time, u Use, v *verdict, stale bool) error {
	for range c.Chain {
		if v.missing == "" {
			break
		}
		r, err := s.Get(ctx, v.missing)
		if err != nil {
			return err
		}
		s.keepMemo(r)
		*v = verdict{}
		s.judge(c, now, v)
	}
	if v.missing != "" {
		return ErrNotFound
	}
	if v.err != nil {
		return v.err
	}
	if stale {
		if err := s.confirmFresh(ctx, c, now); err != nil {
			return err
		}
	}
	for _, akid := range v.confirm {
		if err := s.confirmAbandoned(ctx, akid, now); err != nil {
			return err
		}
	}
	if len(v.limited) == 0 {
		return nil
	}
	if !u.Count {
		if u.UsedUpOK {
			return nil
		}
		return s.st.View(ctx, func(tx store.Tx) error { return useUp(tx, v.limited, false) })
	}
	// Count the use durably, against every limited session of the chain at
	// once: a use limit must hold across restarts and replicas, and a
	// child's calls spend its ancestors' budgets.
	return s.st.Update(ctx, func(tx store.Tx) error { return useUp(tx, v.limited, true) })
}

// useUp refuses with ErrUsedUp if any of the limited sessions has no use
// left, and otherwise, if spend, spends one use of each.
func useUp(tx store.Tx, ls []limited, spend bool) error {
	recs := make([]*Record, 0, len(ls))
	for _, l := range ls {
		r, err := getRecord(tx, l.akid)
		if err != nil {
			return err
		}
		if r.Uses >= limitOf(r, l.max) {
			return ErrUsedUp
		}
		recs = append(recs, r)
	}
	if !spend {
		return nil
	}
	for _, r := range recs {
		r.Uses++
		if err := putRecord(tx, r); err != nil {
			return err
		}
	}
	return nil
}

// Stale reports how old this replica's view of the others' changes is,
// and whether that is past the bound (always fresh for a single broker).
func (s *Service) Stale(now time.Time) (age time.Duration, stale bool) {
	if s.current == nil {
		return 0, false
	}
	cur := s.current()
	if cur.IsZero() {
		return 0, true
	}
	age = now.Sub(cur)
	return age, age > s.maxStaleness
}

// scanDeadline bounds a scan of every session (at start, and when
// purging): longer than a request's store deadline.
const scanDeadline = 5 * time.Minute

// Ping checks, within the store timeout, that the store answers.
func (s *Service) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.storeTimeout)
	defer cancel()
	return s.st.View(ctx, func(store.Tx) error { return nil })
}

// confirmFresh checks the session and its chain in the store when memory
// is too stale to be trusted: what memory holds may miss a revocation
// another replica made. A store that does not answer refuses the session
// with ErrUnconfirmed: fail closed.
func (s *Service) confirmFresh(ctx context.Context, c *sessiontoken.Claims, now time.Time) error {
	var refusal error
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		refusal, err = s.lineageRefusal(tx, c.Lineage(), nil, now)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("%w: %v", ErrUnconfirmed, err)
	}
	return refusal
}

// lineageRefusal reads, in the store, the records of a session's lineage
// (its ancestors, then itself: last, which may be given as self) and
// returns why the first refused one is refused at now: its own record
// (revoked, expired, used up, abandoned), or a revoke-before time of its
// principal, source or role later than its issue. A revoke-before time
// found is raised in memory too.
func (s *Service) lineageRefusal(tx store.Tx, lineage []string, self *Record, now time.Time) (refusal, err error) {
	for i, akid := range lineage {
		r := self
		if r == nil || i < len(lineage)-1 {
			if r, err = getRecord(tx, akid); err != nil {
				return nil, err
			}
		}
		if refusal = refusalOf(r, now); refusal != nil {
			return refusal, nil
		}
		for _, p := range []string{r.PrincipalARN, r.SourceARN, r.RoleARN} {
			if p == "" {
				continue
			}
			t, found, err := getBefore(tx, p)
			if err != nil {
				return nil, err
			}
			if found && r.IssuedAt.Before(t) {
				s.raiseBefore(p, t)
				return ErrRevoked, nil
			}
		}
	}
	return nil, nil
}

// refusalOf is what a session's record says of it at now.
func refusalOf(r *Record, now time.Time) error {
	switch {
	case r.Revoked:
		return ErrRevoked
	case !now.Before(r.Expires):
		return ErrExpired
	case r.MaxUses > 0 && r.Uses >= r.MaxUses:
		return ErrUsedUp
	case !r.Deadline.IsZero() && now.After(r.Deadline):
		return ErrAbandoned
	}
	return nil
}

// limitOf is a session's use limit: its record's (which narrowing may have
// lowered), or the token's for a record written without one.
func limitOf(r *Record, claimed int) int {
	if r.MaxUses > 0 {
		return r.MaxUses
	}
	return claimed
}

// judge reads what memory says of the session and its chain into v.
func (s *Service) judge(c *sessiontoken.Claims, now time.Time, v *verdict) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v.limited = v.buf[:0]
	if revokedBefore(s.before, c.IssuedAt, c.PrincipalARN, c.SourceARN, c.RoleARN) {
		v.err = ErrRevoked
		return
	}
	if c.MaxUses > 0 {
		v.limited = append(v.limited, limited{akid: c.AccessKeyID, max: c.MaxUses})
	}
	if m := s.sessions[c.AccessKeyID]; m != nil {
		if v.err = s.judgeMemo(c.AccessKeyID, m, now, v); v.err != nil {
			return
		}
		if m.maxUses > 0 && c.MaxUses == 0 {
			v.limited = append(v.limited, limited{akid: c.AccessKeyID})
		}
	}
	for _, akid := range c.Chain {
		m := s.sessions[akid]
		if m == nil {
			v.missing = akid
			return
		}
		if revokedBefore(s.before, m.issued, m.principal, m.source, m.roleTo) {
			v.err = ErrRevoked
			return
		}
		if v.err = s.judgeMemo(akid, m, now, v); v.err != nil {
			return
		}
		if m.maxUses > 0 {
			v.limited = append(v.limited, limited{akid: akid})
		}
	}
}

// judgeMemo checks one session's memory; a passed deadline is noted for
// confirmation.
func (s *Service) judgeMemo(akid string, m *memo, now time.Time, v *verdict) error {
	switch {
	case m.revoked:
		return ErrRevoked
	case m.abandoned:
		return ErrAbandoned
	case !now.Before(m.expires):
		return ErrExpired
	case !m.deadline.IsZero() && now.After(m.deadline):
		v.confirm = append(v.confirm, akid)
	}
	return nil
}

// confirmAbandoned reads the session's record when memory says its
// dead-man deadline passed. It returns ErrAbandoned (and remembers it for
// good) if the store agrees, ErrRevoked if the session was revoked, and nil
// if a heartbeat moved the deadline on.
func (s *Service) confirmAbandoned(ctx context.Context, akid string, now time.Time) error {
	r, err := s.Get(ctx, akid)
	if err != nil {
		return err
	}
	s.setMemo(r)
	if r.Revoked {
		return ErrRevoked
	}
	if now.After(r.Deadline) {
		s.mu.Lock()
		if m := s.sessions[akid]; m != nil {
			m.abandoned = true
		}
		s.mu.Unlock()
		return ErrAbandoned
	}
	return nil
}

// getBefore reads the revoke-before time of principal, if it has one.
func getBefore(tx store.Tx, principal string) (time.Time, bool, error) {
	var t time.Time
	v, err := tx.Get(bucketBefore, principal)
	if errors.Is(err, store.ErrNotFound) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	return t, true, t.UnmarshalText(v)
}

func getRecord(tx store.Tx, akid string) (*Record, error) {
	v, err := tx.Get(bucketSessions, akid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("session record: %w", err)
	}
	return &r, nil
}

func putRecord(tx store.Tx, r *Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Put(bucketSessions, r.AccessKeyID, v)
}

// Get returns the record of one session.
func (s *Service) Get(ctx context.Context, akid string) (*Record, error) {
	var r *Record
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		r, err = getRecord(tx, akid)
		return err
	})
	return r, err
}

// recordChange says what changeRecord does with a record its change saw.
type recordChange int

const (
	recordKept      recordChange = iota // unchanged: nothing to write
	recordWritten                       // changed: write it
	recordPublished                     // changed, and other replicas must learn of it
)

// changeRecord reads the record of akid in one Update, lets change edit
// it, writes and publishes it as change answers, and then remembers it.
// It returns the record as it stands.
func (s *Service) changeRecord(ctx context.Context, akid string, change func(r *Record) (recordChange, error)) (*Record, error) {
	var rec *Record
	err := s.st.Update(ctx, func(tx store.Tx) error {
		r, err := getRecord(tx, akid)
		if err != nil {
			return err
		}
		what, err := change(r)
		if err != nil {
			return err
		}
		rec = r
		if what == recordKept {
			return nil
		}
		if err := putRecord(tx, r); err != nil {
			return err
		}
		if what == recordPublished {
			return s.publish(tx, TopicSession, akid)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.setMemo(rec)
	return rec, nil
}

// Revoke revokes one session. Revoking a revoked session is not an error.
func (s *Service) Revoke(ctx context.Context, akid, by string, now time.Time) error {
	_, err := s.changeRecord(ctx, akid, func(r *Record) (recordChange, error) {
		if r.Revoked {
			return recordKept, nil
		}
		r.Revoked, r.RevokedAt, r.RevokedBy = true, now.UTC(), by
		return recordPublished, nil
	})
	return err
}

// RevokeBefore revokes every session of principal (its user or role ARN,
// or the ARN of whoever minted it) issued before t. It returns how many
// recorded sessions that made inactive.
func (s *Service) RevokeBefore(ctx context.Context, principal string, t, now time.Time) (int, error) {
	t = t.UTC().Truncate(time.Second)
	var n int
	err := s.st.Update(ctx, func(tx store.Tx) error {
		n = 0
		if v, err := tx.Get(bucketBefore, principal); err == nil {
			var old time.Time
			if old.UnmarshalText(v) == nil && old.After(t) {
				t = old // never move a revocation back in time
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		text, _ := t.MarshalText()
		if err := tx.Put(bucketBefore, principal, text); err != nil {
			return err
		}
		if err := s.publish(tx, TopicRevokeBefore, principal); err != nil {
			return err
		}
		return tx.Scan(bucketSessions, "", "", func(_ string, v []byte) (bool, error) {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, err
			}
			if r.State(now, nil) == StateActive && r.revokedBefore(map[string]time.Time{principal: t}) {
				n++
			}
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	s.raiseBefore(principal, t)
	return n, nil
}

// Heartbeat records a heartbeat from the session and arms (or re-arms) its
// dead-man switch: without another heartbeat within grace, the session is
// refused. It returns the record, with the new deadline.
//
// Other replicas learn of the switch when it is first armed; later
// heartbeats only move the deadline in the store, where Admit looks when
// memory says the deadline has passed.
func (s *Service) Heartbeat(ctx context.Context, akid string, grace time.Duration, now time.Time) (*Record, error) {
	deadline := now.Add(grace).UTC()
	return s.changeRecord(ctx, akid, func(r *Record) (recordChange, error) {
		if r.Revoked {
			return recordKept, ErrRevoked
		}
		if !r.Deadline.IsZero() && now.After(r.Deadline) {
			return recordKept, ErrAbandoned
		}
		arming := r.Deadline.IsZero()
		r.LastHeartbeat, r.Deadline = now.UTC(), deadline
		if arming {
			return recordPublished, nil
		}
		return recordWritten, nil
	})
}

// Narrowing is what a session may do to itself: each field, when set,
// only ever takes something away.
type Narrowing struct {
	MaxUses int           // a use limit below the current one (or a first one)
	Expires time.Time     // an expiry before the current one
	Grace   time.Duration // arm a dead-man switch, or bring its deadline closer
}

// Narrow applies n to a live session and returns its record. A field that
// would widen the session (more uses, a later expiry, a later deadline)
// is left as it was; the record says what holds.
func (s *Service) Narrow(ctx context.Context, akid string, n Narrowing, now time.Time) (*Record, error) {
	before := s.Before()
	return s.changeRecord(ctx, akid, func(r *Record) (recordChange, error) {
		switch r.State(now, before) {
		case StateRevoked:
			return recordKept, ErrRevoked
		case StateUsedUp:
			return recordKept, ErrUsedUp
		case StateAbandoned:
			return recordKept, ErrAbandoned
		case StateExpired:
			return recordKept, ErrExpired
		}
		if n.MaxUses > 0 && (r.MaxUses == 0 || n.MaxUses < r.MaxUses) {
			r.MaxUses = n.MaxUses
		}
		if !n.Expires.IsZero() && n.Expires.Before(r.Expires) {
			r.Expires = n.Expires.UTC().Truncate(time.Second)
		}
		if n.Grace > 0 {
			if d := now.Add(n.Grace).UTC(); r.Deadline.IsZero() || d.Before(r.Deadline) {
				r.Deadline = d
				if r.LastHeartbeat.IsZero() {
					r.LastHeartbeat = now.UTC()
				}
			}
		}
		r.Narrowed = true
		return recordPublished, nil
	})
}

// Filter selects sessions for List.
type Filter struct {
	Principal       string // matches the principal, role or source ARN; "" for all
	IncludeInactive bool
	After           string // pagination cursor: the last access key id returned
	Limit           int
}

// List returns sessions in access-key-id order, and the cursor for the
// next page ("" when there is none).
func (s *Service) List(ctx context.Context, f Filter, now time.Time) ([]Record, string, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	s.mu.RLock()
	before := make(map[string]time.Time, len(s.before))
	for k, v := range s.before {
		before[k] = v
	}
	s.mu.RUnlock()
	var out []Record
	next := ""
	err := s.st.View(ctx, func(tx store.Tx) error {
		return tx.Scan(bucketSessions, "", f.After, func(k string, v []byte) (bool, error) {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, err
			}
			if f.Principal != "" && r.PrincipalARN != f.Principal && r.SourceARN != f.Principal && r.RoleARN != f.Principal {
				return true, nil
			}
			if !f.IncludeInactive && r.State(now, before) != StateActive {
				return true, nil
			}
			if len(out) == f.Limit {
				next = out[len(out)-1].AccessKeyID
				return false, nil
			}
			out = append(out, r)
			return true, nil
		})
	})
	return out, next, err
}

// Before returns the revoke-before times, for state reporting.
func (s *Service) Before() map[string]time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := make(map[string]time.Time, len(s.before))
	for k, v := range s.before {
		m[k] = v
	}
	return m
}

// Purge deletes the records of sessions that expired more than keep ago;
// their tokens can no longer be used, so nothing needs to be remembered.
func (s *Service) Purge(ctx context.Context, now time.Time, keep time.Duration) (int, error) {
	ctx, cancel := store.DefaultDeadline(ctx, scanDeadline)
	defer cancel()
	var dead []string
	err := s.st.View(ctx, func(tx store.Tx) error {
		return tx.Scan(bucketSessions, "", "", func(k string, v []byte) (bool, error) {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, err
			}
			if now.Sub(r.Expires) > keep {
				dead = append(dead, k)
			}
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	// Another replica may have deleted the records already: forget what
	// memory holds of sessions expired as long.
	s.mu.Lock()
	for k, m := range s.sessions {
		if now.Sub(m.expires) > keep {
			delete(s.sessions, k)
		}
	}
	s.mu.Unlock()
	if len(dead) == 0 {
		return 0, nil
	}
	sort.Strings(dead)
	for i := 0; i < len(dead); i += 500 {
		chunk := dead[i:min(i+500, len(dead))]
		if err := s.st.Update(ctx, func(tx store.Tx) error {
			for _, k := range chunk {
				if err := tx.Delete(bucketSessions, k); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			return nil
		}); err != nil {
			return i, err
		}
	}
	s.mu.Lock()
	for _, k := range dead {
		delete(s.sessions, k)
	}
	s.mu.Unlock()
	return len(dead), nil
}

// IsRefusal reports whether err is one of the reasons a valid session is
// refused.
func IsRefusal(err error) bool {
	return errors.Is(err, ErrRevoked) || errors.Is(err, ErrUsedUp) || errors.Is(err, ErrAbandoned) || errors.Is(err, ErrExpired)
}

// ParseMaxUses reads the shortfuse:max-uses session tag value.
func ParseMaxUses(v string) (int, error) {
	v = strings.TrimSpace(v)
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || fmt.Sprint(n) != v || n < 1 || n > 1000000 {
		return 0, fmt.Errorf("shortfuse:max-uses must be a whole number from 1 to 1000000")
	}
	return n, nil
}

// Live reports, from the store, whether the session akid and every session
// it descends from are live at now: not revoked (one by one or by a
// revoke-before time), expired (or narrowed to an earlier expiry), used up
// or abandoned. What depends on a session's life outside the request path
// (its database credentials) asks this; it reads the store, so that it
// sees what any replica changed.
func (s *Service) Live(ctx context.Context, akid string, now time.Time) (bool, error) {
	live := true
	err := s.st.View(ctx, func(tx store.Tx) error {
		r, err := getRecord(tx, akid)
		if err != nil {
			return err
		}
		refusal, err := s.lineageRefusal(tx, append(append([]string{}, r.Chain...), akid), r, now)
		live = refusal == nil
		return err
	})
	if errors.Is(err, ErrNotFound) {
		// A session the store does not know (purged, long expired) is
		// not live.
		return false, nil
	}
	return live, err
}
