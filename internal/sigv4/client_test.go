package sigv4

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// verifyingServer is a loopback HTTP server that authenticates every request the way the
// broker will, and records the outcome. Its answers are empty: the tests look at what the
// server decided, not at what the client made of the answer.
type verifyingServer struct {
	*httptest.Server
	mu      sync.Mutex
	results []error
}

func newVerifyingServer(t *testing.T, service, secret string) *verifyingServer {
	t.Helper()
	s := &verifyingServer{}
	v := NewVerifier()
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = parseAndVerify(v, r, secret, Options{
				Region: "us-east-1", Service: service, Now: time.Now(), MaxSkew: 5 * time.Minute, Body: body,
			})
		}
		s.mu.Lock()
		s.results = append(s.results, err)
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *verifyingServer) take(t *testing.T) []error {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.results
	s.results = nil
	if len(out) == 0 {
		t.Fatal("the server received no request")
	}
	return out
}

func sdkConfig(akid, secret, token string) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, token),
		RetryMaxAttempts: 1,
	}
}

// TestSDKClients sends real calls from the SDK's service clients (their whole middleware
// stack: invocation-id and retry headers, X-Amz-Target, form and JSON bodies) to a
// verifying server on the loopback interface.
func TestSDKClients(t *testing.T) {
	ctx := context.Background()
	calls := map[string]struct {
		service string
		call    func(cfg aws.Config, endpoint string) error
	}{
		"sts-GetCallerIdentity": {"sts", func(cfg aws.Config, endpoint string) error {
			_, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) }).
				GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}},
		"sts-AssumeRole": {"sts", func(cfg aws.Config, endpoint string) error {
			_, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) }).
				AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/ci deploy+/é"), RoleSessionName: aws.String("job 42")})
			return err
		}},
		"iam-ListUsers": {"iam", func(cfg aws.Config, endpoint string) error {
			_, err := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) }).
				ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/ci/")})
			return err
		}},
		"secretsmanager-GetSecretValue": {"secretsmanager", func(cfg aws.Config, endpoint string) error {
			_, err := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(endpoint) }).
				GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("/prod/db password")})
			return err
		}},
	}
	for name, c := range calls {
		for _, tc := range []struct {
			name          string
			token, secret string
			want          Reason
		}{
			{"ok/long-term-key", "", testSecret, 0},
			{"ok/session-token", "FwoGZXIvYXdzEXAMPLE/token+==", testSecret, 0},
			{"fail/wrong-secret", "", testSecret + "x", ReasonSignature},
		} {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				srv := newVerifyingServer(t, c.service, testSecret)
				_ = c.call(sdkConfig(testAKID, tc.secret, tc.token), srv.URL) // the answer is empty; only the server's verdict matters
				for _, err := range srv.take(t) {
					wantReason(t, "server Verify()", err, tc.want)
				}
			})
		}
	}
}

// TestSDKPresignGetCallerIdentity checks URLs from the STS presign client, the way CI
// systems hand an identity proof to a third party.
func TestSDKPresignGetCallerIdentity(t *testing.T) {
	withExpires := func(o *sts.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Build.Add(middleware.BuildMiddlewareFunc("XAmzExpires",
				func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						req.Header.Set("X-Amz-Expires", "60") // hoisted into the query by the presigner
					}
					return next.HandleBuild(ctx, in)
				}), middleware.After)
		})
	}
	tests := []struct {
		name    string
		expires bool
		want    Reason
	}{
		{"ok/with-x-amz-expires", true, 0},
		{"fail/without-x-amz-expires", false, ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newVerifyingServer(t, "sts", testSecret)
			opts := []func(*sts.Options){func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) }}
			if tt.expires {
				opts = append(opts, withExpires)
			}
			pc := sts.NewPresignClient(sts.NewFromConfig(sdkConfig(testAKID, testSecret, "tok"), opts...))
			p, err := pc.PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequest(p.Method, p.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range p.SignedHeader {
				if k != "Host" {
					req.Header[k] = vs
				}
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for _, err := range srv.take(t) {
				wantReason(t, "server Verify()", err, tt.want)
			}
		})
	}
}
