package awsconf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Default timeouts of every client command. A broker answers in
// milliseconds; these only bound how long a dead or stuck one is waited for.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultRequestTimeout = 20 * time.Second
)

// Environment variables that set the timeouts when the flags are not given.
const (
	EnvConnectTimeout = "SHORTFUSE_CONNECT_TIMEOUT"
	EnvRequestTimeout = "SHORTFUSE_REQUEST_TIMEOUT"
)

// maxAttempts is how often a request that may be repeated is sent.
const maxAttempts = 3

// NoAnswerError is a request that got no answer: the connection was not
// made within the connect timeout, the answer did not come within the
// request timeout, or the caller gave up (a signal ended the context).
type NoAnswerError struct {
	Op          string        // "sts:GetSessionToken"; "" when unknown
	Endpoint    string        // scheme://host:port
	After       time.Duration // how long this attempt waited
	Limit       time.Duration // the timeout that passed; 0 when interrupted
	Connect     bool          // no connection was made: nothing was sent
	Interrupted bool          // the caller's context ended (Ctrl-C, SIGTERM)
	Err         error
}

func (e *NoAnswerError) Error() string {
	what := e.Op
	if what == "" {
		what = "request"
	}
	switch {
	case e.Interrupted:
		return fmt.Sprintf("%s: no answer from %s after %s: %v", what, e.Endpoint, round(e.After), e.Err)
	case e.Connect:
		return fmt.Sprintf("%s: could not connect to %s within %s (--connect-timeout or %s)", what, e.Endpoint, round(e.Limit), EnvConnectTimeout)
	}
	return fmt.Sprintf("%s: no answer from %s within %s (--request-timeout or %s)", what, e.Endpoint, round(e.Limit), EnvRequestTimeout)
}

func (e *NoAnswerError) Unwrap() error { return e.Err }

// Timeout reports whether a timeout (not the caller) ended the request.
func (e *NoAnswerError) Timeout() bool { return !e.Interrupted }

func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// sendError is a failed attempt that is not a timeout (a refused or reset
// connection), with what the retry rule needs to know.
type sendError struct {
	op   string
	sent bool
	err  error
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// readOnly lists the operations the client sends that change nothing on the
// broker: the only ones repeated after a request that may have arrived.
// Minting a session twice would leave a live, unused one behind.
var readOnly = map[string]bool{
	"sts:GetCallerIdentity":              true,
	"secretsmanager:GetSecretValue":      true,
	"secretsmanager:BatchGetSecretValue": true,
	"secretsmanager:DescribeSecret":      true,
	"secretsmanager:ListSecrets":         true,
}

// retryable decides, before the SDK's standard rules, whether a failed
// attempt may be repeated: never after an interruption or a request
// timeout (the wait stays bounded by --request-timeout); an operation that
// changes something only when the request never left (no connection).
func retryable(err error) aws.Ternary {
	var na *NoAnswerError
	if errors.As(err, &na) && (na.Interrupted || !na.Connect) {
		return aws.FalseTernary
	}
	op, sent := attemptOf(err)
	if !sent || readOnly[op] {
		return aws.UnknownTernary // the standard rules decide
	}
	return aws.FalseTernary
}

// attemptOf returns the operation of a failed attempt and whether its
// request may have reached the server.
func attemptOf(err error) (op string, sent bool) {
	var na *NoAnswerError
	var se *sendError
	var re *smithyhttp.ResponseError
	switch {
	case errors.As(err, &na):
		return na.Op, !na.Connect
	case errors.As(err, &se):
		return se.op, se.sent
	case errors.As(err, &re) && re.Response != nil && re.Response.Request != nil:
		return opName(re.Response.Request), true
	}
	return "", true
}

// newRetryer is the SDK's standard retryer (backoff with jitter, a retry
// quota) behind the rule of retryable.
func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = 5 * time.Second
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(retryable)}, o.Retryables...)
	})
}

// longPollKey marks a request that the server may hold open on purpose.
type longPollKey struct{}

// WithLongPoll returns a context whose requests may take d longer than the
// request timeout: the server holds them open that long by design.
func WithLongPoll(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, longPollKey{}, d)
}

type cutShortKey struct{}

// CutShort remembers the first request that its caller's context ended (a
// signal, a deadline): the SDK replaces that error with a bare "canceled",
// and shortfuse still says what it waited for, where and how long.
type CutShort struct {
	mu   sync.Mutex
	last *NoAnswerError
}

// WithCutShort returns a context whose requests report to the returned
// CutShort when the context ends them.
func WithCutShort(ctx context.Context) (context.Context, *CutShort) {
	cs := &CutShort{}
	return context.WithValue(ctx, cutShortKey{}, cs), cs
}

// record keeps the first request cut short: the one the signal stopped,
// not a clean-up call after it.
func (c *CutShort) record(na *NoAnswerError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = na
	}
}

// Last returns the first request cut short, or nil.
func (c *CutShort) Last() *NoAnswerError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// timeoutClient bounds each attempt by the request timeout (the answer's
// body included) and turns a request that got no answer into a
// *NoAnswerError.
type timeoutClient struct {
	next    aws.HTTPClient
	connect time.Duration
	request time.Duration
}

var errRequestTimeout = errors.New("request timeout")

// newTransport is the SDK's client with the connect timeout: a connection
// (TLS included) must be made within connect.
func newTransport(connect time.Duration) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = connect }).
		WithTransportOptions(func(t *http.Transport) { t.TLSHandshakeTimeout = connect })
}

func (c *timeoutClient) Do(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	limit := c.request
	if d, ok := parent.Value(longPollKey{}).(time.Duration); ok {
		limit += d
	}
	ctx, cancel := context.WithTimeoutCause(parent, limit, errRequestTimeout)
	start := time.Now()
	resp, err := c.next.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, c.classify(req, parent, ctx, start, limit, err)
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, cancel: cancel, fail: func(err error) error {
		return c.classify(req, parent, ctx, start, limit, err)
	}}
	return resp, nil
}

// classify turns the error of an attempt into a *NoAnswerError when a
// timeout or the caller ended it, and into a *sendError otherwise.
func (c *timeoutClient) classify(req *http.Request, parent, ctx context.Context, start time.Time, limit time.Duration, err error) error {
	na := &NoAnswerError{Op: opName(req), Endpoint: req.URL.Scheme + "://" + req.URL.Host, After: time.Since(start), Err: err}
	var oe *net.OpError
	dial := errors.As(err, &oe) && oe.Op == "dial"
	var te interface{ Timeout() bool }
	switch {
	case parent.Err() != nil:
		na.Interrupted, na.Connect, na.Err = true, dial, context.Cause(parent)
		if cs, ok := parent.Value(cutShortKey{}).(*CutShort); ok {
			cs.record(na)
		}
	case context.Cause(ctx) == errRequestTimeout:
		na.Limit = limit
	case errors.As(err, &te) && te.Timeout():
		// Only the dialer and the TLS handshake have timeouts of their own.
		na.Limit, na.Connect = c.connect, true
	default:
		return &sendError{op: na.Op, sent: !dial, err: err}
	}
	return na
}

// timedBody ends the attempt's context when the body is closed, and
// reports a read cut short by the timeout as a *NoAnswerError.
type timedBody struct {
	io.ReadCloser
	cancel context.CancelFunc
	fail   func(error) error
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.fail(err)
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// opName names the operation of a request, "service:Operation": from the
// SDK's middleware for its own requests, from X-Amz-Target otherwise
// ("shortfuse.Heartbeat").
func opName(req *http.Request) string {
	ctx := req.Context()
	if op := awsmiddleware.GetOperationName(ctx); op != "" {
		svc := strings.ToLower(strings.ReplaceAll(awsmiddleware.GetServiceID(ctx), " ", ""))
		return svc + ":" + op
	}
	if t := req.Header.Get("X-Amz-Target"); t != "" {
		if svc, op, ok := strings.Cut(t, "."); ok {
			return strings.ToLower(svc) + ":" + op
		}
	}
	return ""
}
