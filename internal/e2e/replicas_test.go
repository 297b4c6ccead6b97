package e2e

import (
	"context"
	"encoding/base64"
	binenc "encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
)

// startReplicas starts n brokers over one new PostgreSQL database, each
// with its own data directory; the first creates the master key, which the
// others are given. They start together after the first, as replicas
// behind a load balancer do.
func startReplicas(t *testing.T, n int, extra ...string) (dsn string, rs []*broker) {
	t.Helper()
	dsn = pgtest.NewDatabase(t)
	first := startBroker(t, "", append([]string{"--store", dsn}, extra...)...)
	rs = append(rs, first)
	key := filepath.Join(first.dir, "master.key")
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := startBroker(t, "", append([]string{"--store", dsn, "--master-key-file", key}, extra...)...)
			mu.Lock()
			rs = append(rs, b)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(rs) != n {
		t.FailNow()
	}
	return dsn, rs
}

// tokenKeyID reads the id of the server key that sealed a session token
// (its header: "sfs1." then base64url of version, key id, ...).
func tokenKeyID(t *testing.T, token string) uint32 {
	t.Helper()
	body, ok := strings.CutPrefix(token, "sfs1.")
	if !ok {
		t.Fatalf("session token has no sfs1. prefix")
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < 5 {
		t.Fatalf("session token does not decode: %v", err)
	}
	return binenc.BigEndian.Uint32(raw[1:5])
}

func sessionCreds(t *testing.T, b *broker, c creds) creds {
	t.Helper()
	out, err := b.stsClient(c).GetSessionToken(t.Context(), &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("GetSessionToken on %s: %v", b.url, err)
	}
	return stsCreds(out.Credentials)
}

func callerIdentity(ctx context.Context, b *broker, c creds) error {
	_, err := b.stsClient(c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	return err
}

// enforcedWithin polls b with the session c from start until a call is
// refused, and returns how long after start that was; it fails the test if
// no refusal comes within limit.
func enforcedWithin(t *testing.T, b *broker, c creds, start time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for {
		err := callerIdentity(t.Context(), b, c)
		if err != nil {
			if !strings.Contains(err.Error(), "ExpiredToken") && !strings.Contains(err.Error(), "InvalidClientTokenId") && !strings.Contains(err.Error(), "revoked") {
				t.Fatalf("call on %s refused for another reason: %v", b.url, err)
			}
			return time.Since(start)
		}
		if d := time.Since(start); d > limit {
			t.Fatalf("the revocation was not enforced on %s within %s", b.url, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestReplicas runs three brokers over one PostgreSQL database.
func TestReplicas(t *testing.T) {
	dsn, rs := startReplicas(t, 3)
	a, b, c := rs[0], rs[1], rs[2]
	admin := a.adminCreds()
	for _, r := range rs[1:] {
		if _, err := os.Stat(r.adminCredentialsFile()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("replica %s wrote an admin-credentials file although it did not create the admin (%v)", r.url, err)
		}
	}
	ctx := t.Context()

	t.Run("ok/write-on-one-read-on-the-others-at-once", func(t *testing.T) {
		if _, err := a.iamClient(admin).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("replicated")}); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*broker{b, c} {
			if _, err := r.iamClient(admin).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("replicated")}); err != nil {
				t.Errorf("GetUser on %s right after CreateUser on %s: %v", r.url, a.url, err)
			}
		}
		if _, err := b.smClient(admin).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("/prod/replicated"), SecretString: aws.String("v1")}); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*broker{a, c} {
			out, err := r.smClient(admin).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("/prod/replicated")})
			if err != nil || aws.ToString(out.SecretString) != "v1" {
				t.Errorf("GetSecretValue on %s right after CreateSecret on %s: %v", r.url, b.url, err)
			}
		}
	})

	t.Run("ok/session-minted-on-one-works-on-all", func(t *testing.T) {
		for _, minter := range rs {
			s := sessionCreds(t, minter, admin)
			for _, r := range rs {
				if err := callerIdentity(ctx, r, s); err != nil {
					t.Errorf("session minted on %s refused on %s: %v", minter.url, r.url, err)
				}
			}
		}
	})

	t.Run("ok/revocation-enforced-on-the-others-within-1s", func(t *testing.T) {
		for i, via := range rs {
			s := sessionCreds(t, rs[(i+1)%3], admin)
			for _, r := range rs {
				if err := callerIdentity(ctx, r, s); err != nil {
					t.Fatalf("fresh session refused on %s: %v", r.url, err)
				}
			}
			// Poll while revoking, so that the measured delay starts when
			// the revocation is acknowledged.
			if err := brokerapi.New(via.sdkConfig(admin), via.url).RevokeSession(ctx, s.AccessKeyID); err != nil {
				t.Fatalf("RevokeSession on %s: %v", via.url, err)
			}
			start := time.Now()
			for _, r := range rs {
				if r == via {
					if err := callerIdentity(ctx, r, s); err == nil {
						t.Errorf("revoked session still accepted by the replica that revoked it")
					}
					continue
				}
				d := enforcedWithin(t, r, s, start, time.Second)
				t.Logf("revoked on replica %d, enforced on %s after %s", i+1, r.url, d.Round(100*time.Microsecond))
			}
		}
	})

	t.Run("ok/principal-revocation-enforced-on-the-others-within-1s", func(t *testing.T) {
		ci := newUserSDK(t, a, "ci", "")
		s := sessionCreds(t, c, ci)
		arn := "arn:aws:iam::" + accountOf(t, a, admin) + ":user/ci"
		time.Sleep(1100 * time.Millisecond) // revocation is to the second: issued strictly before
		if _, err := brokerapi.New(a.sdkConfig(admin), a.url).RevokeSessions(ctx, arn, time.Now()); err != nil {
			t.Fatalf("RevokeSessions: %v", err)
		}
		start := time.Now()
		for _, r := range []*broker{b, c} {
			d := enforcedWithin(t, r, s, start, time.Second)
			t.Logf("sessions of %s revoked on %s, enforced on %s after %s", arn, a.url, r.url, d.Round(100*time.Microsecond))
		}
	})

	t.Run("ok/replica-metrics", func(t *testing.T) {
		text := metricsText(t, c)
		for _, name := range []string{"shortfuse_feed_lag ", "shortfuse_store_retries_total ", "shortfuse_store_gave_up_total 0"} {
			if !strings.Contains(text, "\n"+name) {
				t.Errorf("/metrics lacks %q", name)
			}
		}
	})

	t.Run("ok/session-key-rotation-keeps-live-sessions", func(t *testing.T) {
		old := sessionCreds(t, b, admin)
		before := tokenKeyID(t, old.SessionToken)
		// Rotate through the store, beside the running replicas.
		out, err := runBinary(t, "keys", "rotate", "--session-key", "--store", dsn, "--data", t.TempDir(), "--master-key-file", filepath.Join(a.dir, "master.key"))
		if err != nil {
			t.Fatalf("keys rotate: %v\n%s", err, out)
		}
		deadline := time.Now().Add(time.Second)
		for _, r := range rs {
			for {
				s := sessionCreds(t, r, admin)
				if tokenKeyID(t, s.SessionToken) == before+1 {
					for _, other := range rs {
						if err := callerIdentity(ctx, other, s); err != nil {
							t.Errorf("session of the new key minted on %s refused on %s: %v", r.url, other.url, err)
						}
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still mints with key %d a second after the rotation", r.url, before)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		for _, r := range rs {
			if err := callerIdentity(ctx, r, old); err != nil {
				t.Errorf("session of the replaced key refused on %s: %v", r.url, err)
			}
		}
	})
}

func accountOf(t *testing.T, b *broker, c creds) string {
	t.Helper()
	out, err := b.stsClient(c).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Account)
}
