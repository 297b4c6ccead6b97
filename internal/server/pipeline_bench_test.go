package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	sdksm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/keystore"
)

// BenchmarkHandler measures the broker's own work per request: signed
// requests go straight into the HTTP handler (no network, no client), wired
// as `shortfuse server` wires it (bolt store, audit log with fsync, metrics,
// info-level log). cpu-µs/op is the process's CPU time per request, fsync
// and the audit's group commit included; allocs/op is exact.
//
//	go test -run '^$' -bench Handler -benchmem ./internal/server/
func BenchmarkHandler(b *testing.B) {
	ctx := context.Background()
	core := newTestCore(b, smAccount, nil)
	dir := b.TempDir()
	svc := core.secretsService(time.Now)
	auditKey, err := keystore.LoadAuditKey(ctx, core.st, core.sealer, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	alog, err := audit.Open(filepath.Join(dir, "audit.log"), audit.Options{MaxBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { alog.Close() })
	deps := core.deps()
	deps.Secrets = svc
	srv := New(Config{
		Account: smAccount, Region: "us-east-1", MaxSessionDuration: time.Hour,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Metrics:  NewMetrics(),
		Audit:    alog,
		Redactor: audit.NewRedactor(auditKey),
	}, deps)
	h := srv.Handler()
	hs := httptest.NewServer(h)
	b.Cleanup(hs.Close)

	creds := credentials.StaticCredentialsProvider{Value: core.admin}
	smc := sdksm.New(sdksm.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), Credentials: creds})
	if _, err := smc.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("bench/secret"), SecretString: aws.String(strings.Repeat("v", 64))}); err != nil {
		b.Fatal(err)
	}
	iamc := sdkiam.New(sdkiam.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), Credentials: creds})
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + smAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	role, err := iamc.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("bench"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		b.Fatal(err)
	}

	type call struct {
		name, service, body string
		header              http.Header
	}
	calls := []call{
		{"GetSecretValue", "secretsmanager", `{"SecretId":"bench/secret"}`, http.Header{
			"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"secretsmanager.GetSecretValue"}}},
		{"AssumeRole", "sts", "Action=AssumeRole&Version=2011-06-15&RoleSessionName=bench&RoleArn=" + *role.Role.Arn, http.Header{
			"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}},
		{"GetCallerIdentity", "sts", "Action=GetCallerIdentity&Version=2011-06-15", http.Header{
			"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			req, err := http.NewRequest("POST", hs.URL+"/", strings.NewReader(c.body))
			if err != nil {
				b.Fatal(err)
			}
			for k, v := range c.header {
				req.Header[k] = v
			}
			if err := v4.NewSigner().SignHTTP(ctx, core.admin, req, sha256Hex(c.body), c.service, "us-east-1", time.Now()); err != nil {
				b.Fatal(err)
			}
			req.RemoteAddr = "127.0.0.1:40000"
			body := []byte(c.body)
			b.ReportAllocs()
			audit0 := alog.Stats()
			cpu0 := benchCPU()
			b.ResetTimer()
			b.SetParallelism(16) // 32 requests in flight on 2 cores, as bench --concurrency 32
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := req.Clone(ctx)
					r.Body = io.NopCloser(bytes.NewReader(body))
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("%s: status %d: %s", c.name, w.Code, w.Body)
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(benchCPU()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
			audit1 := alog.Stats()
			if n := audit1.Records - audit0.Records; n > 0 {
				b.ReportMetric(float64(audit1.Syncs-audit0.Syncs)/float64(n), "audit-fsyncs/record")
			}
		})
	}
}

// benchCPU is the process's CPU time (user and system) in nanoseconds.
func benchCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
