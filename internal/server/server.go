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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/rotation"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
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
	Keyring  *sessiontoken.Keyring
	Sessions *registry.Service
	Secrets  *secrets.Service
	// Approvals, if set, serves build-bound approval requests
	// (shortfuse_approvals.go) and the approval page at /ui/.
	Approvals *approvals.Service
	// DBCred, if set, hands out the database credentials of dynamic
	// secrets (package smapi).
	DBCred *dbcred.Service
	// Rotation, if set, rotates secrets in AWS's RDS shape (RotateSecret,
	// CancelRotateSecret: package smapi).
	Rotation *rotation.Service
}

// Server serves the AWS APIs of the broker.
type Server struct {
	cfg      Config
	mux      *rpc.Mux
	iam      *iam.Service
	keyring  *sessiontoken.Keyring
	sessions *registry.Service
	secrets  *secrets.Service
	approval *approvals.Service
	dbcred   *dbcred.Service
	rotation *rotation.Service
	verifier *sigv4.Verifier
	log      *slog.Logger
	policies *policy.Cache
	limiter  *failureLimiter
	pcache   *principalCache
	// dummySecret is used to verify requests from unknown access keys, so
	// that the time a refusal takes does not tell which keys exist.
	dummySecret string
	// uses is, per access key and per role, the last use noted (auth.go,
	// noteUse); only verified keys and live role sessions are noted.
	uses sync.Map
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
		mux:         rpc.NewMux(),
		iam:         deps.IAM,
		keyring:     deps.Keyring,
		sessions:    deps.Sessions,
		secrets:     deps.Secrets,
		approval:    deps.Approvals,
		dbcred:      deps.DBCred,
		rotation:    deps.Rotation,
		verifier:    sigv4.NewVerifier(),
		log:         cfg.Logger,
		policies:    policy.NewCache(4096),
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
	h.HandleFunc("GET /readyz", s.serveReady)
	if s.cfg.Metrics != nil {
		h.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	h.Handle("/ui/", s.uiHandler())
	h.Handle("/", http.HandlerFunc(s.serveAPI))
	return h
}

// Mux returns the operations table.
func (s *Server) Mux() *rpc.Mux { return s.mux }

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

// apiCall is one API request on its way through serveAPI: what the answer
// needs (protocol, namespace, request id) and what the log line and the
// metrics say.
type apiCall struct {
	s     *Server
	w     http.ResponseWriter
	hr    *http.Request
	qf    awsapi.QueryFormat // XML, or JSON when the client asks (Accept)
	start time.Time
	id    string
	proto rpc.Protocol
	ns    string
	op    *rpc.Operation
	req   *rpc.Request
}

// finish writes the error (if any), the log line and the metrics.
func (c *apiCall) finish(we *awsapi.Error) {
	service, action := "unknown", "unknown"
	if c.op != nil {
		service, action = c.op.Service, c.op.Action
	}
	status, outcome := http.StatusOK, "OK"
	if we != nil {
		if c.proto == rpc.ProtocolJSON {
			awsapi.WriteJSONError(c.w, we, jsonMessageKey(c.hr))
			status, outcome = we.JSONStatus(), we.JSONCode()
		} else {
			c.qf.WriteError(c.w, c.ns, we, c.id)
			status, outcome = we.Status(), we.QueryCode()
		}
	}
	d := time.Since(c.start)
	if m := c.s.cfg.Metrics; m != nil {
		m.requests.WithLabelValues(service, action, outcome).Inc()
		m.latency.WithLabelValues(service, action).Observe(d.Seconds())
	}
	// One line per request at debug level: the audit log is the record of
	// every request, and a line on stderr for each would cost a system
	// call per request. Server-side failures are logged at warn.
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	ctx := c.hr.Context()
	if !c.s.log.Enabled(ctx, level) {
		return
	}
	attrs := []any{"request_id", c.id, "op", service + ":" + action, "status", status, "duration_ms", float64(d.Microseconds()) / 1000}
	if c.req != nil && c.req.Caller != nil {
		attrs = append(attrs, "principal", c.req.Caller.ARN, "access_key_id", c.req.Caller.AccessKeyID)
	}
	if we != nil {
		attrs = append(attrs, "error", outcome)
	}
	c.s.log.Log(ctx, level, "request", attrs...)
}

func (c *apiCall) fail(err error) { c.finish(c.s.toWire(err, c.id)) }

// encode turns a result into the response body of the call's protocol.
func (c *apiCall) encode(result any) ([]byte, error) {
	if c.proto == rpc.ProtocolJSON {
		return encodeJSONResult(result)
	}
	return c.qf.Encode(c.ns, c.op.Action, result, c.id)
}

// serveAPI is the API's front door: read and decode the request, find its
// operation (one not in the table is refused before authentication),
// authenticate the caller, and hand the call to the pipeline (dispatch),
// which applies the session rules, audits, executes and encodes.
func (s *Server) serveAPI(w http.ResponseWriter, hr *http.Request) {
	c := &apiCall{s: s, w: w, hr: hr, qf: awsapi.QueryFormatOf(hr.Header), start: time.Now(), id: s.newRequestID(), proto: rpc.ProtocolQuery, ns: awsapi.NamespaceSTS}
	w.Header().Set("X-Amzn-Requestid", c.id)
	if hr.Header.Get("X-Amz-Target") != "" {
		c.proto = rpc.ProtocolJSON
	}
	body, params, err := s.decodeOperation(w, hr, c)
	if err != nil {
		c.fail(err)
		return
	}
	r := &rpc.Request{
		ID:        c.id,
		Time:      s.cfg.Now().UTC(),
		Service:   c.op.Service,
		Action:    c.op.Action,
		Params:    params,
		SourceIP:  sourceIP(hr),
		UserAgent: hr.UserAgent(),
		Secure:    hr.TLS != nil,
		BaseLog:   s.log,
	}
	if c.proto == rpc.ProtocolJSON {
		r.Body = body
	}
	c.req = r
	caller, err := s.authenticate(hr.Context(), hr, body, c.op, r.Time)
	if err != nil {
		c.finish(s.authFailed(hr, r, err))
		return
	}
	r.Caller = caller
	var out []byte
	_, err = s.dispatch(hr.Context(), c.op, r, func(result any) (err error) {
		out, err = c.encode(result)
		return err
	})
	if err != nil {
		c.fail(err)
		return
	}
	if c.proto == rpc.ProtocolJSON {
		awsapi.WriteJSON(w, out)
	} else {
		c.qf.Write(w, out)
	}
	c.finish(nil)
}

// decodeOperation reads the body and finds the request's operation in
// the table (c.op): by X-Amz-Target for JSON 1.1, by Action and Version for
// the Query protocol, whose parameters it returns.
func (s *Server) decodeOperation(w http.ResponseWriter, hr *http.Request, c *apiCall) ([]byte, *awsapi.Params, error) {
	if hr.Method != http.MethodPost && hr.Method != http.MethodGet {
		return nil, nil, awsapi.Errorf(awsapi.CodeInvalidAction, "method %s is not supported", hr.Method)
	}
	if n := len(hr.Header); n > maxHeaders {
		return nil, nil, awsapi.Errorf(awsapi.CodeValidation, "the request has %d headers; at most %d are accepted", n, maxHeaders)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, awsapi.Errorf(awsapi.CodeValidation, "request body is larger than %d bytes", s.cfg.MaxBodyBytes)
		}
		return nil, nil, awsapi.Errorf(awsapi.CodeSerialization, "cannot read request body")
	}
	if c.proto == rpc.ProtocolJSON {
		target := hr.Header.Get("X-Amz-Target")
		prefix, action, ok := strings.Cut(target, ".")
		if svc := serviceByTargetPrefix[prefix]; ok && svc != "" {
			c.op = s.mux.Lookup(svc, action)
		}
		if c.op == nil || c.op.Protocol != rpc.ProtocolJSON {
			c.op = nil
			return nil, nil, awsapi.Errorf(awsapi.CodeInvalidAction, "Unrecognized operation %q", safeText(target))
		}
		return body, nil, nil
	}
	// A Query request's parameters are those of the URL's query string
	// and, for a POST, those of its form-encoded body, together: AWS
	// reads a POST whose Action is in the query string and whose body
	// carries the rest (or nothing) as one request. The signature covers
	// both, the query string in the canonical request and the body in
	// its hash.
	form := ""
	if hr.Method == http.MethodPost && len(body) > 0 {
		ct, _, _ := strings.Cut(hr.Header.Get("Content-Type"), ";")
		if strings.TrimSpace(strings.ToLower(ct)) != "application/x-www-form-urlencoded" {
			return nil, nil, awsapi.Errorf(awsapi.CodeInvalidAction, "the request has no X-Amz-Target header and is not a form-encoded Query request")
		}
		form = string(body)
	}
	params, err := awsapi.ParseForm(hr.URL.RawQuery, form)
	if err != nil {
		return nil, nil, err
	}
	action, version := params.String("Action"), params.String("Version")
	if svc := serviceByVersion[version]; svc != "" {
		c.ns = namespace(svc)
		c.op = s.mux.Lookup(svc, action)
	}
	if c.op == nil || c.op.Protocol != rpc.ProtocolQuery {
		c.op = nil
		return nil, nil, awsapi.Errorf(awsapi.CodeInvalidAction, "Could not find operation %s for version %s", safeText(action), safeText(version))
	}
	return body, params, nil
}

// authFailed answers a request that failed to authenticate: the failure
// is recorded and counted, and a (claimed access key id, source address)
// pair that keeps failing is answered Throttling instead. Throttling
// applies only to failures: verification comes first, and a correctly
// signed request is never refused because of anyone's failures.
func (s *Server) authFailed(hr *http.Request, r *rpc.Request, err error) *awsapi.Error {
	we := s.toWire(err, r.ID)
	if we.Code != awsapi.CodeInternal {
		if m := s.cfg.Metrics; m != nil {
			m.authFailures.WithLabelValues(we.QueryCode()).Inc()
		}
		if s.limiter.Failed(accessKeyIDOf(hr), r.SourceIP, r.Time) {
			if m := s.cfg.Metrics; m != nil {
				m.throttled.Inc()
			}
			we = errThrottled
		}
	}
	if aerr := s.auditRequest(hr.Context(), r, nil, we); aerr != nil {
		r.Log().Error("audit record not written", "err", aerr)
		return awsapi.Internal()
	}
	return we
}

// maxHeaders bounds the number of header fields of a request.
const maxHeaders = 100

var errThrottled = &awsapi.Error{Code: awsapi.CodeThrottling, Message: "Rate exceeded: too many failed authentication attempts with this access key id from this address"}

// accessKeyIDOf extracts the access key id the request claims, without
// verifying anything, to key the throttling of failures.
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

// execute runs the handler and turns a panic into an internal error, so no
// panic reaches a client.
func (s *Server) execute(ctx context.Context, op *rpc.Operation, req *rpc.Request) (result any, err error) {
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
func safeText(s string) string { return rpc.SafeText(s) }
