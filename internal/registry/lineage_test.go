package registry_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// lineageModel is what the registry must decide, kept the simplest way.
type lineageModel struct {
	claims    []*sessiontoken.Claims
	parent    []int // -1 for a root
	principal []string
	revoked   []bool
	uses      []int
	maxUses   []int
	expires   []time.Time
	deadline  []time.Time
	before    map[string]time.Time
}

// live reports whether session i itself is live at now.
func (m *lineageModel) live(i int, now time.Time) bool {
	c := m.claims[i]
	if m.revoked[i] || !now.Before(m.expires[i]) {
		return false
	}
	for _, p := range []string{c.PrincipalARN, c.SourceARN, c.RoleARN} {
		if t, ok := m.before[p]; ok && c.IssuedAt.Before(t) {
			return false
		}
	}
	if m.maxUses[i] > 0 && m.uses[i] >= m.maxUses[i] {
		return false
	}
	if !m.deadline[i].IsZero() && now.After(m.deadline[i]) {
		return false
	}
	return true
}

// admitted reports whether a call of session i is admitted: it and every
// ancestor are live.
func (m *lineageModel) admitted(i int, now time.Time) bool {
	for j := i; j >= 0; j = m.parent[j] {
		if !m.live(j, now) {
			return false
		}
	}
	return true
}

// use spends one use of i and of every limited ancestor.
func (m *lineageModel) use(i int) {
	for j := i; j >= 0; j = m.parent[j] {
		if m.maxUses[j] > 0 {
			m.uses[j]++
		}
	}
}

// TestLineageProperty builds random trees of chained sessions over two
// replicas of one store, applies random revocations (one session, or a
// principal's sessions before a time), narrowings, dead-man switches and
// uses on either replica, and checks after each step that a call of any
// session is admitted, on both replicas, iff the session and every
// ancestor are live.
func TestLineageProperty(t *testing.T) {
	principals := []string{
		"arn:aws:iam::123456789012:user/alice",
		"arn:aws:iam::123456789012:user/bob",
		"arn:aws:iam::123456789012:role/ci",
		"arn:aws:iam::123456789012:role/deploy",
	}
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			st, _ := testutil.TempStore(t)
			reps := []*replica{newReplica(t, st), newReplica(t, st)}
			m := &lineageModel{before: map[string]time.Time{}}
			now := t0.Add(time.Minute)
			newSession := func(rep *replica) {
				i := len(m.claims)
				parent := -1
				if i > 0 && rng.IntN(4) != 0 {
					parent = rng.IntN(i)
				}
				p := principals[rng.IntN(len(principals))]
				c := &sessiontoken.Claims{
					AccessKeyID:  fmt.Sprintf("ASIAQQQQQQQQQQQQ%04d", seed*1000+i),
					SessionID:    fmt.Sprintf("%040d", seed*1000+i),
					Type:         sessiontoken.TypeAssumeRole,
					PrincipalARN: p + "-session",
					RoleARN:      p,
					IssuedAt:     now.Add(-time.Duration(rng.IntN(30)) * time.Second),
					Expires:      now.Add(time.Hour),
				}
				if rng.IntN(4) == 0 {
					c.MaxUses = 1 + rng.IntN(4)
				}
				if parent >= 0 {
					pc := m.claims[parent]
					c.SourceARN = pc.PrincipalARN
					c.Chain = append(append([]string(nil), pc.Chain...), pc.AccessKeyID)
					if len(c.Chain) > sessiontoken.MaxChainDepth {
						return
					}
				}
				err := rep.reg.Register(t.Context(), c)
				if parent >= 0 && m.revoked[parent] {
					if !errors.Is(err, registry.ErrRevoked) {
						t.Fatalf("Register under a revoked parent = %v, want ErrRevoked", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Register() = %v", err)
				}
				m.claims = append(m.claims, c)
				m.parent = append(m.parent, parent)
				m.principal = append(m.principal, p)
				m.revoked = append(m.revoked, false)
				m.uses = append(m.uses, 0)
				m.maxUses = append(m.maxUses, c.MaxUses)
				m.expires = append(m.expires, c.Expires)
				m.deadline = append(m.deadline, time.Time{})
			}
			for range 3 {
				newSession(reps[0])
			}
			for step := range 120 {
				rep := reps[rng.IntN(2)]
				n := len(m.claims)
				i := rng.IntN(n)
				switch op := rng.IntN(10); {
				case op < 3:
					newSession(rep)
				case op == 3:
					if err := rep.reg.Revoke(t.Context(), m.claims[i].AccessKeyID, "test", now); err != nil {
						t.Fatalf("step %d: Revoke() = %v", step, err)
					}
					m.revoked[i] = true
				case op == 4 && rng.IntN(3) == 0:
					p := principals[rng.IntN(len(principals))]
					cut := now.Add(-time.Duration(rng.IntN(30)) * time.Second)
					if _, err := rep.reg.RevokeBefore(t.Context(), p, cut, now); err != nil {
						t.Fatalf("step %d: RevokeBefore() = %v", step, err)
					}
					if old, ok := m.before[p]; !ok || old.Before(cut.Truncate(time.Second)) {
						m.before[p] = cut.Truncate(time.Second)
					}
				case op == 5:
					// Narrowing: a use limit, an earlier expiry or a dead-man switch.
					var nw registry.Narrowing
					switch rng.IntN(3) {
					case 0:
						nw.MaxUses = 1 + rng.IntN(3)
					case 1:
						nw.Expires = now.Add(time.Duration(1+rng.IntN(20)) * time.Second)
					case 2:
						nw.Grace = time.Duration(1+rng.IntN(20)) * time.Second
					}
					_, err := rep.reg.Narrow(t.Context(), m.claims[i].AccessKeyID, nw, now)
					if !m.live(i, now) {
						if !registry.IsRefusal(err) {
							t.Fatalf("step %d: Narrow() of a dead session = %v, want a refusal", step, err)
						}
						break
					}
					if err != nil {
						t.Fatalf("step %d: Narrow() = %v", step, err)
					}
					if nw.MaxUses > 0 && (m.maxUses[i] == 0 || nw.MaxUses < m.maxUses[i]) {
						m.maxUses[i] = nw.MaxUses
					}
					if !nw.Expires.IsZero() && nw.Expires.Before(m.expires[i]) {
						m.expires[i] = nw.Expires
					}
					if nw.Grace > 0 {
						if d := now.Add(nw.Grace); m.deadline[i].IsZero() || d.Before(m.deadline[i]) {
							m.deadline[i] = d
						}
					}
				case op == 6:
					now = now.Add(time.Duration(rng.IntN(8)) * time.Second)
				default:
					// A counted call.
					want := m.admitted(i, now)
					err := rep.reg.Admit(t.Context(), m.claims[i], now, registry.Use{Count: true})
					if want != (err == nil) || (err != nil && !registry.IsRefusal(err)) {
						t.Fatalf("step %d: counted Admit(session %d %s chain %v) = %v, want admitted=%v", step, i, m.claims[i].AccessKeyID, m.claims[i].Chain, err, want)
					}
					if want {
						m.use(i)
					}
				}
				for _, r := range reps {
					r.catchUp(t)
				}
				for j := range m.claims {
					want := m.admitted(j, now)
					for k, r := range reps {
						err := r.reg.Admit(t.Context(), m.claims[j], now, registry.Use{})
						if want != (err == nil) || (err != nil && !registry.IsRefusal(err)) {
							t.Fatalf("step %d: replica %d: Admit(session %d, chain %d) = %v, want admitted=%v",
								step, k, j, len(m.claims[j].Chain), err, want)
						}
					}
				}
			}
		})
	}
}
