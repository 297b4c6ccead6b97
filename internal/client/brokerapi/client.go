package brokerapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"

	"github.com/shortfuse/shortfuse/internal/client/awsconf"
)

// ServiceName is the SigV4 service name and X-Amz-Target prefix.
const ServiceName = "shortfuse"

const contentType = "application/x-amz-json-1.1"

// maxResponse bounds a response body.
const maxResponse = 4 << 20

// ErrUnsupported is matched (errors.Is) by the error of a call to an
// endpoint that does not offer the shortfuse service.
var ErrUnsupported = errors.New("the endpoint does not offer the shortfuse service")

// HTTPDoer sends one HTTP request; *http.Client and the SDK's
// aws.HTTPClient satisfy it.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client calls the shortfuse service. Its zero Endpoint makes every call
// fail with ErrUnsupported.
type Client struct {
	Endpoint    string // base URL of the broker, e.g. https://broker:7575
	Region      string
	Credentials aws.CredentialsProvider
	HTTP        HTTPDoer
	Now         func() time.Time
}

// New returns a Client that signs with cfg's credentials and region and
// sends through cfg's HTTP client (or a default with a 30 s timeout).
func New(cfg aws.Config, endpoint string) *Client {
	var doer HTTPDoer = &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		doer = cfg.HTTPClient
	}
	return &Client{Endpoint: endpoint, Region: cfg.Region, Credentials: cfg.Credentials, HTTP: doer, Now: time.Now}
}

// Error is an error answer of the service.
type Error struct {
	Code       string
	Message    string
	StatusCode int
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// ErrorCode, ErrorMessage and ErrorFault make Error a smithy.APIError.
func (e *Error) ErrorCode() string    { return e.Code }
func (e *Error) ErrorMessage() string { return e.Message }
func (e *Error) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// Is makes an unknown-operation answer match ErrUnsupported.
func (e *Error) Is(target error) bool {
	if target != ErrUnsupported {
		return false
	}
	switch e.Code {
	case "UnknownOperationException", "UnknownOperation", "InvalidAction":
		return true
	}
	return false
}

var _ smithy.APIError = (*Error)(nil)

// IsSessionRefused reports whether err says that the calling session is no
// longer accepted: expired, revoked, used up or abandoned. It works for
// errors of this package and of the AWS SDK.
func IsSessionRefused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
		return true
	}
	return false
}

// callFor is call for an operation whose output is an O, which it returns.
func callFor[O any](ctx context.Context, c *Client, op string, in any) (*O, error) {
	out := new(O)
	if err := c.call(ctx, op, in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// call sends one operation and decodes the answer into out (if not nil).
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	if c.Endpoint == "" {
		return fmt.Errorf("shortfuse.%s: %w (no endpoint configured: this is AWS itself)", op, ErrUnsupported)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	url := strings.TrimSuffix(c.Endpoint, "/") + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("shortfuse.%s: bad endpoint: %w", op, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", ServiceName+"."+op)
	if c.Credentials == nil {
		return fmt.Errorf("shortfuse.%s: no credentials", op)
	}
	creds, err := c.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("shortfuse.%s: credentials: %w", op, err)
	}
	sum := sha256.Sum256(body)
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), ServiceName, c.Region, now()); err != nil {
		return fmt.Errorf("shortfuse.%s: sign: %w", op, err)
	}
	doer := c.HTTP
	if doer == nil {
		doer = http.DefaultClient
	}
	resp, err := doer.Do(req)
	if errors.As(err, new(*awsconf.NoAnswerError)) {
		return err // it names the operation itself
	}
	if err != nil {
		return fmt.Errorf("shortfuse.%s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("shortfuse.%s: reading the answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("shortfuse.%s: %w", op, decodeError(resp, data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("shortfuse.%s: the answer is not the expected JSON", op)
	}
	return nil
}

// decodeError reads a JSON 1.1 error: {"__type": "Code", "message": "..."},
// where __type may carry a namespace ("ns#Code") and the code may also come
// in the X-Amzn-Errortype header ("Code:http://...").
func decodeError(resp *http.Response, data []byte) *Error {
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(data, &e)
	code := e.Type
	if code == "" {
		code, _, _ = strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	msg := e.Message
	if msg == "" {
		msg = e.MessageU
	}
	if code == "" {
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			code = "UnknownOperationException"
		} else {
			code = fmt.Sprintf("HTTP%d", resp.StatusCode)
		}
		msg = http.StatusText(resp.StatusCode)
	}
	return &Error{Code: code, Message: oneLine(msg, 300), StatusCode: resp.StatusCode}
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
