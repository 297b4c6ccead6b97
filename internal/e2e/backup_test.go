package e2e

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
)

// mustRun runs the binary and fails the test unless it exits 0 and its
// output contains want.
func mustRun(t *testing.T, want string, args ...string) string {
	t.Helper()
	out, err := runBinary(t, args...)
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("shortfuse %s: %v, want output containing %q:\n%s", strings.Join(args, " "), err, want, out)
	}
	return out
}

// mustFail runs the binary and fails the test unless it exits non-zero
// and its output contains want.
func mustFail(t *testing.T, want string, args ...string) {
	t.Helper()
	out, err := runBinary(t, args...)
	if err == nil || !strings.Contains(out, want) {
		t.Fatalf("shortfuse %s: %v, want a failure containing %q:\n%s", strings.Join(args, " "), err, want, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func newDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestBackupRestore backs up a broker's embedded store while writers keep
// writing, restores it elsewhere and checks that the copy holds every write
// acknowledged before the backup began, each one whole.
func TestBackupRestore(t *testing.T) {
	b := startBroker(t, "")
	admin := b.adminCreds()
	live := newTarget("live", b, admin)
	l := newLedger()
	stop := runWriters(t.Context(), l, func() *target { return live })
	time.Sleep(700 * time.Millisecond)

	backup := filepath.Join(t.TempDir(), "shortfuse.backup")
	began := time.Now()
	mustRun(t, "online, from the running broker, verified", "backup", "--data", b.dir, "--out", backup)
	time.Sleep(200 * time.Millisecond)
	stop()
	mustFail(t, "exists", "backup", "--data", b.dir, "--out", backup)

	restored := newDir(t)
	copyFile(t, filepath.Join(b.dir, "master.key"), filepath.Join(restored, "master.key"))
	mustRun(t, "opens the backup's keys", "restore", "--data", restored, "--in", backup)
	mustFail(t, "already holds a store", "restore", "--data", restored, "--in", backup)
	mustFail(t, "a broker is running", "restore", "--data", b.dir, "--in", backup, "--force")

	rb := startBroker(t, restored)
	before := func(a *attempt) bool { return a.acked && a.ackedAt.Before(began) }
	found := l.check(t, newTarget("restored", rb, admin), before)
	sent, acked := l.counts()
	t.Logf("backup taken while writing: %d writes sent, %d acknowledged, %d of them before the backup began, all found whole in the restored copy", sent, acked, found)
	if found == 0 {
		t.Error("no write was acknowledged before the backup")
	}

	t.Run("fail/truncated-backup", func(t *testing.T) {
		data, err := os.ReadFile(backup)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(t.TempDir(), "cut.backup")
		if err := os.WriteFile(cut, data[:len(data)/2], 0o600); err != nil {
			t.Fatal(err)
		}
		dir := newDir(t)
		mustFail(t, "does not verify", "restore", "--data", dir, "--in", cut)
		if _, err := os.Stat(filepath.Join(dir, "shortfuse.db")); !os.IsNotExist(err) {
			t.Errorf("a refused restore left a store behind: %v", err)
		}
	})

	t.Run("fail/wrong-master-key", func(t *testing.T) {
		dir := newDir(t)
		mk, err := seal.GenerateMasterKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte(mk.Text()), 0o600); err != nil {
			t.Fatal(err)
		}
		mustFail(t, "does not match the master key", "restore", "--data", dir, "--in", backup)
	})

	t.Run("ok/offline-backup-and-forced-restore", func(t *testing.T) {
		b.stop()
		offline := filepath.Join(t.TempDir(), "offline.backup")
		mustRun(t, "offline, from the store file, verified", "backup", "--data", b.dir, "--out", offline)
		mustRun(t, "opens the backup's keys", "restore", "--data", b.dir, "--in", backup, "--force")
		matches, _ := filepath.Glob(filepath.Join(b.dir, "shortfuse.db.replaced-*"))
		if len(matches) != 1 {
			t.Errorf("the replaced store was not kept: %v", matches)
		}
		b.start()
		l.check(t, newTarget("restarted", b, admin), before)
	})
}

// TestKeysRotateOnline rotates the keys of a running embedded broker
// through its control socket.
func TestKeysRotateOnline(t *testing.T) {
	b := startBroker(t, "")
	admin := b.adminCreds()
	sm := b.smClient(admin)
	ctx := t.Context()
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("/before"), SecretString: aws.String("sealed under data key 1")}); err != nil {
		t.Fatal(err)
	}
	old := sessionCreds(t, b, admin)
	if id := tokenKeyID(t, old.SessionToken); id != 1 {
		t.Fatalf("first session key id %d, want 1", id)
	}

	mustRun(t, "session key 2 now mints new sessions", "keys", "rotate", "--data", b.dir)
	list := mustRun(t, "opens only; removed at", "keys", "list", "--data", b.dir)
	for _, want := range []string{"active (seals)", "active (mints)"} {
		if !strings.Contains(list, want) {
			t.Errorf("keys list lacks %q:\n%s", want, list)
		}
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("/after"), SecretString: aws.String("sealed under data key 2")}); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, b *broker) {
		t.Helper()
		s := sessionCreds(t, b, admin)
		if id := tokenKeyID(t, s.SessionToken); id != 2 {
			t.Errorf("new sessions use key %d, want 2", id)
		}
		for _, c := range []creds{old, s} {
			if err := callerIdentity(ctx, b, c); err != nil {
				t.Errorf("session refused after the rotation: %v", err)
			}
		}
		for name, want := range map[string]string{"/before": "sealed under data key 1", "/after": "sealed under data key 2"} {
			out, err := b.smClient(admin).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
			if err != nil || aws.ToString(out.SecretString) != want {
				t.Errorf("GetSecretValue %s after the rotation: %v", name, err)
			}
		}
	}
	check(t, b)
	b.restart()
	check(t, b)

	// A session key that may have leaked: retire every older one now.
	mustRun(t, "session key 1 retired", "keys", "rotate", "--data", b.dir, "--session-key", "--retire-old")
	if err := callerIdentity(ctx, b, old); err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Errorf("session of a retired key: %v, want InvalidClientTokenId", err)
	}
	if err := callerIdentity(ctx, b, sessionCreds(t, b, admin)); err != nil {
		t.Errorf("new session after --retire-old: %v", err)
	}
}

// TestMigrate applies the PostgreSQL migrations explicitly, then starts a
// broker on the database.
func TestMigrate(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "migrate: applied 1", "migrate", "--store", dsn)
	mustRun(t, "migrate: the schema is up to date", "migrate", "--store", dsn)
	mustFail(t, "migrate applies to a PostgreSQL store", "migrate")
	b := startBroker(t, "", "--store", dsn)
	if err := callerIdentity(t.Context(), b, b.adminCreds()); err != nil {
		t.Fatal(err)
	}
}
