package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/internal/session"
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
}

// State is the session's state at now.
func (r *Record) State(now time.Time, before map[string]time.Time) string {
	switch {
	case r.Revoked || r.revokedBefore(before):
		return StateRevoked
	case !now.Before(r.Expires):
		return StateExpired
	case r.MaxUses > 0 && r.Uses >= r.MaxUses:
		return StateUsedUp
	case !r.Deadline.IsZero() && now.After(r.Deadline):
		return StateAbandoned
	}
	return StateActive
}

func (r *Record) revokedBefore(before map[string]time.Time) bool {
	for _, p := range []string{r.PrincipalARN, r.SourceARN, r.RoleARN} {
		if p == "" {
			continue
		}
		if t, ok := before[p]; ok && r.IssuedAt.Before(t) {
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
}

func memoOf(r *Record) *memo {
	return &memo{revoked: r.Revoked, deadline: r.Deadline, maxUses: r.MaxUses, expires: r.Expires}
}

// hasState reports whether a session needs a memo at all: most sessions
// have no use limit, no dead-man switch and are never revoked before they
// expire.
func (r *Record) hasState() bool {
	return r.Revoked || !r.Deadline.IsZero() || r.MaxUses > 0
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
}

// Service is the session registry.
type Service struct {
	st  store.Store
	pub Publisher

	mu       sync.RWMutex
	sessions map[string]*memo     // akid → memo, for sessions that have state
	before   map[string]time.Time // principal ARN → revoke sessions issued before
}

// New loads the registry's state from st. At most one Options may be given.
func New(ctx context.Context, st store.Store, opts ...Options) (*Service, error) {
	if len(opts) > 1 {
		return nil, errors.New("sessions: at most one Options")
	}
	s := &Service{st: st}
	if len(opts) == 1 {
		s.pub = opts[0].Publisher
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
			v, err := tx.Get(bucketBefore, subject)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			found = true
			return t.UnmarshalText(v)
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
	m := memoOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.sessions[r.AccessKeyID]; old != nil {
		m.revoked = m.revoked || old.revoked
		m.abandoned = old.abandoned
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
func (s *Service) Register(ctx context.Context, c *session.Claims) error {
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
	}
	v, err := json.Marshal(&r)
	if err != nil {
		return err
	}
	if err := s.st.Update(ctx, func(tx store.Tx) error {
		return tx.Insert(bucketSessions, c.AccessKeyID, v)
	}); err != nil {
		return fmt.Errorf("register session: %w", err)
	}
	s.setMemo(&r)
	return nil
}

// Admit decides whether a request signed with the session's credentials
// may proceed, and counts it against the session's use limit. count is
// false for calls that do not count (session control itself).
//
// It answers from memory, which other replicas' changes reach through
// Apply, except for what memory cannot settle alone: a use is counted in
// the store, and a dead-man deadline that memory says has passed is
// checked against the store first, since a heartbeat sent to another
// replica moves it without telling this one.
func (s *Service) Admit(ctx context.Context, c *session.Claims, now time.Time, count bool) error {
	s.mu.RLock()
	m := s.sessions[c.AccessKeyID]
	var revokedBefore bool
	for _, p := range []string{c.PrincipalARN, c.SourceARN, c.RoleARN} {
		if t, ok := s.before[p]; ok && p != "" && c.IssuedAt.Before(t) {
			revokedBefore = true
		}
	}
	var (
		revoked, abandoned bool
		deadline           time.Time
		maxUses            int
	)
	if m != nil {
		revoked, abandoned, deadline, maxUses = m.revoked, m.abandoned, m.deadline, m.maxUses
	}
	s.mu.RUnlock()
	switch {
	case revoked || revokedBefore:
		return ErrRevoked
	case abandoned:
		return ErrAbandoned
	case !deadline.IsZero() && now.After(deadline):
		if err := s.confirmAbandoned(ctx, c.AccessKeyID, now); err != nil {
			return err
		}
	}
	if maxUses == 0 && c.MaxUses == 0 {
		return nil
	}
	if !count {
		return nil
	}
	// Count the use durably: a use limit must hold across restarts and
	// replicas, so the counter lives in the store.
	return s.st.Update(ctx, func(tx store.Tx) error {
		r, err := getRecord(tx, c.AccessKeyID)
		if err != nil {
			return err
		}
		limit := max(r.MaxUses, c.MaxUses)
		if r.Uses >= limit {
			return ErrUsedUp
		}
		r.Uses++
		return putRecord(tx, r)
	})
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

// Revoke revokes one session. Revoking a revoked session is not an error.
func (s *Service) Revoke(ctx context.Context, akid, by string, now time.Time) error {
	var rec *Record
	err := s.st.Update(ctx, func(tx store.Tx) error {
		r, err := getRecord(tx, akid)
		if err != nil {
			return err
		}
		if r.Revoked {
			rec = r
			return nil
		}
		r.Revoked, r.RevokedAt, r.RevokedBy = true, now.UTC(), by
		if err := putRecord(tx, r); err != nil {
			return err
		}
		rec = r
		return s.publish(tx, TopicSession, akid)
	})
	if err != nil {
		return err
	}
	s.setMemo(rec)
	return nil
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
// refused. It returns the new deadline.
//
// Other replicas learn of the switch when it is first armed; later
// heartbeats only move the deadline in the store, where Admit looks when
// memory says the deadline has passed.
func (s *Service) Heartbeat(ctx context.Context, akid string, grace time.Duration, now time.Time) (time.Time, error) {
	deadline := now.Add(grace).UTC()
	var rec *Record
	err := s.st.Update(ctx, func(tx store.Tx) error {
		r, err := getRecord(tx, akid)
		if err != nil {
			return err
		}
		if r.Revoked {
			return ErrRevoked
		}
		if !r.Deadline.IsZero() && now.After(r.Deadline) {
			return ErrAbandoned
		}
		arming := r.Deadline.IsZero()
		r.LastHeartbeat, r.Deadline = now.UTC(), deadline
		if err := putRecord(tx, r); err != nil {
			return err
		}
		rec = r
		if arming {
			return s.publish(tx, TopicSession, akid)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	s.setMemo(rec)
	return deadline, nil
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
	return errors.Is(err, ErrRevoked) || errors.Is(err, ErrUsedUp) || errors.Is(err, ErrAbandoned)
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
