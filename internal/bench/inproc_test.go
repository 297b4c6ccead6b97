package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/server"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

// startInProcessBroker wires the broker as `shortfuse server` does (bolt
// store and audit log in a temp dir, request logs at info level, metrics)
// behind an
// httptest server, so that a CPU profile of a benchmark covers the broker's
// request path. It returns the URL and the admin's credentials.
func startInProcessBroker(tb testing.TB) (string, aws.CredentialsProvider) {
	tb.Helper()
	return startInProcessBrokerTTL(tb, 0)
}

// startInProcessBrokerTTL is startInProcessBroker with a principal cache
// TTL (0: the default; negative: no cache), to measure what the cache buys.
func startInProcessBrokerTTL(tb testing.TB, principalCacheTTL time.Duration) (string, aws.CredentialsProvider) {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "shortfuse.db"), bolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	mk, err := seal.GenerateMasterKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	account, err := keystore.LoadAccount(ctx, st, "", rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	sealer, keyring, err := keystore.LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	iamSvc := iam.New(st, sealer, account, time.Now, rand.Reader)
	secretsSvc := secrets.New(st, sealer, account, "us-east-1", time.Now, rand.Reader)
	akid, secret, _, err := iamSvc.Bootstrap(ctx, "admin")
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := registry.New(ctx, st)
	if err != nil {
		tb.Fatal(err)
	}
	auditKey, err := keystore.LoadAuditKey(ctx, st, sealer, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	auditLog, err := audit.Open(filepath.Join(dir, "audit.log"), audit.Options{MaxBytes: 64 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := server.New(server.Config{
		Account:            account,
		Region:             "us-east-1",
		MaxSessionDuration: time.Hour,
		Logger:             logger,
		Metrics:            server.NewMetrics(),
		Audit:              auditLog,
		Redactor:           audit.NewRedactor(auditKey),
		PrincipalCacheTTL:  principalCacheTTL,
	}, server.Deps{IAM: iamSvc, Keyring: keyring, Sessions: reg, Secrets: secretsSvc})
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		hs.Close()
		auditLog.Close()
	})
	return hs.URL, credentials.NewStaticCredentialsProvider(akid, secret, "")
}

// runClients validates cfg and returns the clients a run of it sends with,
// over an HTTP client of its own (set in cfg) whose idle connections close
// when tb ends.
func runClients(tb testing.TB, cfg *Config, creds aws.CredentialsProvider) *clients {
	tb.Helper()
	if err := cfg.validate(); err != nil {
		tb.Fatal(err)
	}
	hc := newHTTPClient(cfg.Concurrency)
	tb.Cleanup(hc.CloseIdleConnections)
	cfg.HTTPClient = hc
	return newClients(*cfg, creds)
}

// TestInProcessBroker runs the load generator briefly against the broker
// for every operation the broker serves.
func TestInProcessBroker(t *testing.T) {
	url, creds := startInProcessBroker(t)
	for _, op := range Ops() {
		t.Run("ok/"+string(op), func(t *testing.T) {
			cfg := quickConfig(url, op)
			cfg.AWS.Credentials = creds
			runClean(t, string(op), cfg)
		})
	}
}

// BenchmarkInProcess measures each operation against the in-process broker
// and against the ceiling, with the SDK client, at 16 goroutines per
// GOMAXPROCS (32 on 2 cores). Client and server share the process, so the
// figures are for profiling (-cpuprofile) and comparison, not sizing:
//
//	go test -run '^$' -bench 'InProcess/broker/get-session-token' -cpuprofile cpu.out ./internal/bench/
//	go tool pprof -top -focus 'server\.' cpu.out
func BenchmarkInProcess(b *testing.B) {
	for _, target := range []string{"broker", "broker-nocache", "ceiling"} {
		for _, op := range []Op{GetSecretValue, AssumeRole, GetSessionToken, PutSecretValue} {
			b.Run(target+"/"+string(op), func(b *testing.B) {
				var url string
				var creds aws.CredentialsProvider
				switch target {
				case "broker":
					url, creds = startInProcessBroker(b)
				case "broker-nocache":
					url, creds = startInProcessBrokerTTL(b, -1)
				default:
					hs := httptest.NewServer(NewCeilingHandler())
					b.Cleanup(hs.Close)
					url, creds = hs.URL, testAWS().Credentials
				}
				const parallelism = 16
				cfg := quickConfig(url, op)
				cfg.AWS.Credentials = creds
				cfg.Concurrency = parallelism * 2
				cl := runClients(b, &cfg, creds)
				ctx := context.Background()
				fx, err := prepare(ctx, cfg, cl)
				defer func() {
					if w := fx.cleanup(ctx); len(w) > 0 {
						b.Error(w)
					}
				}()
				if err != nil {
					b.Fatal(err)
				}
				b.SetParallelism(parallelism)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					call := fx.workerCalls(cl)[op]
					for pb.Next() {
						if err := call(ctx); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				fx.stopBackground()
			})
		}
	}
}

// requestLog is an HTTP client that records, for each operation sent, the
// access key ids that signed it.
type requestLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	keys map[string]map[string]int // operation → access key id → requests
}

func newRequestLog(concurrency int) (*requestLog, *http.Client) {
	hc := newHTTPClient(concurrency)
	rl := &requestLog{next: hc.Transport, keys: map[string]map[string]int{}}
	hc.Transport = rl
	return rl, hc
}

func (rl *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	op := ""
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		_, op, _ = strings.Cut(target, ".")
	} else if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		op = queryAction(body)
	}
	_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	key, _, _ := strings.Cut(cred, "/")
	rl.mu.Lock()
	if rl.keys[op] == nil {
		rl.keys[op] = map[string]int{}
	}
	rl.keys[op][key]++
	rl.mu.Unlock()
	return rl.next.RoundTrip(r)
}

func (rl *requestLog) count(op string) int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	n := 0
	for _, c := range rl.keys[op] {
		n += c
	}
	return n
}

// signers returns how many requests of op each access key id signed.
func (rl *requestLog) signers(op string) map[string]int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return maps.Clone(rl.keys[op])
}

// leftovers lists the users, groups and customer managed policies whose
// names start with shortfuse-bench-.
func leftovers(t *testing.T, cl *iamsdk.Client) []string {
	t.Helper()
	left := benchNames(t, "user", iamsdk.NewListUsersPaginator(cl, &iamsdk.ListUsersInput{}),
		func(p *iamsdk.ListUsersOutput) []iamtypes.User { return p.Users },
		func(u iamtypes.User) *string { return u.UserName })
	left = append(left, benchNames(t, "group", iamsdk.NewListGroupsPaginator(cl, &iamsdk.ListGroupsInput{}),
		func(p *iamsdk.ListGroupsOutput) []iamtypes.Group { return p.Groups },
		func(g iamtypes.Group) *string { return g.GroupName })...)
	return append(left, benchNames(t, "policy", iamsdk.NewListPoliciesPaginator(cl, &iamsdk.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal}),
		func(p *iamsdk.ListPoliciesOutput) []iamtypes.Policy { return p.Policies },
		func(p iamtypes.Policy) *string { return p.PolicyName })...)
}

// iamPages is an IAM list paginator with pages of type P.
type iamPages[P any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*iamsdk.Options)) (P, error)
}

// benchNames reads every page of pages and lists, as "kind name", the
// names of the items whose names start with shortfuse-bench-.
func benchNames[P, I any](t *testing.T, kind string, pages iamPages[P], items func(P) []I, name func(I) *string) []string {
	t.Helper()
	var left []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items(page) {
			if n := aws.ToString(name(it)); strings.HasPrefix(n, "shortfuse-bench-") {
				left = append(left, kind+" "+n)
			}
		}
	}
	return left
}

// TestInProcessPrincipalPolicies runs the secrets operations against the
// broker as a user with 1, 10 and 25 managed policies (25: 10 on the user,
// 10 and 5 on two groups), checks that the load ran as that user without
// an error, and that nothing of it is left.
func TestInProcessPrincipalPolicies(t *testing.T) {
	url, creds := startInProcessBroker(t)
	admin := newClients(Config{AWS: testAWS(), Endpoint: url, Concurrency: 1}, creds).iam
	adminKey, err := creds.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 10, 25} {
		for _, op := range []Op{GetSecretValue, PutSecretValue} {
			t.Run(fmt.Sprintf("ok/%s-%d", op, n), func(t *testing.T) {
				cfg := quickConfig(url, op)
				cfg.AWS.Credentials = creds
				cfg.PrincipalPolicies = n
				rl, hc := newRequestLog(cfg.Concurrency)
				cfg.HTTPClient = hc
				res := runClean(t, string(op), cfg)
				onUser := min(n, policiesPerEntity)
				groups := (n - onUser + policiesPerEntity - 1) / policiesPerEntity
				for action, want := range map[string]int{
					"CreatePolicy": n, "DeletePolicy": n,
					"AttachUserPolicy": onUser, "DetachUserPolicy": onUser,
					"AttachGroupPolicy": n - onUser, "DetachGroupPolicy": n - onUser,
					"CreateGroup": groups, "AddUserToGroup": groups, "RemoveUserFromGroup": groups, "DeleteGroup": groups,
				} {
					if got := rl.count(action); got != want {
						t.Errorf("%s sent %d times, want %d", action, got, want)
					}
				}
				// The load ran as the fixture user; the admin sent only the
				// read that waits for the fixture secret.
				apiName := map[Op]string{GetSecretValue: "GetSecretValue", PutSecretValue: "PutSecretValue"}[op]
				signers := rl.signers(apiName)
				byAdmin := signers[adminKey.AccessKeyID]
				delete(signers, adminKey.AccessKeyID)
				if byAdmin > 1 || len(signers) != 1 {
					t.Errorf("%s signed by %v and %d times by the admin, want one other key", apiName, signers, byAdmin)
				}
				for key, n := range signers {
					if key == "" || uint64(n) < res.Requests {
						t.Errorf("%s: %d requests signed by %q, want the %d measured", apiName, n, key, res.Requests)
					}
				}
				if left := leftovers(t, admin); len(left) > 0 {
					t.Errorf("left behind: %v", left)
				}
			})
		}
	}
}

// TestInProcessPrincipalPoliciesNeedTheLastPolicy checks that the fixture
// user's requests are allowed by its last policy alone: taking away a
// decoy changes nothing, taking away the last policy (detached from the
// user, or the user removed from the group that has it) denies them,
// although other decoys remain. The
// cleanup then finds some fixtures already gone, which is no warning, and
// leaves nothing.
func TestInProcessPrincipalPoliciesNeedTheLastPolicy(t *testing.T) {
	url, creds := startInProcessBroker(t)
	admin := newClients(Config{AWS: testAWS(), Endpoint: url, Concurrency: 1}, creds).iam
	tests := []struct {
		name string
		op   Op
		n    int
		// decoy takes a decoy policy away; revoke takes the last one away.
		decoy, revoke func(ctx context.Context, fx *fixtures) error
	}{
		{
			name: "ok/get-secret-value-3-on-user",
			op:   GetSecretValue,
			n:    3,
			decoy: func(ctx context.Context, fx *fixtures) error {
				_, err := admin.DetachUserPolicy(ctx, &iamsdk.DetachUserPolicyInput{UserName: aws.String(fx.ppUser), PolicyArn: aws.String(fx.ppPolicies[0])})
				return err
			},
			revoke: func(ctx context.Context, fx *fixtures) error {
				arn := aws.String(fx.ppPolicies[2])
				if _, err := admin.DetachUserPolicy(ctx, &iamsdk.DetachUserPolicyInput{UserName: aws.String(fx.ppUser), PolicyArn: arn}); err != nil {
					return err
				}
				_, err := admin.DeletePolicy(ctx, &iamsdk.DeletePolicyInput{PolicyArn: arn})
				return err
			},
		},
		{
			name: "ok/put-secret-value-12-last-on-group",
			op:   PutSecretValue,
			n:    12,
			decoy: func(ctx context.Context, fx *fixtures) error {
				_, err := admin.DetachGroupPolicy(ctx, &iamsdk.DetachGroupPolicyInput{GroupName: aws.String(fx.ppGroups[0]), PolicyArn: aws.String(fx.ppPolicies[10])})
				return err
			},
			revoke: func(ctx context.Context, fx *fixtures) error {
				_, err := admin.RemoveUserFromGroup(ctx, &iamsdk.RemoveUserFromGroupInput{GroupName: aws.String(fx.ppGroups[0]), UserName: aws.String(fx.ppUser)})
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := quickConfig(url, tt.op)
			cfg.AWS.Credentials = creds
			cfg.PrincipalPolicies = tt.n
			cl := runClients(t, &cfg, creds)
			fx, err := prepare(ctx, cfg, cl)
			cleaned := false
			defer func() {
				if !cleaned {
					fx.cleanup(ctx)
				}
			}()
			if err != nil {
				t.Fatalf("prepare() = %v", err)
			}
			if len(fx.ppPolicies) != tt.n {
				t.Fatalf("%d policies made, want %d", len(fx.ppPolicies), tt.n)
			}
			call := fx.workerCalls(cl)[tt.op]
			if err := call(ctx); err != nil {
				t.Fatalf("with every policy: %v", err)
			}
			if err := tt.decoy(ctx, fx); err != nil {
				t.Fatal(err)
			}
			if err := call(ctx); err != nil {
				t.Fatalf("without a decoy policy: %v, want success", err)
			}
			if err := tt.revoke(ctx, fx); err != nil {
				t.Fatal(err)
			}
			err = call(ctx)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
				t.Fatalf("without the last policy: %v, want AccessDeniedException", err)
			}
			cleaned = true
			if w := fx.cleanup(ctx); len(w) > 0 {
				t.Errorf("cleanup warnings %v, want none", w)
			}
			if left := leftovers(t, admin); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
