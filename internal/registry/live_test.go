package registry_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// TestLive: what ends a session or its ancestor ends it for Live, which
// reads the store (what a session's database credentials depend on).
func TestLive(t *testing.T) {
	now := t0.Add(time.Minute)
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, s *registry.Service, parent, child *sessiontoken.Claims)
		at   time.Time
		live bool
	}{
		{"live/untouched", nil, now, true},
		{"live/before-expiry", nil, t0.Add(time.Hour - time.Second), true},
		{"dead/at-expiry", nil, t0.Add(time.Hour), false},
		{"dead/after-expiry", nil, t0.Add(time.Hour + time.Second), false},
		{"dead/revoked", func(t *testing.T, s *registry.Service, _, c *sessiontoken.Claims) {
			if err := s.Revoke(t.Context(), c.AccessKeyID, "test", now); err != nil {
				t.Fatal(err)
			}
		}, now, false},
		{"dead/parent-revoked", func(t *testing.T, s *registry.Service, p, _ *sessiontoken.Claims) {
			if err := s.Revoke(t.Context(), p.AccessKeyID, "test", now); err != nil {
				t.Fatal(err)
			}
		}, now, false},
		{"dead/parent-used-up", func(t *testing.T, s *registry.Service, p, _ *sessiontoken.Claims) {
			if err := s.Admit(t.Context(), p, now, registry.Use{Count: true}); err != nil {
				t.Fatal(err)
			}
		}, now, false},
		{"dead/narrowed", func(t *testing.T, s *registry.Service, _, c *sessiontoken.Claims) {
			if _, err := s.Narrow(t.Context(), c.AccessKeyID, registry.Narrowing{Expires: now.Add(-time.Second)}, now.Add(-2*time.Second)); err != nil {
				t.Fatal(err)
			}
		}, now, false},
		{"dead/abandoned", func(t *testing.T, s *registry.Service, _, c *sessiontoken.Claims) {
			if _, err := s.Heartbeat(t.Context(), c.AccessKeyID, time.Second, now.Add(-3*time.Second)); err != nil {
				t.Fatal(err)
			}
		}, now, false},
		{"dead/revoke-before", func(t *testing.T, s *registry.Service, p, _ *sessiontoken.Claims) {
			if _, err := s.RevokeBefore(t.Context(), p.PrincipalARN, now, now); err != nil {
				t.Fatal(err)
			}
		}, now, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := testutil.TempStore(t)
			r := newReplica(t, st)
			parent := register(t, r, alice, 1)
			nextSession++
			child := &sessiontoken.Claims{
				AccessKeyID: fmt.Sprintf("ASIAAAAAAAAAAAAA%04d", nextSession), SessionID: fmt.Sprintf("%040d", nextSession),
				Type: sessiontoken.TypeAssumeRole, PrincipalARN: "arn:aws:sts::123456789012:assumed-role/ci/job", RoleARN: "arn:aws:iam::123456789012:role/ci",
				IssuedAt: t0, Expires: t0.Add(time.Hour), Chain: []string{parent.AccessKeyID},
			}
			if err := r.reg.Register(t.Context(), child); err != nil {
				t.Fatal(err)
			}
			if tc.end != nil {
				tc.end(t, r.reg, parent, child)
			}
			got, err := r.reg.Live(t.Context(), child.AccessKeyID, tc.at)
			if err != nil || got != tc.live {
				t.Fatalf("Live() = %v, %v; want %v", got, err, tc.live)
			}
		})
	}
	t.Run("dead/unknown", func(t *testing.T) {
		st, _ := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
		t.Cleanup(func() { st.Close() })
		r := newReplica(t, st)
		if got, err := r.reg.Live(t.Context(), "ASIANOSUCHSESSION000", now); got || err != nil {
			t.Fatalf("Live() = %v, %v", got, err)
		}
	})
}
