package bench

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/server"
	"github.com/shortfuse/shortfuse/internal/sessions"
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
	account, err := server.LoadAccount(ctx, st, "", rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	sealer, keyring, err := server.LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	iamSvc := iam.New(st, sealer, account, time.Now, rand.Reader)
	secretsSvc := secrets.New(st, sealer, account, "us-east-1", time.Now, rand.Reader)
	akid, secret, _, err := iamSvc.Bootstrap(ctx, "admin")
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := sessions.New(ctx, st)
	if err != nil {
		tb.Fatal(err)
	}
	auditKey, err := server.LoadAuditKey(ctx, st, sealer, rand.Reader)
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

// TestInProcessBroker runs the load generator briefly against the broker
// for every operation the broker serves.
func TestInProcessBroker(t *testing.T) {
	url, creds := startInProcessBroker(t)
	for _, op := range Ops() {
		t.Run("ok/"+string(op), func(t *testing.T) {
			cfg := quickConfig(url, op)
			cfg.AWS.Credentials = creds
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Run() = %v", err)
			}
			checkSane(t, string(op), res.Stats)
			if res.Errors != 0 || len(res.Warnings) != 0 {
				t.Errorf("errors %v (%v), warnings %v; want none", res.ErrorsByCode, res.ErrorSamples, res.Warnings)
			}
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
				if err := cfg.validate(); err != nil {
					b.Fatal(err)
				}
				hc := newHTTPClient(cfg.Concurrency)
				defer hc.CloseIdleConnections()
				cfg.HTTPClient = hc
				cl := newClients(cfg, creds)
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
