package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// testCore is what a test broker is made of, wired as `shortfuse server` wires it: a bolt
// store in a temp dir, its keys, IAM with a bootstrapped admin, and the session registry.
type testCore struct {
	st      *bolt.Store
	sealer  *seal.Sealer
	keyring *sessiontoken.Keyring
	iam     *iam.Service
	reg     *registry.Service
	admin   aws.Credentials
}

// newTestCore makes a core for account. IAM's clock is now (nil: time.Now).
func newTestCore(t testing.TB, account string, now func() time.Time) *testCore {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	ctx := context.Background()
	st, _ := testutil.TempStore(t)
	mk, err := seal.GenerateMasterKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keystore.LoadAccount(ctx, st, account, rand.Reader); err != nil {
		t.Fatal(err)
	}
	sealer, keyring, err := keystore.LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	svc := iam.New(st, sealer, account, now, rand.Reader)
	akid, secret, created, err := svc.Bootstrap(ctx, "admin")
	if err != nil || !created {
		t.Fatalf("Bootstrap() = %v, %v", created, err)
	}
	reg, err := registry.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	return &testCore{st: st, sealer: sealer, keyring: keyring, iam: svc, reg: reg,
		admin: aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}}
}

// deps returns the broker's dependencies over the core (without Secrets Manager).
func (c *testCore) deps() Deps {
	return Deps{IAM: c.iam, Keyring: c.keyring, Sessions: c.reg}
}

// secretsService is Secrets Manager over the core, on the clock now.
func (c *testCore) secretsService(now func() time.Time) *secrets.Service {
	return secrets.New(c.st, c.sealer, smAccount, "us-east-1", now, rand.Reader)
}

// debugLog is a logger at debug level whose lines are kept in memory.
func debugLog() (*testutil.Buffer, *slog.Logger) {
	logs := &testutil.Buffer{}
	return logs, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
