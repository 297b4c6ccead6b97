package server

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/registry"
)

// Metrics are the broker's Prometheus metrics. They carry no secret and no
// principal name: labels are services, actions and outcomes only.
type Metrics struct {
	Registry         *prometheus.Registry
	requests         *prometheus.CounterVec
	latency          *prometheus.HistogramVec
	authFailures     *prometheus.CounterVec
	throttled        prometheus.Counter
	sessionsMinted   *prometheus.CounterVec
	revocations      *prometheus.CounterVec
	AuditWriteErrors prometheus.Counter
	unknownMembers   prometheus.Counter
	// log is the server's logger, for the debug line that names ignored
	// request members; set when a server registers with these metrics.
	log atomic.Pointer[slog.Logger]
}

// activeSessions counts the active sessions for the gauge, at most once per
// interval (it reads the session registry).
type activeSessions struct {
	mu    sync.Mutex
	at    time.Time
	value float64
}

// RegisterActiveSessions adds the shortfuse_active_sessions gauge, read
// from the server's session registry.
// It also routes the debug line that names ignored request members to the
// server's logger.
func (m *Metrics) RegisterActiveSessions(s *Server) {
	m.log.Store(s.log)
	var cache activeSessions
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shortfuse_active_sessions",
		Help: "Sessions neither expired, revoked, used up nor abandoned (counted at most every 15 s).",
	}, func() float64 {
		cache.mu.Lock()
		defer cache.mu.Unlock()
		now := s.cfg.Now()
		if now.Sub(cache.at) < 15*time.Second && !cache.at.IsZero() {
			return cache.value
		}
		n, after := 0, ""
		for {
			recs, next, err := s.sessions.List(context.Background(), registry.Filter{After: after, Limit: 1000}, now)
			if err != nil {
				return cache.value
			}
			n += len(recs)
			if next == "" {
				break
			}
			after = next
		}
		cache.at, cache.value = now, float64(n)
		return cache.value
	}))
}

// NewMetrics registers the broker's metrics in a new registry (with the Go
// runtime and process collectors).
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: newCounterVec("shortfuse_requests_total",
			"API requests by service, action and outcome (OK or the AWS error code).",
			"service", "action", "outcome"),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shortfuse_request_duration_seconds",
			Help:    "API request latency by service and action.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"service", "action"}),
		authFailures: newCounterVec("shortfuse_auth_failures_total",
			"Requests refused during authentication, by error code.",
			"code"),
		throttled: newCounter("shortfuse_throttled_total",
			"Requests refused because their access key or address failed to authenticate too often."),
		sessionsMinted: newCounterVec("shortfuse_sessions_minted_total",
			"Sessions minted, by type.",
			"type"),
		revocations: newCounterVec("shortfuse_revocations_total",
			"Session revocations, by kind (session, principal).",
			"kind"),
		AuditWriteErrors: newCounter("shortfuse_audit_write_failures_total",
			"Audit records that could not be written (each refused its request)."),
		unknownMembers: newCounter("shortfuse_request_unknown_members_total",
			"Members of JSON request bodies that the operation's input shape does not have, ignored as AWS ignores them."),
	}
	reg.MustRegister(m.requests, m.latency, m.authFailures, m.throttled, m.sessionsMinted, m.revocations, m.AuditWriteErrors,
		m.unknownMembers, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The decoder is shared by every handler; the hook is package-wide, so
	// the metrics created last count (one broker per process).
	awsapi.SetUnknownMembersHook(m.observeUnknownMembers)
	return m
}

// newCounter and newCounterVec declare a counter of the broker's metrics
// (one with labels).
func newCounter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

func newCounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// observeUnknownMembers counts the request members the JSON decoder
// ignored and names them at debug level (names only: the decoder never
// passes a value).
func (m *Metrics) observeUnknownMembers(paths []string) {
	m.unknownMembers.Add(float64(len(paths)))
	if l := m.log.Load(); l != nil {
		const maxNamed = 20
		named := paths
		if len(named) > maxNamed {
			named = named[:maxNamed]
		}
		l.Debug("request members ignored: the input shape does not have them", "members", named, "count", len(paths))
	}
}
