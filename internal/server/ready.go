package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// auditHealth is what an Auditor may tell of itself: an error once it can
// no longer write (its file removed or replaced).
type auditHealth interface {
	Healthy() error
}

// readiness is the body of /readyz.
type readiness struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"`
}

// serveReady is the readiness probe: 200 when this broker can serve
// sessions safely, 503 with the failing checks named otherwise. /healthz
// stays the liveness probe (the process serves HTTP).
//
//   - store: the store answers within the store timeout;
//   - revocations: this replica's view of the others' revocations is
//     within the staleness bound (past it, sessions are checked in the
//     store one by one, and refused when it does not answer);
//   - audit: the audit log can be written.
func (s *Server) serveReady(w http.ResponseWriter, hr *http.Request) {
	rd := readiness{Ready: true, Checks: map[string]string{"store": "ok", "revocations": "ok", "audit": "ok"}}
	fail := func(check, why string) {
		rd.Ready = false
		rd.Checks[check] = why
	}
	if s.sessions != nil {
		if err := s.sessions.Ping(hr.Context()); err != nil {
			fail("store", "unreachable")
			s.log.Warn("not ready: the store does not answer", "err", err)
		}
		if age, stale := s.sessions.Stale(time.Now()); stale {
			fail("revocations", fmt.Sprintf("stale: last confirmed current %s ago", age.Round(time.Millisecond)))
		}
	}
	if a, ok := s.cfg.Audit.(auditHealth); ok {
		if err := a.Healthy(); err != nil {
			fail("audit", "not writable")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !rd.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rd)
}
