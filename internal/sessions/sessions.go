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
	revoked  bool
	deadline time.Time
	maxUses  int
}

// Service is the session registry.
type Service struct {
	st store.Store

	mu       sync.RWMutex
	sessions map[string]*memo     // akid → memo, for sessions that have state
	before   map[string]time.Time // principal ARN → revoke sessions issued before
}

// New loads the registry's state from st.
func New(ctx context.Context, st store.Store) (*Service, error) {
	s := &Service{st: st}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the state from the store: at start, and when another
// replica says the state changed.
func (s *Service) Reload(ctx context.Context) error {
	sessions := map[string]*memo{}
	before := map[string]time.Time{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		if err := tx.Scan(bucketSessions, "", "", func(k string, v []byte) (bool, error) {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, fmt.Errorf("session record %s: %w", k, err)
			}
			if r.Revoked || !r.Deadline.IsZero() || r.MaxUses > 0 {
				sessions[k] = &memo{revoked: r.Revoked, deadline: r.Deadline, maxUses: r.MaxUses}
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
	if r.MaxUses > 0 {
		s.mu.Lock()
		s.sessions[c.AccessKeyID] = &memo{maxUses: r.MaxUses}
		s.mu.Unlock()
	}
	return nil
}

// Admit decides whether a request signed with the session's credentials
// may proceed, and counts it against the session's use limit. count is
// false for calls that do not count (session control itself).
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
		revoked  bool
		deadline time.Time
		maxUses  int
	)
	if m != nil {
		revoked, deadline, maxUses = m.revoked, m.deadline, m.maxUses
	}
	s.mu.RUnlock()
	switch {
	case revoked || revokedBefore:
		return ErrRevoked
	case !deadline.IsZero() && now.After(deadline):
		return ErrAbandoned
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
	err := s.st.Update(ctx, func(tx store.Tx) error {
		r, err := getRecord(tx, akid)
		if err != nil {
			return err
		}
		if r.Revoked {
			return nil
		}
		r.Revoked, r.RevokedAt, r.RevokedBy = true, now.UTC(), by
		return putRecord(tx, r)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	if m := s.sessions[akid]; m != nil {
		m.revoked = true
	} else {
		s.sessions[akid] = &memo{revoked: true}
	}
	s.mu.Unlock()
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
	s.mu.Lock()
	if old, ok := s.before[principal]; !ok || old.Before(t) {
		s.before[principal] = t
	}
	s.mu.Unlock()
	return n, nil
}

// Heartbeat records a heartbeat from the session and arms (or re-arms) its
// dead-man switch: without another heartbeat within grace, the session is
// refused. It returns the new deadline.
func (s *Service) Heartbeat(ctx context.Context, akid string, grace time.Duration, now time.Time) (time.Time, error) {
	deadline := now.Add(grace).UTC()
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
		r.LastHeartbeat, r.Deadline = now.UTC(), deadline
		return putRecord(tx, r)
	})
	if err != nil {
		return time.Time{}, err
	}
	s.mu.Lock()
	if m := s.sessions[akid]; m != nil {
		m.deadline = deadline
	} else {
		s.sessions[akid] = &memo{deadline: deadline}
	}
	s.mu.Unlock()
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
	if err != nil || len(dead) == 0 {
		return 0, err
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
