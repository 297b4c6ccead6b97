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

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
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
	Now          func() time.Time
	Rand         io.Reader
	Logger       *slog.Logger
}

// Deps are the domain services the broker serves.
type Deps struct {
	IAM      *iam.Service
	Keyring  *session.Keyring
	Sessions *sessions.Service
}

// Server serves the AWS APIs of the broker.
type Server struct {
	cfg      Config
	mux      *Mux
	iam      *iam.Service
	keyring  *session.Keyring
	sessions *sessions.Service
	verifier *sigv4.Verifier
	log      *slog.Logger
	policies *policyCache
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
	var dummy [30]byte
	_, _ = io.ReadFull(cfg.Rand, dummy[:])
	s := &Server{
		cfg:         cfg,
		mux:         NewMux(),
		iam:         deps.IAM,
		keyring:     deps.Keyring,
		sessions:    deps.Sessions,
		verifier:    sigv4.NewVerifier(),
		log:         cfg.Logger,
		policies:    newPolicyCache(4096),
		dummySecret: hex.EncodeToString(dummy[:])[:40],
	}
	addOperations(s.mux, s)
	return s
}

// Handler returns the HTTP handler: /healthz and the AWS APIs at /.
func (s *Server) Handler() http.Handler {
	h := http.NewServeMux()
	h.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
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
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// serveAPI is the one dispatcher: decode → authenticate → execute → encode.
// Every branch either verifies a signature or refuses; an operation that is
// not in the table is refused before authentication.
func (s *Server) serveAPI(w http.ResponseWriter, hr *http.Request) {
	start := time.Now()
	now := s.cfg.Now().UTC()
	reqID := s.newRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)

	proto := ProtocolQuery
	if hr.Header.Get("X-Amz-Target") != "" {
		proto = ProtocolJSON
	}
	ns := awsapi.NamespaceSTS
	fail := func(op string, err error) {
		we := s.toWire(err, reqID)
		if proto == ProtocolJSON {
			awsapi.WriteJSONError(w, we)
		} else {
			awsapi.WriteQueryError(w, ns, we, reqID)
		}
		s.log.Info("request", "request_id", reqID, "op", op, "status", we.Status(), "error", we.QueryCode(), "duration_ms", time.Since(start).Milliseconds())
	}

	if hr.Method != http.MethodPost && hr.Method != http.MethodGet {
		fail("", awsapi.Errorf(awsapi.CodeInvalidAction, "method %s is not supported", hr.Method))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail("", awsapi.Errorf(awsapi.CodeValidation, "request body is larger than %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		fail("", awsapi.Errorf(awsapi.CodeSerialization, "cannot read request body"))
		return
	}

	var (
		op     *Operation
		params *awsapi.Params
	)
	if proto == ProtocolJSON {
		target := hr.Header.Get("X-Amz-Target")
		prefix, action, ok := strings.Cut(target, ".")
		svc := serviceByTargetPrefix[prefix]
		if ok && svc != "" {
			op = s.mux.Lookup(svc, action)
		}
		if op == nil || op.Protocol != ProtocolJSON {
			fail(target, awsapi.Errorf(awsapi.CodeInvalidAction, "Unrecognized operation %q", safeText(target)))
			return
		}
	} else {
		raw := hr.URL.RawQuery
		if hr.Method == http.MethodPost {
			ct, _, _ := strings.Cut(hr.Header.Get("Content-Type"), ";")
			if strings.TrimSpace(strings.ToLower(ct)) != "application/x-www-form-urlencoded" {
				fail("", awsapi.Errorf(awsapi.CodeInvalidAction, "the request has no X-Amz-Target header and is not a form-encoded Query request"))
				return
			}
			raw = string(body)
		}
		params, err = awsapi.ParseQuery(raw)
		if err != nil {
			fail("", err)
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
			fail(action, awsapi.Errorf(awsapi.CodeInvalidAction, "Could not find operation %s for version %s", safeText(action), safeText(version)))
			return
		}
	}
	opName := op.Service + ":" + op.Action

	req := &Request{
		ID:        reqID,
		Time:      now,
		Service:   op.Service,
		Action:    op.Action,
		Params:    params,
		SourceIP:  sourceIP(hr),
		UserAgent: hr.UserAgent(),
		Secure:    hr.TLS != nil,
	}
	if proto == ProtocolJSON {
		req.Body = body
	}
	caller, err := s.authenticate(hr.Context(), hr, body, op, now)
	if err != nil {
		fail(opName, err)
		return
	}
	req.Caller = caller
	if caller != nil {
		if err := s.sessionRules(req); err != nil {
			fail(opName, err)
			return
		}
		req.authorizer = s.authorize
	}

	result, err := s.execute(hr.Context(), op, req)
	if err != nil {
		fail(opName, err)
		return
	}
	if proto == ProtocolJSON {
		out, err := encodeJSONResult(result)
		if err != nil {
			s.log.Error("encode response", "request_id", reqID, "op", opName, "err", err)
			fail(opName, awsapi.Internal())
			return
		}
		awsapi.WriteJSON(w, out)
	} else {
		out, err := awsapi.EncodeQuery(ns, op.Action, result, reqID)
		if err != nil {
			s.log.Error("encode response", "request_id", reqID, "op", opName, "err", err)
			fail(opName, awsapi.Internal())
			return
		}
		awsapi.WriteQuery(w, out)
	}
	principal := ""
	if caller != nil {
		principal = caller.ARN
	}
	s.log.Info("request", "request_id", reqID, "op", opName, "principal", principal, "status", 200, "duration_ms", time.Since(start).Milliseconds())
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
