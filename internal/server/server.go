package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/session"
	"github.com/shortfuse/shortfuse/internal/sessions"
	"github.com/shortfuse/shortfuse/internal/sigv4"
)

// Config is the broker's configuration as far as request handling goes.
type Config struct {
	Account string
	Region  string
	// MaxSessionDuration caps every session's lifetime, after AWS's own
	// limits. It may be shorter than AWS's 900 s minimum.
	MaxSessionDuration time.Duration
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
	// Metrics, if set, receives request metrics.
	Metrics *Metrics
	// Audit, if set, receives one record per request (and an intent record
	// before each state-changing request); Redactor keys the HMACs that
	// replace secrets in those records. Both or neither.
	Audit    Auditor
	Redactor *audit.Redactor
	// FailedAuthEvery and FailedAuthBurst set the throttling of callers
	// that fail to authenticate: a burst of failures, then one per period.
	FailedAuthEvery time.Duration
	FailedAuthBurst int
	// PrincipalCacheTTL bounds how long access keys, principals and their
	// policies are served from memory. Any IAM write on this broker
	// invalidates the cache at once; the TTL bounds how long a change made
	// by another replica can go unseen. Default 1 s; negative disables.
	PrincipalCacheTTL time.Duration
	Now               func() time.Time
	Rand              io.Reader
	Logger            *slog.Logger
}

// Deps are the domain services the broker serves.
type Deps struct {
	IAM      *iam.Service
	Keyring  *session.Keyring
	Sessions *sessions.Service
	Secrets  *secrets.Service
	// Approvals, if set, serves build-bound approval requests
	// (shortfuse_approvals.go) and the approval page at /ui/.
	Approvals *approvals.Service
}

// Server serves the AWS APIs of the broker.
type Server struct {
	cfg      Config
	mux      *Mux
	iam      *iam.Service
	keyring  *session.Keyring
	sessions *sessions.Service
	secrets  *secrets.Service
	approval *approvals.Service
	verifier *sigv4.Verifier
	log      *slog.Logger
	policies *policyCache
	limiter  *failureLimiter
	pcache   *principalCache
	// dummySecret is used to verify requests from unknown access keys, so
	// that the time a refusal takes does not tell which keys exist.
	dummySecret string
}

// New returns the broker's request handler.
func New(cfg Config, deps Deps) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.FailedAuthEvery == 0 {
		cfg.FailedAuthEvery = time.Second
	}
	if cfg.FailedAuthBurst == 0 {
		cfg.FailedAuthBurst = 20
	}
	if cfg.PrincipalCacheTTL == 0 {
		cfg.PrincipalCacheTTL = time.Second
	}
	var dummy [30]byte
	_, _ = io.ReadFull(cfg.Rand, dummy[:])
	s := &Server{
		cfg:         cfg,
		mux:         NewMux(),
		iam:         deps.IAM,
		keyring:     deps.Keyring,
		sessions:    deps.Sessions,
		secrets:     deps.Secrets,
		approval:    deps.Approvals,
		verifier:    sigv4.NewVerifier(),
		log:         cfg.Logger,
		policies:    newPolicyCache(4096),
		limiter:     newFailureLimiter(cfg.FailedAuthEvery, cfg.FailedAuthBurst, 100000),
		pcache:      newPrincipalCache(deps.IAM, 100000, cfg.PrincipalCacheTTL),
		dummySecret: hex.EncodeToString(dummy[:])[:40],
	}
	addOperations(s.mux, s)
	if cfg.Metrics != nil && s.sessions != nil {
		cfg.Metrics.RegisterActiveSessions(s)
	}
	return s
}

// Handler returns the HTTP handler: /healthz and the AWS APIs at /.
func (s *Server) Handler() http.Handler {
	h := http.NewServeMux()
	h.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	if s.cfg.Metrics != nil {
		h.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	h.Handle("/ui/", s.uiHandler())
	h.Handle("/", http.HandlerFunc(s.serveAPI))
	return h
}

// Mux returns the operations table.
func (s *Server) Mux() *Mux { return s.mux }

// serviceByVersion maps the Query protocol's Version parameter to a service.
var serviceByVersion = map[string]string{
	"2011-06-15": "sts",
	"2010-05-08": "iam",
}

// serviceByTargetPrefix maps the X-Amz-Target prefix of JSON 1.1 requests.
var serviceByTargetPrefix = map[string]string{
	"secretsmanager": "secretsmanager",
	"shortfuse":      "shortfuse",
}

// namespace of a Query service's XML documents.
func namespace(service string) string {
	if service == "iam" {
		return awsapi.NamespaceIAM
	}
	return awsapi.NamespaceSTS
}

// maxSkew is AWS's clock-skew window per service: 15 minutes for STS and
// IAM, 5 minutes for Secrets Manager.
func maxSkew(service string) time.Duration {
	switch service {
	case "sts", "iam":
		return 15 * time.Minute
	}
	return 5 * time.Minute
}

func (s *Server) newRequestID() string {
	var b [16]byte
	_, _ = io.ReadFull(s.cfg.Rand, b[:])
	b[6] = b[6]&0x0f | 0x40 // a version 4 UUID, as AWS request ids are
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// serveAPI is the one dispatcher: decode → authenticate → (audit intent) →
// execute → audit → encode. Every branch either verifies a signature or
// refuses; an operation that is not in the table is refused before
// authentication.
func (s *Server) serveAPI(w http.ResponseWriter, hr *http.Request) {
	start := time.Now()
	now := s.cfg.Now().UTC()
	reqID := s.newRequestID()
	log := s.log.With("request_id", reqID)
	w.Header().Set("X-Amzn-Requestid", reqID)

	proto := ProtocolQuery
	if hr.Header.Get("X-Amz-Target") != "" {
		proto = ProtocolJSON
	}
	ns := awsapi.NamespaceSTS
	qf := awsapi.QueryFormatOf(hr.Header) // XML, or JSON when asked (Accept)
	var (
		op  *Operation
		req *Request
	)
	// finish writes the error (if any), the log line and the metrics.
	finish := func(status int, we *awsapi.Error) {
		service, action := "unknown", "unknown"
		if op != nil {
			service, action = op.Service, op.Action
		}
		outcome := "OK"
		if we != nil {
			if proto == ProtocolJSON {
				awsapi.WriteJSONError(w, we, jsonMessageKey(hr))
				status = we.JSONStatus()
				outcome = we.JSONCode()
			} else {
				qf.WriteError(w, ns, we, reqID)
				status = we.Status()
				outcome = we.QueryCode()
			}
		}
		d := time.Since(start)
		if m := s.cfg.Metrics; m != nil {
			m.requests.WithLabelValues(service, action, outcome).Inc()
			m.latency.WithLabelValues(service, action).Observe(d.Seconds())
		}
		attrs := []any{"op", service + ":" + action, "status", status, "duration_ms", float64(d.Microseconds()) / 1000}
		if req != nil && req.Caller != nil {
			attrs = append(attrs, "principal", req.Caller.ARN, "access_key_id", req.Caller.AccessKeyID)
		}
		if we != nil {
			attrs = append(attrs, "error", outcome)
		}
		log.Info("request", attrs...)
	}
	fail := func(err error) { finish(0, s.toWire(err, reqID)) }

	if hr.Method != http.MethodPost && hr.Method != http.MethodGet {
		fail(awsapi.Errorf(awsapi.CodeInvalidAction, "method %s is not supported", hr.Method))
		return
	}
	if n := len(hr.Header); n > maxHeaders {
		fail(awsapi.Errorf(awsapi.CodeValidation, "the request has %d headers; at most %d are accepted", n, maxHeaders))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(awsapi.Errorf(awsapi.CodeValidation, "request body is larger than %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		fail(awsapi.Errorf(awsapi.CodeSerialization, "cannot read request body"))
		return
	}

	var params *awsapi.Params
	if proto == ProtocolJSON {
		target := hr.Header.Get("X-Amz-Target")
		prefix, action, ok := strings.Cut(target, ".")
		svc := serviceByTargetPrefix[prefix]
		if ok && svc != "" {
			op = s.mux.Lookup(svc, action)
		}
		if op == nil || op.Protocol != ProtocolJSON {
			op = nil
			fail(awsapi.Errorf(awsapi.CodeInvalidAction, "Unrecognized operation %q", safeText(target)))
			return
		}
	} else {
		raw := hr.URL.RawQuery
		if hr.Method == http.MethodPost {
			ct, _, _ := strings.Cut(hr.Header.Get("Content-Type"), ";")
			if strings.TrimSpace(strings.ToLower(ct)) != "application/x-www-form-urlencoded" {
				fail(awsapi.Errorf(awsapi.CodeInvalidAction, "the request has no X-Amz-Target header and is not a form-encoded Query request"))
				return
			}
			raw = string(body)
		}
		params, err = awsapi.ParseQuery(raw)
		if err != nil {
			fail(err)
			return
		}
		action := params.String("Action")
		version := params.String("Version")
		svc := serviceByVersion[version]
		if svc != "" {
			ns = namespace(svc)
			op = s.mux.Lookup(svc, action)
		}
		if op == nil || op.Protocol != ProtocolQuery {
			op = nil
			fail(awsapi.Errorf(awsapi.CodeInvalidAction, "Could not find operation %s for version %s", safeText(action), safeText(version)))
			return
		}
	}

	req = &Request{
		ID:        reqID,
		Time:      now,
		Service:   op.Service,
		Action:    op.Action,
		Params:    params,
		SourceIP:  sourceIP(hr),
		UserAgent: hr.UserAgent(),
		Secure:    hr.TLS != nil,
		Log:       log,
	}
	if proto == ProtocolJSON {
		req.Body = body
	}

	// Callers that keep failing to authenticate are throttled before any
	// work is done for them.
	akid := accessKeyIDOf(hr)
	if s.limiter.Blocked(akid, req.SourceIP, now) {
		if m := s.cfg.Metrics; m != nil {
			m.throttled.Inc()
		}
		s.auditRequest(hr.Context(), req, nil, errThrottled)
		fail(errThrottled)
		return
	}
	caller, err := s.authenticate(hr.Context(), hr, body, op, now)
	if err != nil {
		we := s.toWire(err, reqID)
		if we.Code != awsapi.CodeInternal {
			s.limiter.Failed(akid, req.SourceIP, now)
			if m := s.cfg.Metrics; m != nil {
				m.authFailures.WithLabelValues(we.QueryCode()).Inc()
			}
		}
		s.auditRequest(hr.Context(), req, nil, we)
		finish(0, we)
		return
	}
	req.Caller = caller
	if caller != nil {
		if err := s.sessionRules(req); err != nil {
			s.auditRequest(hr.Context(), req, nil, err)
			fail(err)
			return
		}
		req.authorizer = s.authorize
	}

	// A request that changes state is put on record before it executes, so
	// that a broken audit sink refuses it with nothing changed.
	if !readOnly(op) {
		if err := s.auditIntent(hr.Context(), req); err != nil {
			log.Error("audit intent not written; request refused", "err", err)
			fail(awsapi.Internal())
			return
		}
	}

	result, err := s.execute(hr.Context(), op, req)
	var out []byte
	if err == nil {
		if proto == ProtocolJSON {
			out, err = encodeJSONResult(result)
		} else {
			out, err = qf.Encode(ns, op.Action, result, reqID)
		}
		if err != nil {
			log.Error("encode response", "err", err)
			err = awsapi.Internal()
		}
	}
	// The record is durable before the response leaves: a response that
	// carries a secret is never sent unrecorded (fail closed).
	if aerr := s.auditRequest(hr.Context(), req, result, err); aerr != nil {
		log.Error("audit record not written; response withheld", "err", aerr)
		fail(awsapi.Internal())
		return
	}
	if err != nil {
		fail(err)
		return
	}
	if proto == ProtocolJSON {
		awsapi.WriteJSON(w, out)
	} else {
		qf.Write(w, out)
	}
	finish(http.StatusOK, nil)
}

// maxHeaders bounds the number of header fields of a request.
const maxHeaders = 100

var errThrottled = &awsapi.Error{Code: awsapi.CodeThrottling, Message: "Rate exceeded: too many failed authentication attempts from this access key or address"}

// accessKeyIDOf extracts the access key id the request claims, without
// verifying anything, for throttling.
func accessKeyIDOf(hr *http.Request) string {
	cred := hr.URL.Query().Get("X-Amz-Credential")
	if h := hr.Header.Get("Authorization"); h != "" {
		if _, rest, ok := strings.Cut(h, "Credential="); ok {
			cred = rest
		}
	}
	akid, _, _ := strings.Cut(cred, "/")
	if len(akid) > 128 {
		akid = akid[:128]
	}
	return akid
}

// readOnly reports whether an operation changes nothing that matters to
// the record before it runs. Minting a session registers it, but its
// credentials never leave unless the record is written.
func readOnly(op *Operation) bool {
	a := op.Action
	for _, p := range []string{"Get", "List", "Describe", "Simulate", "Validate", "BatchGet"} {
		if strings.HasPrefix(a, p) {
			return true
		}
	}
	return a == "AssumeRole" || a == "AssumeRoleWithWebIdentity"
}

// execute runs the handler and turns a panic into an internal error, so no
// panic reaches a client.
func (s *Server) execute(ctx context.Context, op *Operation, req *Request) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in handler", "request_id", req.ID, "op", op.Service+":"+op.Action, "panic", p)
			result, err = nil, awsapi.Internal()
		}
	}()
	return op.Handler(ctx, req)
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// safeText keeps client-supplied text printable and short before it is
// echoed in an error message.
func safeText(s string) string {
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
