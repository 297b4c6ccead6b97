package approvals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortfuse/shortfuse/internal/store"
)

// Store layout.
const (
	bucketRequests = "approvals"          // code → Request
	bucketSessions = "approvals.sessions" // minted access key id → code
)

// EventKind names a step of a request's life.
type EventKind string

// The events a Notifier hears of.
const (
	EventRequested EventKind = "requested" // a job asked
	EventApproval  EventKind = "approval"  // one approval of several
	EventApproved  EventKind = "approved"  // the last approval: the session is minted
	EventDenied    EventKind = "denied"
	EventRedeemed  EventKind = "redeemed"
	EventReplay    EventKind = "replay" // a second redemption was refused: an alarm
)

// Event is one step, for notifications. Request is a copy without the
// sealed credentials.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Actor   string // ARN of who acted
	Request Request
}

// Notifier hears of every step. Notify must not block: a webhook queues
// the event and sends it on its own time.
type Notifier interface {
	Notify(Event)
}

// Options configure a Service.
type Options struct {
	Now      func() time.Time
	Rand     io.Reader
	Notifier Notifier // may be nil
	Logger   *slog.Logger
}

// Service keeps approval requests in a store. It is safe for concurrent
// use, and several replicas may share one store: every write checks the
// version it read.
type Service struct {
	st     store.Store
	now    func() time.Time
	rand   io.Reader
	notify Notifier
	log    *slog.Logger

	events  *prometheus.CounterVec
	replays prometheus.Counter
	// replayCount mirrors replays for callers without a registry.
	replayCount atomic.Int64

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every write
}

// New returns a Service over st. Now and Rand must be set.
func New(st store.Store, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		st: st, now: o.Now, rand: o.Rand, notify: o.Notifier, log: o.Logger,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shortfuse_approval_events_total",
			Help: "Steps of approval requests: requested, approval, approved, denied, redeemed, replay.",
		}, []string{"event"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shortfuse_approval_replays_total",
			Help: "Refused second redemptions of an approved request. Each one is an alarm: someone replayed a redemption.",
		}),
		changed: make(chan struct{}),
	}
}

// Collectors are the service's metrics, for a Prometheus registry.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.events, s.replays}
}

// Replays returns the number of refused second redemptions since start.
func (s *Service) Replays() int64 { return s.replayCount.Load() }

func (s *Service) emit(kind EventKind, actor string, r *Request, now time.Time) {
	s.events.WithLabelValues(string(kind)).Inc()
	if s.notify == nil {
		return
	}
	c := *r
	if c.Session != nil {
		m := *c.Session
		m.Wrapped = nil
		c.Session = &m
	}
	c.VerifyKey, c.WrapKey = nil, nil
	c.Approvals = append([]Approval(nil), r.Approvals...)
	s.notify.Notify(Event{Kind: kind, Time: now, Actor: actor, Request: c})
}

// wake tells waiters that a request changed.
func (s *Service) wake() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *Service) changedCh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func getRequest(tx store.Tx, code string) (*Request, error) {
	v, err := tx.Get(bucketRequests, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeRequest(v)
}

// decodeRequest decodes a stored request record.
func decodeRequest(v []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("approvals: decode request record: %w", err)
	}
	return &r, nil
}

// eachRequest calls fn with every request record, in code order.
func eachRequest(tx store.Tx, fn func(r *Request)) error {
	return tx.Scan(bucketRequests, "", "", func(k string, v []byte) (bool, error) {
		r, err := decodeRequest(v)
		if err != nil {
			return false, err
		}
		fn(r)
		return true, nil
	})
}

// change has fn change the request code names, in one transaction, and
// stores it at its next version; it returns the request as stored, and
// wakes the waiters.
func (s *Service) change(ctx context.Context, code string, fn func(tx store.Tx, r *Request) error) (*Request, error) {
	var out *Request
	err := s.st.Update(ctx, func(tx store.Tx) error {
		r, err := getRequest(tx, code)
		if err != nil {
			return err
		}
		if err := fn(tx, r); err != nil {
			return err
		}
		r.Version++
		if err := putRequest(tx, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return out, nil
}

func putRequest(tx store.Tx, r *Request) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("approvals: encode request record: %w", err)
	}
	return tx.Put(bucketRequests, r.Code, v)
}

// CreateInput is a new request. The caller has checked who may ask.
type CreateInput struct {
	RoleARN    string
	Requester  string
	Identities []string
	SourceIP   string
	Reason     string
	Duration   time.Duration
	Build      Build
	Rules      Rules
	VerifyKey  []byte
	WrapKey    []byte
}

// Create stores a new pending request under a fresh code.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Request, error) {
	if err := in.Build.Validate(); err != nil {
		return nil, err
	}
	if err := CheckReason(in.Reason); err != nil {
		return nil, err
	}
	if err := in.Rules.Validate(); err != nil {
		return nil, err
	}
	if err := CheckPublicKeys(in.VerifyKey, in.WrapKey); err != nil {
		return nil, err
	}
	if in.Duration < MinDuration || in.Duration > in.Rules.MaxDuration {
		return nil, fmt.Errorf("the duration must be from %s to %s for this role", MinDuration, in.Rules.MaxDuration)
	}
	now := s.now().UTC().Truncate(time.Second)
	r := &Request{
		Version:    1,
		RoleARN:    in.RoleARN,
		Requester:  in.Requester,
		Identities: in.Identities,
		SourceIP:   in.SourceIP,
		Reason:     in.Reason,
		Duration:   in.Duration,
		Build:      in.Build,
		Rules:      in.Rules,
		CreatedAt:  now,
		ExpiresAt:  now.Add(in.Rules.Window),
		VerifyKey:  in.VerifyKey,
		WrapKey:    in.WrapKey,
	}
	// A code that collides with a stored one is drawn again.
	for attempt := 0; ; attempt++ {
		code, err := NewCode(s.rand)
		if err != nil {
			return nil, err
		}
		r.Code = code
		v, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		err = s.st.Update(ctx, func(tx store.Tx) error {
			pending := 0
			if err := tx.Scan(bucketRequests, "", "", func(_ string, v []byte) (bool, error) {
				o, err := decodeRequest(v)
				if err != nil {
					return false, err
				}
				if strings.EqualFold(o.Requester, r.Requester) && o.Status(now) == StatusPending {
					pending++
				}
				return pending < MaxPendingPerRequester, nil
			}); err != nil {
				return err
			}
			if pending >= MaxPendingPerRequester {
				return ErrTooMany
			}
			return tx.Insert(bucketRequests, code, v)
		})
		if errors.Is(err, store.ErrExists) && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("approvals: store request: %w", err)
		}
		break
	}
	s.wake()
	s.emit(EventRequested, r.Requester, r, now)
	return r, nil
}

// Get returns the request with that code, or ErrNotFound.
func (s *Service) Get(ctx context.Context, code string) (*Request, error) {
	var r *Request
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		r, err = getRequest(tx, code)
		return err
	})
	return r, err
}

// Wait returns the request once it is no longer pending, or after limit,
// whichever comes first. Changes made by this replica wake it at once;
// those of other replicas are seen within a second.
func (s *Service) Wait(ctx context.Context, code string, limit time.Duration) (*Request, error) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		ch := s.changedCh()
		r, err := s.Get(ctx, code)
		if err != nil || r.Status(s.now()) != StatusPending {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, nil
		case <-deadline.C:
			return r, nil
		case <-ch:
		case <-tick.C:
		}
	}
}

// Filter selects requests for List.
type Filter struct {
	// Status, if set, keeps requests in that state.
	Status Status
	// Visible, if set, keeps the requests it accepts.
	Visible func(*Request) bool
	Limit   int
}

// List returns requests, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]Request, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	now := s.now()
	var all []Request
	err := s.st.View(ctx, func(tx store.Tx) error {
		all = all[:0]
		return eachRequest(tx, func(r *Request) {
			if f.Status == "" || r.Status(now) == f.Status {
				all = append(all, *r)
			}
		})
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].CreatedAt.After(all[j].CreatedAt) })
	out := all[:0]
	for i := range all {
		if f.Visible != nil && !f.Visible(&all[i]) {
			continue
		}
		out = append(out, all[i])
		if len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// Approve records an approval of the request as it was read at version.
// With minted set (the final approval) the request becomes approved and
// holds the sealed session. It returns ErrConflict if the request changed
// since version was read; the caller then revokes what it minted.
func (s *Service) Approve(ctx context.Context, code string, version int, a Approval, rules Rules, minted *Minted) (*Request, error) {
	now := s.now()
	out, err := s.change(ctx, code, func(tx store.Tx, r *Request) error {
		if r.Version != version {
			return ErrConflict
		}
		final, err := r.Check(a, rules, now)
		if err != nil {
			return err
		}
		if final != (minted != nil) {
			return ErrConflict
		}
		r.Approvals = append(r.Approvals, a)
		if minted == nil {
			return nil
		}
		r.Session = minted
		v, err := json.Marshal(code)
		if err != nil {
			return err
		}
		return tx.Put(bucketSessions, minted.AccessKeyID, v)
	})
	if err != nil {
		return nil, err
	}
	kind := EventApproval
	if minted != nil {
		kind = EventApproved
	}
	s.emit(kind, a.ARN, out, now)
	return out, nil
}

// Deny ends a pending request. The requester may withdraw it the same way.
func (s *Service) Deny(ctx context.Context, code, by, reason string) (*Request, error) {
	if err := CheckReason(reason); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	out, err := s.change(ctx, code, func(_ store.Tx, r *Request) error {
		switch r.Status(now) {
		case StatusPending:
		case StatusExpired:
			return ErrExpired
		case StatusDenied:
			return ErrDenied
		default:
			return ErrNotPending
		}
		r.Denied, r.DeniedBy, r.DeniedAt, r.DenyReason = true, by, now, reason
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.emit(EventDenied, by, out, now)
	return out, nil
}

// Redeemed is what a redemption hands over.
type Redeemed struct {
	Wrapped []byte
	Expires time.Time
	Request *Request
}

// ReplayError is the refusal of a second redemption. It wraps ErrRedeemed
// and names the session minted for the request, which the caller revokes.
type ReplayError struct{ AccessKeyID string }

func (e *ReplayError) Error() string { return ErrRedeemed.Error() }

// Unwrap returns ErrRedeemed.
func (e *ReplayError) Unwrap() error { return ErrRedeemed }

// Redeem hands the sealed session to the requester, once. caller must be
// one of the requester's identities and proof must verify under the
// request's verify key. The ciphertext is deleted as it is handed over. A
// redemption of a redeemed request returns a *ReplayError, is counted as an
// alarm and is recorded on the request.
func (s *Service) Redeem(ctx context.Context, code, caller string, proof []byte) (*Redeemed, error) {
	now := s.now().UTC()
	var (
		out    *Redeemed
		replay *Request
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		out, replay = nil, nil
		r, err := getRequest(tx, code)
		if err != nil {
			return err
		}
		if !r.IsRequester(caller) {
			return ErrNotRequester
		}
		if !VerifyProof(r.VerifyKey, r.Code, proof) {
			return ErrBadProof
		}
		switch r.Status(now) {
		case StatusApproved:
		case StatusRedeemed:
			r.Version++
			r.Replays++
			replay = r
			return putRequest(tx, r)
		case StatusPending:
			return ErrNotApproved
		case StatusDenied:
			return ErrDenied
		default:
			return ErrExpired
		}
		out = &Redeemed{Wrapped: r.Session.Wrapped, Expires: r.Session.Expires}
		r.Version++
		r.RedeemedAt = now.Truncate(time.Second)
		r.Session = &Minted{AccessKeyID: r.Session.AccessKeyID, Expires: r.Session.Expires}
		out.Request = r
		return putRequest(tx, r)
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	if replay != nil {
		s.replays.Inc()
		s.replayCount.Add(1)
		s.log.Warn("approval request redeemed a second time: refused", "code", code, "caller", caller, "replays", replay.Replays)
		s.emit(EventReplay, caller, replay, now)
		akid := ""
		if replay.Session != nil {
			akid = replay.Session.AccessKeyID
		}
		return nil, &ReplayError{AccessKeyID: akid}
	}
	s.emit(EventRedeemed, caller, out.Request, now)
	return out, nil
}

// BySession returns the request whose approval minted the session with
// that access key id, or ErrNotFound.
func (s *Service) BySession(ctx context.Context, akid string) (*Request, error) {
	var r *Request
	err := s.st.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(bucketSessions, akid)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var code string
		if err := json.Unmarshal(v, &code); err != nil {
			return fmt.Errorf("approvals: decode session index: %w", err)
		}
		r, err = getRequest(tx, code)
		return err
	})
	return r, err
}

// Purge deletes requests that ended (denied, redeemed or expired) more
// than keep ago, and returns how many.
func (s *Service) Purge(ctx context.Context, keep time.Duration) (int, error) {
	now := s.now()
	var dead []*Request
	err := s.st.View(ctx, func(tx store.Tx) error {
		dead = dead[:0]
		return eachRequest(tx, func(r *Request) {
			if end := r.endedAt(now); !end.IsZero() && now.Sub(end) > keep {
				dead = append(dead, r)
			}
		})
	})
	if err != nil || len(dead) == 0 {
		return 0, err
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		for _, r := range dead {
			if err := tx.Delete(bucketRequests, r.Code); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if r.Session != nil {
				if err := tx.Delete(bucketSessions, r.Session.AccessKeyID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(dead), nil
}

// endedAt is when the request stopped being live, or zero if it is live.
func (r *Request) endedAt(now time.Time) time.Time {
	switch r.Status(now) {
	case StatusDenied:
		return r.DeniedAt
	case StatusRedeemed:
		if r.Session != nil && r.Session.Expires.After(r.RedeemedAt) {
			return r.Session.Expires
		}
		return r.RedeemedAt
	case StatusExpired:
		if r.Session != nil {
			return r.Session.Expires
		}
		return r.ExpiresAt
	}
	return time.Time{}
}
