package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

type testBroker struct {
	srv   *Server
	url   string
	clock *testutil.Clock
	admin aws.Credentials
}

// newTestBroker starts the broker of account 123456789012 on a test clock,
// with sessions capped at maxSession; extra adds operations to its table.
func newTestBroker(t *testing.T, maxSession time.Duration, extra func(*rpc.Mux)) *testBroker {
	t.Helper()
	b, _ := newTestBrokerWith(t, maxSession, nil)
	if extra != nil {
		extra(b.srv.mux)
	}
	return b
}

// newTestBrokerWith is newTestBroker whose dependencies more adds to, made
// over its core and on its clock. It returns the core too.
func newTestBrokerWith(t *testing.T, maxSession time.Duration, more func(core *testCore, clk *testutil.Clock, deps *Deps)) (*testBroker, *testCore) {
	t.Helper()
	clk := &testutil.Clock{}
	core := newTestCore(t, "123456789012", clk.Now)
	deps := core.deps()
	if more != nil {
		more(core, clk, &deps)
	}
	srv := New(Config{Account: "123456789012", Region: "us-east-1", MaxSessionDuration: maxSession, Now: clk.Now}, deps)
	return &testBroker{srv: srv, url: newTestServer(t, srv), clock: clk, admin: core.admin}, core
}

func (b *testBroker) sts(c aws.Credentials) *sts.Client {
	return sts.NewFromConfig(sdkConfig(b.url, c))
}

// TestSessionExpiryBoundary checks expiry to the second: valid at t−1 s,
// expired at t and t+1 s, and a forged token is never reported as expired.
func TestSessionExpiryBoundary(t *testing.T) {
	b := newTestBroker(t, 60*time.Second, nil)
	ctx := context.Background()
	out, err := b.sts(b.admin).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	exp := *out.Credentials.Expiration
	if d := time.Until(exp); d > 61*time.Second || d < 55*time.Second {
		t.Fatalf("Expiration in %v, want the 60 s cap", d)
	}
	sess := sessionCreds(out.Credentials)
	tampered := sess
	tampered.SessionToken = sess.SessionToken[:len(sess.SessionToken)-2] + "AA"
	if tampered.SessionToken == sess.SessionToken {
		tampered.SessionToken = sess.SessionToken[:len(sess.SessionToken)-2] + "BB"
	}
	tests := []struct {
		name   string
		at     time.Duration // relative to Expiration
		creds  aws.Credentials
		wantCo string
	}{
		{"ok/one-second-before", -time.Second, sess, ""},
		{"fail/at-expiry", 0, sess, "ExpiredToken"},
		{"fail/one-second-after", time.Second, sess, "ExpiredToken"},
		{"fail/forged-before-expiry", -time.Second, tampered, "InvalidClientTokenId"},
		{"fail/forged-after-expiry-is-not-an-oracle", time.Hour / 8, tampered, "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The SDK signs with the real clock; move the server's clock so
			// that "now" is Expiration+at when the request arrives.
			b.clock.Shift(time.Until(exp) + tt.at)
			defer b.clock.Shift(0)
			_, err := b.sts(tt.creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if got := errCode(err); got != tt.wantCo {
				t.Errorf("GetCallerIdentity() error code = %q (%v), want %q", got, err, tt.wantCo)
			}
		})
	}
}

// rawCall sends a hand-built Query request, signed by the SDK's signer with
// the given scope, and returns the status and body.
func rawCall(t *testing.T, b *testBroker, c aws.Credentials, body, service, region string, signTime time.Time) (int, string) {
	t.Helper()
	resp := signedPost(t, b.url, c, body, service, region, signTime, http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}})
	return resp.status, resp.body
}

// rawResponse is a response read whole.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// send sends req and reads its response whole.
func send(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

// signedRequest is a request of method to url with body and the headers
// hdr, signed by the SDK's signer with c for the given scope (unsigned if
// c has no key).
func signedRequest(t *testing.T, method, url string, c aws.Credentials, body, service, region string, signTime time.Time, hdr http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c.AccessKeyID != "" {
		if err := v4.NewSigner().SignHTTP(context.Background(), c, req, sha256Hex(body), service, region, signTime); err != nil {
			t.Fatal(err)
		}
	}
	return req
}

// signedPost posts body to url with the headers hdr, signed as
// signedRequest signs.
func signedPost(t *testing.T, url string, c aws.Credentials, body, service, region string, signTime time.Time, hdr http.Header) rawResponse {
	t.Helper()
	return send(t, signedRequest(t, "POST", url+"/", c, body, service, region, signTime, hdr))
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestDispatchAndAuthErrors(t *testing.T) {
	b := newTestBroker(t, time.Hour, func(m *rpc.Mux) {
		m.Query("sts", "TestPanic", rpc.Read, func(ctx context.Context, r *rpc.Request) (any, error) { panic("boom: secret-value-xyz") })
	})
	gci := "Action=GetCallerIdentity&Version=2011-06-15"
	now := time.Now()
	tests := []struct {
		name       string
		body       string
		creds      aws.Credentials
		service    string
		region     string
		signTime   time.Time
		wantStatus int
		wantCode   string
	}{
		{"ok/signed", gci, b.admin, "sts", "us-east-1", now, 200, ""},
		{"ok/iam-global-region", "Action=ListUsers&Version=2010-05-08", b.admin, "iam", "us-east-1", now, 200, ""},
		{"fail/unsigned", gci, aws.Credentials{}, "sts", "us-east-1", now, 403, "MissingAuthenticationToken"},
		{"fail/unknown-action", "Action=GetFlag&Version=2011-06-15", b.admin, "sts", "us-east-1", now, 400, "InvalidAction"},
		{"fail/unknown-version", "Action=GetCallerIdentity&Version=2099-01-01", b.admin, "sts", "us-east-1", now, 400, "InvalidAction"},
		{"fail/action-of-other-service", "Action=ListUsers&Version=2011-06-15", b.admin, "sts", "us-east-1", now, 400, "InvalidAction"},
		{"fail/duplicate-param", gci + "&Action=GetSessionToken", b.admin, "sts", "us-east-1", now, 400, "MalformedQueryString"},
		{"fail/wrong-region", gci, b.admin, "sts", "eu-west-1", now, 403, "SignatureDoesNotMatch"},
		{"fail/wrong-service-scope", gci, b.admin, "iam", "us-east-1", now, 403, "SignatureDoesNotMatch"},
		{"fail/clock-skew-past", gci, b.admin, "sts", "us-east-1", now.Add(-16 * time.Minute), 403, "SignatureDoesNotMatch"},
		{"fail/clock-skew-future", gci, b.admin, "sts", "us-east-1", now.Add(16 * time.Minute), 403, "SignatureDoesNotMatch"},
		{"ok/within-skew", gci, b.admin, "sts", "us-east-1", now.Add(-14 * time.Minute), 200, ""},
		{"fail/unknown-key", gci, aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "x"}, "sts", "us-east-1", now, 403, "InvalidClientTokenId"},
		{"fail/session-key-without-token", gci, aws.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "x"}, "sts", "us-east-1", now, 403, "InvalidClientTokenId"},
		{"fail/long-term-key-with-token", gci, aws.Credentials{AccessKeyID: b.admin.AccessKeyID, SecretAccessKey: b.admin.SecretAccessKey, SessionToken: "abc"}, "sts", "us-east-1", now, 403, "InvalidClientTokenId"},
		{"fail/panic-is-internal", "Action=TestPanic&Version=2011-06-15", b.admin, "sts", "us-east-1", now, 500, "InternalFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := rawCall(t, b, tt.creds, tt.body, tt.service, tt.region, tt.signTime)
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d\n%s", status, tt.wantStatus, body)
			}
			if tt.wantCode != "" && !strings.Contains(body, "<Code>"+tt.wantCode+"</Code>") {
				t.Errorf("body does not carry code %s:\n%s", tt.wantCode, body)
			}
			if strings.Contains(body, "secret-value-xyz") || strings.Contains(body, b.admin.SecretAccessKey) {
				t.Errorf("response leaks internal or secret text:\n%s", body)
			}
		})
	}
}

// TestPresignedGetCallerIdentity: a presigned URL (as used to prove an
// identity to a third party) verifies, and stops verifying when it expires.
func TestPresignedGetCallerIdentity(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	withExpires := func(o *sts.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Build.Add(middleware.BuildMiddlewareFunc("XAmzExpires",
				func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						req.Header.Set("X-Amz-Expires", "60") // the presigner hoists it into the query
					}
					return next.HandleBuild(ctx, in)
				}), middleware.After)
		})
	}
	client := sts.NewFromConfig(sdkConfig(b.url, b.admin), withExpires)
	ps := sts.NewPresignClient(client)
	pr, err := ps.PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(pr.URL)
	if u.Query().Get("X-Amz-Expires") != "60" {
		t.Fatalf("presigned URL has no X-Amz-Expires=60: %s", pr.URL)
	}
	do := func(accept ...string) (int, string) {
		req, _ := http.NewRequest(pr.Method, pr.URL, nil)
		for k, v := range pr.SignedHeader {
			req.Header[k] = v
		}
		for _, a := range accept {
			req.Header.Set("Accept", a)
		}
		resp := send(t, req)
		return resp.status, resp.body
	}
	if status, body := do(); status != 200 || !strings.Contains(body, ":user/admin") {
		t.Fatalf("presigned call: %d %s", status, body)
	}
	// Identity verifiers (aws-iam-authenticator, Vault's aws auth) ask for
	// JSON and read AWS's envelope.
	status, body := do("application/json")
	var doc struct {
		GetCallerIdentityResponse struct {
			GetCallerIdentityResult struct{ Account, Arn, UserId string }
			ResponseMetadata        struct{ RequestId string }
		}
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || status != 200 {
		t.Fatalf("presigned call, JSON: %d %v %s", status, err, body)
	}
	if r := doc.GetCallerIdentityResponse; r.GetCallerIdentityResult.Account != "123456789012" || !strings.HasSuffix(r.GetCallerIdentityResult.Arn, ":user/admin") || r.ResponseMetadata.RequestId == "" {
		t.Errorf("JSON envelope %s", body)
	}
	b.clock.Shift(61 * time.Second)
	if status, body := do(); status == 200 || !strings.Contains(body, "<Code>RequestExpired</Code>") {
		t.Fatalf("expired presigned call: %d %s", status, body)
	}
	if status, body := do("application/json"); status == 200 || !strings.Contains(body, `"Code":"RequestExpired"`) {
		t.Fatalf("expired presigned call, JSON: %d %s", status, body)
	}
}
