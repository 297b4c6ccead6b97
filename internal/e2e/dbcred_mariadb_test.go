package e2e

// Exploding database credentials on MariaDB: the same dynamic secrets,
// with a master secret of engine mariadb, give each session an account of
// its own that the broker drops, killing its connections, when the
// session ends.

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	driver "github.com/go-sql-driver/mysql"

	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/dbcred/mariadbtest"
)

// configureMariaDB creates, as admin, the master secret
// /prod/maria-master (engine mariadb) and the dynamic secret /prod/maria
// granting the fixture's reader and writer roles: with the aws CLI (the
// master from a file), or with the SDK, which starts much faster.
func configureMariaDB(t *testing.T, b *broker, admin creds, f *mariadbtest.Fixture, withCLI bool) (masterARN string) {
	t.Helper()
	master, _ := json.Marshal(map[string]any{"engine": "mariadb", "host": f.Server.Host, "port": f.Server.Port, "username": f.Master, "password": f.MasterPW, "dbname": f.DB})
	dyn := func(arn string) string {
		return `{"engine":"mariadb","masterarn":"` + arn + `","grants":["` + f.Reader + `","` + f.Writer + `"]}`
	}
	if withCLI {
		mf := writeFile(t, "maria-master.json", string(master))
		masterARN = str(t, b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/prod/maria-master", "--secret-string", "file://"+mf), "ARN")
		b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/prod/maria", "--secret-string", dyn(masterARN), "--tags", "Key=shortfuse:dynamic,Value=true")
		return masterARN
	}
	sm := b.smClient(admin)
	ctx := context.Background()
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("/prod/maria-master"), SecretString: aws.String(string(master))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("/prod/maria"), SecretString: aws.String(dyn(aws.ToString(out.ARN))),
		Tags: []smtypes.Tag{{Key: aws.String("shortfuse:dynamic"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

// readMariaDB reads /prod/maria with the SDK (the CLI's start-up can take
// seconds on a loaded machine) and checks its shape.
func readMariaDB(t *testing.T, b *broker, c creds, f *mariadbtest.Fixture) dbCred {
	t.Helper()
	v, err := b.smClient(c).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("/prod/maria")})
	if err != nil {
		t.Fatal(err)
	}
	var d dbCred
	dec := json.NewDecoder(strings.NewReader(aws.ToString(v.SecretString)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("the dynamic secret's value is not the RDS shape alone: %v", err)
	}
	if d.Engine != "mariadb" || !strings.HasPrefix(d.Username, "sf_") || d.Password == "" || d.Host != f.Server.Host || d.Port != f.Server.Port || d.DBName != f.DB {
		t.Fatalf("value %+v", d)
	}
	d.raw = aws.ToString(v.SecretString)
	return d
}

// mariaLogin connects as the job would, with the Go MySQL driver.
func mariaLogin(c dbCred) (*sql.DB, error) {
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd = c.Username, c.Password
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.DBName
	cfg.Timeout = 3 * time.Second
	connector, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// mariaWorks logs in as c and reads and writes through the grants.
func mariaWorks(t *testing.T, c dbCred) *sql.Conn {
	t.Helper()
	db, err := mariaLogin(c)
	if err != nil {
		t.Fatalf("login as %s: %v", c.Username, err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := conn.QueryRowContext(context.Background(), `SELECT name FROM items WHERE id = 1`).Scan(&name); err != nil || name != "one" {
		t.Fatalf("read through the grant as %s: %q, %v", c.Username, name, err)
	}
	if _, err := conn.ExecContext(context.Background(), `INSERT INTO items (id, name) VALUES (?, 'job')`, time.Now().UnixNano()%1e9); err != nil {
		t.Fatalf("write through the second grant as %s: %v", c.Username, err)
	}
	return conn
}

// mariaExplodedWithin waits until conn is dead, a new login fails and the
// account is gone; it fails the test past limit.
func mariaExplodedWithin(t *testing.T, f *mariadbtest.Fixture, conn *sql.Conn, c dbCred, start time.Time, limit time.Duration) time.Duration {
	t.Helper()
	return credExplodedWithin(t, c.Username, "connection killed, login refused and account dropped",
		func(ctx context.Context) error { _, err := conn.ExecContext(ctx, `SELECT 1`); return err },
		func() error {
			db, err := mariaLogin(c)
			if err == nil {
				db.Close()
			}
			return err
		},
		func() bool { return !f.AccountExists(t, c.Username) }, start, limit)
}

// TestMariaDBDynamicCredentials: configured with the aws CLI, read by a
// session, used with the Go MySQL driver, and revoked: the connection is
// killed and the account dropped within about a second.
func TestMariaDBDynamicCredentials(t *testing.T) {
	t.Parallel()
	f := mariadbtest.NewFixture(t)
	b := startBroker(t, "", "--account-id", lineageAccount, "--db-sslmode", "disable")
	lw := newLineageWorld(t, b)
	masterARN := configureMariaDB(t, b, lw.admin, f, true)
	ctx := context.Background()

	// A mariadb dynamic secret cannot use a postgres master, nor the
	// reverse; a mysql one may use the mariadb master.
	sm := b.smClient(lw.admin)
	pg, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("/cfg/pg-master"), SecretString: aws.String(`{"engine":"postgres","host":"127.0.0.1","username":"m","password":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	dynTag := []smtypes.Tag{{Key: aws.String("shortfuse:dynamic"), Value: aws.String("true")}}
	for _, tc := range []struct{ name, value, want string }{
		{"mariadb-on-postgres", `{"engine":"mariadb","masterarn":"` + aws.ToString(pg.ARN) + `","grants":["` + f.Reader + `"]}`, "must be created by a mysql or mariadb master"},
		{"postgres-on-mariadb", `{"engine":"postgres","masterarn":"` + masterARN + `","grants":["` + f.Reader + `"]}`, "must be created by a postgres master"},
		{"backtick-grant", `{"engine":"mariadb","masterarn":"` + masterARN + `","grants":["r` + "`" + ` TO root"]}`, "role name"},
		{"mysql-on-mariadb", `{"engine":"mysql","masterarn":"` + masterARN + `","grants":["` + f.Reader + `"]}`, ""},
	} {
		_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("/cfg/" + tc.name), SecretString: aws.String(tc.value), Tags: dynTag})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!hasCode(err, "InvalidParameterException") || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), f.MasterPW)):
			t.Errorf("%s: %v, want InvalidParameterException with %q and no master password", tc.name, err, tc.want)
		}
	}

	job := lw.assume(t, lw.ci, "job", "build-maria")
	// The job reads with the aws CLI, as a script would.
	out := b.mustAWS(job, "secretsmanager", "get-secret-value", "--secret-id", "/prod/maria")
	var c dbCred
	if err := json.Unmarshal([]byte(str(t, out, "SecretString")), &c); err != nil {
		t.Fatal(err)
	}
	c.raw = str(t, out, "SecretString")
	for _, leak := range []string{f.MasterPW, masterARN, "masterarn", "grants", f.Master} {
		if strings.Contains(c.raw, leak) {
			t.Errorf("the dynamic value holds %q", leak)
		}
	}
	if again := readMariaDB(t, b, job, f); again.Username != c.Username || again.Password != c.Password {
		t.Error("the same session got a second credential")
	}
	other := lw.assume(t, lw.ci, "job", "build-maria-other")
	oc := readMariaDB(t, b, other, f)
	if oc.Username == c.Username {
		t.Error("two sessions share a credential")
	}
	conn := mariaWorks(t, c)
	start := time.Now()
	if err := b.shortfuse(lw.admin).RevokeSession(ctx, job.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if d := mariaExplodedWithin(t, f, conn, c, start, 3*time.Second); d > 1500*time.Millisecond {
		t.Errorf("revocation took %s to reach the database, want about 1 s", d)
	}
	// The other session's credential is untouched.
	mariaWorks(t, oc)
	log, _ := os.ReadFile(filepath.Join(b.dir, "audit.log"))
	for _, p := range []string{c.Password, oc.Password, f.MasterPW} {
		if strings.Contains(string(log), p) {
			t.Error("the audit log holds a password")
		}
	}
}

// TestMariaDBDynamicCredentialsCrash: after kill -9 of the broker, the
// database's end event ends the credential at the session's end with no
// broker; the next start drops the accounts the master made that no lease
// holds.
func TestMariaDBDynamicCredentialsCrash(t *testing.T) {
	t.Parallel()
	f := mariadbtest.NewFixture(t)
	b := startBroker(t, "", "--account-id", lineageAccount, "--db-sslmode", "disable")
	lw := newLineageWorld(t, b)
	configureMariaDB(t, b, lw.admin, f, false)
	ctx := context.Background()

	job := lw.assume(t, lw.ci, "job", "build-maria-crash")
	res, err := b.shortfuse(job).NarrowSession(ctx, brokerapi.NarrowSessionInput{Lifetime: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := readMariaDB(t, b, job, f)
	conn := mariaWorks(t, c)
	// An account the master made that no lease holds (a broker that died
	// before recording it would leave one like it): its role, held by the
	// master, and the account.
	orphan := "sf_orphan_" + mariadbtest.RandHex(4)
	mc := driver.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr = f.Master, f.MasterPW, "tcp", net.JoinHostPort(f.Server.Host, strconv.Itoa(f.Server.Port))
	connector, err := driver.NewConnector(mc)
	if err != nil {
		t.Fatal(err)
	}
	mdb := sql.OpenDB(connector)
	defer mdb.Close()
	for _, q := range []string{"CREATE ROLE `" + orphan + "_r`", "CREATE USER `" + orphan + "`@'%'", "GRANT `" + orphan + "_r` TO `" + orphan + "`@'%'"} {
		if _, err := mdb.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.done
	// With no broker, the end event ends the credential at the session's end.
	mariaExplodedWithin(t, f, conn, c, res.Expiration, time.Until(res.Expiration)+3*time.Second)
	if !f.AccountExists(t, orphan) {
		t.Fatal("the orphan vanished with no broker running")
	}
	start := time.Now()
	b.start()
	for f.AccountExists(t, orphan) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("after a restart, the orphan account is still there")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if roles := f.LeaseRoles(t); len(roles) != 0 {
		t.Errorf("lease roles left after the restart: %v", roles)
	}
	log, _ := os.ReadFile(filepath.Join(b.dir, "audit.log"))
	if !strings.Contains(string(log), `"reason":"leftover"`) {
		t.Error("no audit record of the leftover's drop")
	}
}

// TestMariaDBRotation: rotate-secret with the aws CLI rotates a MariaDB
// secret in the RDS shape as a single user: the old password is refused
// after, the new one works, AWSPREVIOUS holds the old value; a secret with
// masterarn (alternating users) is refused up front, with the reason.
func TestMariaDBRotation(t *testing.T) {
	t.Parallel()
	f := mariadbtest.NewFixture(t)
	b := startBroker(t, "", "--db-sslmode", "disable")
	admin := b.adminCreds()
	sm := b.smClient(admin)
	ctx := context.Background()

	user := "app_user_" + mariadbtest.RandHex(4)
	const oldPW = "Old-Passw0rd-maria"
	if _, err := f.Server.Root.Exec("CREATE USER `" + user + "`@'%' IDENTIFIED BY '" + oldPW + "'"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"GRANT `" + f.Reader + "` TO `" + user + "`@'%'", "SET DEFAULT ROLE `" + f.Reader + "` FOR `" + user + "`@'%'"} {
		if _, err := f.Server.Root.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = f.Server.Root.Exec("DROP USER IF EXISTS `" + user + "`@'%'") })
	value := func(user, password string, extra string) string {
		return `{"engine":"mariadb","host":"` + f.Server.Host + `","port":` + strconv.Itoa(f.Server.Port) +
			`,"username":"` + user + `","password":"` + password + `","dbname":"` + f.DB + `"` + extra + `}`
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("/prod/maria-app"), SecretString: aws.String(value(user, oldPW, ""))}); err != nil {
		t.Fatal(err)
	}
	out := b.mustAWS(admin, "secretsmanager", "rotate-secret", "--secret-id", "/prod/maria-app", "--rotation-rules", "AutomaticallyAfterDays=7")
	v2 := str(t, out, "VersionId")
	cur, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("/prod/maria-app")})
	if err != nil {
		t.Fatal(err)
	}
	var now dbCred
	if err := json.Unmarshal([]byte(aws.ToString(cur.SecretString)), &now); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cur.VersionId) != v2 || now.Username != user || now.Password == oldPW || len(now.Password) != 32 {
		t.Fatalf("after rotate-secret: version %s (want %s), user %s", aws.ToString(cur.VersionId), v2, now.Username)
	}
	db, err := mariaLogin(now)
	if err != nil {
		t.Fatalf("the rotated password does not log in: %v", err)
	}
	db.Close()
	old := now
	old.Password = oldPW
	if db, err := mariaLogin(old); err == nil {
		db.Close()
		t.Error("the password rotated away still logs in")
	}
	prev, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("/prod/maria-app"), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil || !strings.Contains(aws.ToString(prev.SecretString), oldPW) {
		t.Errorf("AWSPREVIOUS is not the old value: %v", err)
	}

	// Alternating users: refused before anything changes.
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("/prod/maria-app2"),
		SecretString: aws.String(value(user, now.Password, `,"masterarn":"arn:aws:secretsmanager:us-east-1:000000000000:secret:/prod/maria-master-AbCdEf"`))}); err != nil {
		t.Fatal(err)
	}
	r := b.wantAWSError(admin, "InvalidRequestException", "secretsmanager", "rotate-secret", "--secret-id", "/prod/maria-app2", "--rotation-rules", "AutomaticallyAfterDays=7")
	if !strings.Contains(r.Stderr, "Alternating-users rotation is not supported on MariaDB") {
		t.Errorf("the refusal does not say why: %s", r.Stderr)
	}
	if db, err := mariaLogin(now); err != nil {
		t.Errorf("the refused rotation changed the password: %v", err)
	} else {
		db.Close()
	}
	noValuesIn(t, "the broker's log", b.logs.String(), map[string]string{"old": oldPW, "new": now.Password})
}
