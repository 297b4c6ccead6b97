package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
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
}

// NewMetrics registers the broker's metrics in a new registry (with the Go
// runtime and process collectors).
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shortfuse_requests_total",
			Help: "API requests by service, action and outcome (OK or the AWS error code).",
		}, []string{"service", "action", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shortfuse_request_duration_seconds",
			Help:    "API request latency by service and action.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"service", "action"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shortfuse_auth_failures_total",
			Help: "Requests refused during authentication, by error code.",
		}, []string{"code"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shortfuse_throttled_total",
			Help: "Requests refused because their access key or address failed to authenticate too often.",
		}),
		sessionsMinted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shortfuse_sessions_minted_total",
			Help: "Sessions minted, by type.",
		}, []string{"type"}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shortfuse_revocations_total",
			Help: "Session revocations, by kind (session, principal).",
		}, []string{"kind"}),
		AuditWriteErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shortfuse_audit_write_failures_total",
			Help: "Audit records that could not be written (each refused its request).",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.authFailures, m.throttled, m.sessionsMinted, m.revocations, m.AuditWriteErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
