package e2e

// Exploding database credentials: a dynamic secret configured and read
// with the aws CLI gives each session its own PostgreSQL role (or MariaDB
// account, at the end of the file), which the broker drops (and whose
// connections it ends) when the session ends.

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	driver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/dbcred/mariadbtest"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
)

// pgWorld is a test database with a table, a role that may read it
// (app_reader_…) and a master role that has CREATEROLE and nothing else.
type pgWorld struct {
	admin            *pgx.Conn
	host             string
	port             int
	dbname           string
	master, masterPW string
	reader           string
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newPGWorld(t *testing.T) *pgWorld {
	t.Helper()
	ctx := context.Background()
	u, admin := pgtest.NewDatabaseConn(t)
	port, _ := strconv.Atoi(u.Port())
	w := &pgWorld{admin: admin, host: u.Hostname(), port: port, dbname: strings.TrimPrefix(u.Path, "/"),
		master: "master_" + randHex(4), masterPW: "M4ster-" + randHex(12), reader: "app_reader_" + randHex(4)}
	for _, s := range []string{
		`CREATE ROLE ` + w.master + ` LOGIN CREATEROLE PASSWORD '` + w.masterPW + `'`,
		`CREATE ROLE ` + w.reader + ` NOLOGIN`,
		`CREATE TABLE items (id int PRIMARY KEY, name text)`,
		`INSERT INTO items VALUES (1, 'one')`,
		`GRANT SELECT ON items TO ` + w.reader,
	} {
		if _, err := admin.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, r := range w.leaseRoles(t) {
			_, _ = admin.Exec(ctx, `DROP ROLE IF EXISTS `+pgx.Identifier{r}.Sanitize())
		}
		_, _ = admin.Exec(ctx, `DROP OWNED BY `+w.reader)
		_, _ = admin.Exec(ctx, `DROP ROLE IF EXISTS `+w.reader)
		_, _ = admin.Exec(ctx, `DROP ROLE IF EXISTS `+w.master)
	})
	return w
}

// leaseRoles lists the roles of which the master is a member: the leases'.
func (w *pgWorld) leaseRoles(t *testing.T) []string {
	t.Helper()
	rows, err := w.admin.Query(context.Background(), `SELECT r.rolname FROM pg_roles r JOIN pg_auth_members am ON am.roleid = r.oid JOIN pg_roles m ON m.oid = am.member WHERE m.rolname = $1 ORDER BY 1`, w.master)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func (w *pgWorld) roleExists(t *testing.T, role string) bool {
	t.Helper()
	var n int
	if err := w.admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_roles WHERE rolname = $1`, role).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func (w *pgWorld) validUntil(t *testing.T, role string) time.Time {
	t.Helper()
	var vu time.Time
	if err := w.admin.QueryRow(context.Background(), `SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1`, role).Scan(&vu); err != nil {
		t.Fatalf("rolvaliduntil of %s: %v", role, err)
	}
	return vu
}

// login connects as a lease's role, as the job would.
func (w *pgWorld) login(c dbCred) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("host=" + c.Host + " port=" + strconv.Itoa(c.Port) + " dbname=" + c.DBName + " user=" + c.Username + " sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.Password = c.Password
	cfg.ConnectTimeout = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

// mustWork logs in as c and reads the table through the grant.
func (w *pgWorld) mustWork(t *testing.T, c dbCred) *pgx.Conn {
	t.Helper()
	conn, err := w.login(c)
	if err != nil {
		t.Fatalf("login as %s: %v", c.Username, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	var name string
	if err := conn.QueryRow(context.Background(), `SELECT name FROM items WHERE id = 1`).Scan(&name); err != nil || name != "one" {
		t.Fatalf("read through the grant as %s: %q, %v", c.Username, name, err)
	}
	return conn
}

// explodedWithin waits until conn is dead, a new login with c fails and
// the role is gone, and returns how long after start that was; it fails
// the test past limit.
func (w *pgWorld) explodedWithin(t *testing.T, conn *pgx.Conn, c dbCred, start time.Time, limit time.Duration) time.Duration {
	t.Helper()
	return credExplodedWithin(t, c.Username, "connection terminated, login refused and role dropped",
		func(ctx context.Context) error { _, err := conn.Exec(ctx, `SELECT 1`); return err },
		func() error {
			c2, err := w.login(c)
			if err == nil {
				c2.Close(context.Background())
			}
			return err
		},
		func() bool { return !w.roleExists(t, c.Username) }, start, limit)
}

// credExplodedWithin waits until ping fails on the credential's
// connection, login with it fails and gone reports its user gone, and
// returns how long after start that was (logged, saying done); it fails
// the test past limit.
func credExplodedWithin(t *testing.T, user, done string, ping func(context.Context) error, login func() error, gone func() bool, start time.Time, limit time.Duration) time.Duration {
	t.Helper()
	connDead, loginRefused := false, false
	for {
		if !connDead {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			connDead = ping(ctx) != nil
			cancel()
		}
		if connDead && !loginRefused {
			loginRefused = login() != nil
		}
		if connDead && loginRefused && gone() {
			d := time.Since(start)
			t.Logf("%s: %s %s after the session ended", user, done, d.Round(time.Millisecond))
			return d
		}
		if d := time.Since(start); d > limit {
			t.Fatalf("%s still usable %s after its session ended (connection dead %v, login refused %v)", user, d, connDead, loginRefused)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dbCred is the value of the dynamic secret: AWS's RDS shape.
type dbCred struct {
	Engine   string `json:"engine"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	Password string `json:"password"`
	DBName   string `json:"dbname"`
	raw      string
}

// readDB reads the dynamic secret id as c, with the aws CLI or, when sdk,
// with aws-sdk-go-v2 (the CLI's start-up alone can take seconds on a
// loaded machine, too long for a session that lives seconds), and checks
// that its value is the RDS shape alone, of engine, with a user and a
// password.
func readDB(t *testing.T, b *broker, c creds, id, engine string, sdk bool) dbCred {
	t.Helper()
	var s string
	if sdk {
		s, _ = secretValue(t, b, c, id, "")
	} else {
		s = str(t, b.mustAWS(c, "secretsmanager", "get-secret-value", "--secret-id", id), "SecretString")
	}
	var d dbCred
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("the dynamic secret's value is not the RDS shape alone: %v", err)
	}
	if d.Engine != engine || d.Username == "" || d.Password == "" {
		t.Fatalf("value %+v", d)
	}
	d.raw = s
	return d
}

// rdsCred reads the current value of the secret id, in the RDS shape, as
// c with aws-sdk-go-v2, and returns it and its version id.
func rdsCred(t *testing.T, b *broker, c creds, id string) (dbCred, string) {
	t.Helper()
	s, version := secretValue(t, b, c, id, "")
	var d dbCred
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("%s is not in the RDS shape: %v", id, err)
	}
	return d, version
}

// configureDynamic creates, with the aws CLI as admin, the master secret
// /prod/pg-master and the dynamic secret /prod/pg.
func configureDynamic(t *testing.T, b *broker, admin creds, w *pgWorld, extraTags ...string) (masterARN string) {
	t.Helper()
	master, _ := json.Marshal(map[string]any{"engine": "postgres", "host": w.host, "port": w.port, "username": w.master, "password": w.masterPW, "dbname": w.dbname})
	mf := writeFile(t, "master.json", string(master))
	masterARN = str(t, b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/prod/pg-master", "--secret-string", "file://"+mf), "ARN")
	dyn := `{"engine":"postgres","host":"` + w.host + `","port":` + strconv.Itoa(w.port) + `,"dbname":"` + w.dbname + `","masterarn":"` + masterARN + `","grants":["` + w.reader + `"]}`
	args := []string{"secretsmanager", "create-secret", "--name", "/prod/pg", "--secret-string", dyn, "--tags", "Key=shortfuse:dynamic,Value=true"}
	args = append(args, extraTags...)
	b.mustAWS(admin, args...)
	return masterARN
}

// TestDynamicCredentials drives per-session database credentials like a
// user: configure with the aws CLI, read as a job, connect, and watch the
// credential die with the session on every path.
func TestDynamicCredentials(t *testing.T) {
	t.Parallel()
	pg := newPGWorld(t)
	b, lw := startLineageWorld(t, "--db-sslmode", "disable")
	admin := lw.admin
	ctx := context.Background()

	t.Run("configuration-refusals", func(t *testing.T) {
		master, _ := json.Marshal(map[string]any{"engine": "postgres", "host": pg.host, "port": pg.port, "username": pg.master, "password": pg.masterPW, "dbname": pg.dbname})
		mf := writeFile(t, "m.json", string(master))
		arn := str(t, b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/cfg/master", "--secret-string", "file://"+mf), "ARN")
		mysql := str(t, b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/cfg/mysql", "--secret-string", strings.Replace(string(master), `"postgres"`, `"mysql"`, 1)), "ARN")
		tag := []string{"--tags", "Key=shortfuse:dynamic,Value=true"}
		for _, tc := range []struct {
			name, value, want string
		}{
			{"no-master", `{"grants":["` + pg.reader + `"]}`, "masterarn is required"},
			{"missing-master", `{"masterarn":"` + arn + `x","grants":["` + pg.reader + `"]}`, "names no secret"},
			{"other-engine", `{"engine":"postgres","masterarn":"` + mysql + `","grants":["` + pg.reader + `"]}`, "engine"},
			{"mariadb-on-postgres", `{"engine":"mariadb","masterarn":"` + arn + `","grants":["` + pg.reader + `"]}`, "must be created by a mysql or mariadb master"},
			{"smuggled-sql", `{"masterarn":"` + arn + `","grants":["x\" SUPERUSER --"]}`, "role name"},
			{"predefined-role", `{"masterarn":"` + arn + `","grants":["pg_read_all_data"]}`, "reserved"},
			{"duplicate-key", `{"masterarn":"` + arn + `","grants":["a"],"grants":["b"]}`, "twice"},
			{"other-host", `{"host":"evil.example","masterarn":"` + arn + `","grants":["a"]}`, "host"},
		} {
			r := b.wantAWSError(admin, "InvalidParameterException", append([]string{"secretsmanager", "create-secret", "--name", "/cfg/" + tc.name, "--secret-string", tc.value}, tag...)...)
			if !strings.Contains(r.Stderr, tc.want) || strings.Contains(r.Stderr, pg.masterPW) {
				t.Errorf("%s: stderr %q, want %q and no master password", tc.name, r.Stderr, tc.want)
			}
			b.wantAWSError(admin, "ResourceNotFoundException", "secretsmanager", "describe-secret", "--secret-id", "/cfg/"+tc.name)
		}
		// A static secret is made dynamic only with a usable value...
		b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/cfg/static", "--secret-string", "plain")
		b.wantAWSError(admin, "InvalidParameterException", "secretsmanager", "tag-resource", "--secret-id", "/cfg/static", "--tags", "Key=shortfuse:dynamic,Value=true")
		if d := b.mustAWS(admin, "secretsmanager", "describe-secret", "--secret-id", "/cfg/static"); d["Tags"] != nil && len(d["Tags"].([]any)) > 0 {
			t.Errorf("a refused tag-resource left tags: %v", d["Tags"])
		}
		// ...and only by someone trusted with the master: ci's roles may
		// read secrets but not configure with a master they cannot read.
		b.wantAWSError(lw.ci, "AccessDeniedException", append([]string{"secretsmanager", "create-secret", "--name", "/cfg/byci", "--secret-string", `{"masterarn":"` + arn + `","grants":["` + pg.reader + `"]}`}, tag...)...)
	})

	masterARN := configureDynamic(t, b, admin, pg, "Key=shortfuse:lease-seconds,Value=120")
	// Every password handed out, to look for in the audit log and the
	// broker's log at the end.
	var handedOut []string
	read := func(t *testing.T, c creds) dbCred {
		t.Helper()
		d := readDB(t, b, c, "/prod/pg", "postgres", false)
		handedOut = append(handedOut, d.Password)
		return d
	}

	t.Run("read-connect-and-revoke", func(t *testing.T) {
		out, err := lw.b.stsClient(lw.ci).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN("job")), RoleSessionName: aws.String("build-db")})
		if err != nil {
			t.Fatal(err)
		}
		job := stsCreds(out.Credentials)
		c := read(t, job)
		for _, leak := range []string{pg.masterPW, masterARN, "masterarn", "grants", pg.master} {
			if strings.Contains(c.raw, leak) {
				t.Errorf("the dynamic value holds %q", leak)
			}
		}
		if !strings.HasPrefix(c.Username, "sf_") || c.Host != pg.host || c.Port != pg.port || c.DBName != pg.dbname {
			t.Errorf("value %+v", c)
		}
		// The database refuses it at the session's end even without the broker.
		if vu, exp := pg.validUntil(t, c.Username), aws.ToTime(out.Credentials.Expiration); !vu.Equal(exp) {
			t.Errorf("VALID UNTIL %v, want the session's expiry %v", vu, exp)
		}
		// The same session gets the same credential; another, its own.
		if again := read(t, job); again.Username != c.Username || again.Password != c.Password {
			t.Error("the same session got a second credential")
		}
		other := lw.assume(t, lw.ci, "job", "build-other")
		oc := read(t, other)
		if oc.Username == c.Username || oc.Password == c.Password {
			t.Error("two sessions share a credential")
		}
		conn := pg.mustWork(t, c)
		// The operator sees the lease with its session.
		ls := b.sf(b.adminEnv(), "", "sessions")
		if !strings.Contains(ls.Stdout, c.Username) || strings.Contains(ls.Stdout, c.Password) {
			t.Errorf("shortfuse sessions does not list the lease (or shows its password):\n%s", ls.Stdout)
		}
		start := time.Now()
		if err := b.shortfuse(admin).RevokeSession(ctx, job.AccessKeyID); err != nil {
			t.Fatal(err)
		}
		if d := pg.explodedWithin(t, conn, c, start, 3*time.Second); d > 2500*time.Millisecond {
			t.Errorf("revocation took %s to reach the database, want about 1 s", d)
		}
		// The other session's credential is untouched.
		pg.mustWork(t, oc)
		all := b.sf(b.adminEnv(), "", "sessions", "--all", "--json")
		if !strings.Contains(all.Stdout, `"RoleName": "`+c.Username+`"`) || !strings.Contains(all.Stdout, `"State": "dropped"`) {
			t.Errorf("ListSessions does not show the dropped lease:\n%s", all.Stdout)
		}
	})

	t.Run("chained-childs-parent-revoked", func(t *testing.T) {
		root := lw.assume(t, lw.ci, "job", "build-chain")
		child := lw.assume(t, root, "job2", "escape")
		c := read(t, child)
		conn := pg.mustWork(t, c)
		start := time.Now()
		if err := b.shortfuse(root).RevokeSession(ctx, ""); err != nil {
			t.Fatal(err)
		}
		pg.explodedWithin(t, conn, c, start, 3*time.Second)
	})

	t.Run("max-uses-used-up", func(t *testing.T) {
		job := lw.assume(t, lw.ci, "job", "build-budget", ststypes.Tag{Key: aws.String("shortfuse:max-uses"), Value: aws.String("3")})
		c := read(t, job)     // use 1
		again := read(t, job) // use 2: the same lease, one use
		if again.Username != c.Username {
			t.Fatal("a second read made a second credential")
		}
		conn := pg.mustWork(t, c)
		time.Sleep(1500 * time.Millisecond)
		if !pg.roleExists(t, c.Username) {
			t.Fatal("the credential was dropped while its session had a use left")
		}
		b.mustAWS(job, "sts", "get-caller-identity") // use 3: the last
		pg.explodedWithin(t, conn, c, time.Now(), 3*time.Second)
	})

	t.Run("expiry", func(t *testing.T) {
		job := lw.assume(t, lw.ci, "job", "build-short")
		res, err := b.shortfuse(job).NarrowSession(ctx, brokerapi.NarrowSessionInput{Lifetime: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		// Read with the SDK: the session lives only 10 s.
		c := readDB(t, b, job, "/prod/pg", "postgres", true)
		handedOut = append(handedOut, c.Password)
		if vu := pg.validUntil(t, c.Username); !vu.Equal(res.Expiration) {
			t.Errorf("VALID UNTIL %v, want the narrowed expiry %v", vu, res.Expiration)
		}
		conn := pg.mustWork(t, c)
		pg.explodedWithin(t, conn, c, res.Expiration, time.Until(res.Expiration)+2500*time.Millisecond)
	})

	t.Run("long-term-keys-get-the-secrets-lifetime", func(t *testing.T) {
		before := time.Now().Truncate(time.Second)
		c := read(t, admin)
		again := read(t, admin)
		if again.Username == c.Username {
			t.Error("long-term keys got a kept lease")
		}
		vu := pg.validUntil(t, c.Username)
		if vu.Before(before.Add(120*time.Second)) || vu.After(time.Now().Add(121*time.Second)) {
			t.Errorf("VALID UNTIL %v, want 120 s from the read (shortfuse:lease-seconds)", vu)
		}
		pg.mustWork(t, c)
	})

	t.Run("abandoned", func(t *testing.T) {
		job := lw.assume(t, lw.ci, "job", "build-heartbeat")
		hb, err := b.shortfuse(job).Heartbeat(ctx, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c := read(t, job)
		conn := pg.mustWork(t, c)
		// The job dies: no more heartbeats.
		pg.explodedWithin(t, conn, c, hb.Deadline, 2*time.Second+time.Until(hb.Deadline))
	})

	t.Run("exec-revokes-at-exit", func(t *testing.T) {
		tok := b.mustToken("--role", roleARN("job"), "--session-name", "exec-db")
		dir := t.TempDir()
		credFile, ready, goOn := filepath.Join(dir, "cred"), filepath.Join(dir, "ready"), filepath.Join(dir, "go")
		script := `printf '%s %s' "$DBUSER" "$DB_PASSWORD" > ` + credFile + `; touch ` + ready + `; while [ ! -e ` + goOn + ` ]; do sleep 0.05; done`
		cmd, stderr := b.startExec(t, tok, ready, "--secret", "DB_PASSWORD=/prod/pg#password", "--secret", "DBUSER=/prod/pg#username", "--", "sh", "-c", script)
		raw, _ := os.ReadFile(credFile)
		user, pw, _ := strings.Cut(string(raw), " ")
		handedOut = append(handedOut, pw)
		c := dbCred{Host: pg.host, Port: pg.port, DBName: pg.dbname, Username: user, Password: pw}
		conn := pg.mustWork(t, c)
		start := time.Now()
		_ = os.WriteFile(goOn, nil, 0o600)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("exec: %v\n%s", err, stderr.String())
		}
		pg.explodedWithin(t, conn, c, start, 3*time.Second)
		if strings.Contains(stderr.String(), pw) {
			t.Error("exec's output holds the database password")
		}
	})

	t.Run("no-secret-in-audit-log", func(t *testing.T) {
		log := auditLog(t, b)
		creates, drops := 0, 0
		sc := bufio.NewScanner(strings.NewReader(log))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, pg.masterPW) {
				t.Fatal("the audit log holds the master password")
			}
			for _, pw := range handedOut {
				if strings.Contains(line, pw) {
					t.Fatal("the audit log holds a database credential's password")
				}
			}
			if strings.Contains(line, `"eventName":"CreateDatabaseLease"`) {
				creates++
			}
			if strings.Contains(line, `"eventName":"DropDatabaseLease"`) {
				drops++
			}
		}
		if creates < 6 || drops < 5 {
			t.Errorf("audit log: %d CreateDatabaseLease, %d DropDatabaseLease records", creates, drops)
		}
		for _, pw := range append(handedOut, pg.masterPW) {
			if strings.Contains(b.logs.String(), pw) {
				t.Fatal("the broker's log holds a password")
			}
		}
		if len(handedOut) < 8 {
			t.Errorf("only %d passwords handed out", len(handedOut))
		}
		m := metricsText(t, b)
		for _, want := range []string{"shortfuse_db_leases_created_total", "shortfuse_db_leases_dropped_total{reason=\"session-ended\"}", "shortfuse_db_leases_live"} {
			if !strings.Contains(m, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	t.Run("describe-and-versions-hold-no-credential", func(t *testing.T) {
		for _, args := range [][]string{
			{"secretsmanager", "describe-secret", "--secret-id", "/prod/pg"},
			{"secretsmanager", "list-secret-version-ids", "--secret-id", "/prod/pg"},
			{"secretsmanager", "list-secrets"},
		} {
			r := b.aws(admin, args...)
			if r.Code != 0 || strings.Contains(r.Stdout, pg.masterPW) || strings.Contains(r.Stdout, "sf_") {
				t.Errorf("aws %v: exit %d, output holds a credential:\n%s", args, r.Code, r.Stdout)
			}
		}
		// A version stage other than AWSCURRENT is refused.
		b.wantAWSError(admin, "InvalidRequestException", "secretsmanager", "get-secret-value", "--secret-id", "/prod/pg", "--version-stage", "AWSPREVIOUS")
	})
}

// TestDynamicCredentialsReplicas: two replicas over one PostgreSQL store;
// a lease read through one, its session revoked through the other, is
// dropped exactly once.
func TestDynamicCredentialsReplicas(t *testing.T) {
	t.Parallel()
	pg := newPGWorld(t)
	_, rs := startReplicas(t, 2, "--account-id", lineageAccount, "--db-sslmode", "disable")
	a, b := rs[0], rs[1]
	lw := newLineageWorld(t, a)
	configureDynamic(t, a, lw.admin, pg)
	ctx := context.Background()
	for i := range 3 {
		job := lw.assume(t, lw.ci, "job", "replica-"+strconv.Itoa(i))
		c := readDB(t, a, job, "/prod/pg", "postgres", false)
		if again := readDB(t, b, job, "/prod/pg", "postgres", false); again.Username != c.Username {
			t.Fatal("the other replica handed the session a second credential")
		}
		conn := pg.mustWork(t, c)
		start := time.Now()
		if err := b.shortfuse(lw.admin).RevokeSession(ctx, job.AccessKeyID); err != nil {
			t.Fatal(err)
		}
		pg.explodedWithin(t, conn, c, start, 3*time.Second)
	}
	time.Sleep(time.Second) // a late second drop would show by now
	drops := 0
	for _, r := range rs {
		log := auditLog(t, r)
		drops += strings.Count(log, `"eventName":"DropDatabaseLease"`)
	}
	if drops != 3 {
		t.Errorf("%d DropDatabaseLease records across the replicas, want exactly 3 (one per lease)", drops)
	}
	total := 0
	for _, r := range rs {
		for _, line := range strings.Split(metricsText(t, r), "\n") {
			if strings.HasPrefix(line, `shortfuse_db_leases_dropped_total{reason="session-ended"}`) {
				n, _ := strconv.Atoi(strings.Fields(line)[1])
				total += n
			}
		}
	}
	if total != 3 {
		t.Errorf("shortfuse_db_leases_dropped_total sums to %d across the replicas, want 3", total)
	}
}

// TestDynamicCredentialsCrash: kill -9 of the broker leaves the role to
// VALID UNTIL; the next start drops what no live lease holds.
func TestDynamicCredentialsCrash(t *testing.T) {
	t.Parallel()
	pg := newPGWorld(t)
	b, lw := startLineageWorld(t, "--db-sslmode", "disable")
	configureDynamic(t, b, lw.admin, pg)
	ctx := context.Background()

	job := lw.assume(t, lw.ci, "job", "build-crash")
	res, err := b.shortfuse(job).NarrowSession(ctx, brokerapi.NarrowSessionInput{Lifetime: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := readDB(t, b, job, "/prod/pg", "postgres", false)
	pg.mustWork(t, c)
	if vu := pg.validUntil(t, c.Username); !vu.Equal(res.Expiration) {
		t.Errorf("VALID UNTIL %v, want the session's expiry %v", vu, res.Expiration)
	}
	// A role the master made that no lease holds (a broker that died
	// before recording it would leave one like it).
	orphan := "sf_orphan_" + randHex(4)
	if _, err := pg.admin.Exec(ctx, `SET ROLE `+pg.master+`; CREATE ROLE `+orphan+` LOGIN ROLE `+pg.master+`; RESET ROLE`); err != nil {
		t.Fatal(err)
	}

	_ = b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.done
	// With no broker, the database refuses the role at the session's end.
	time.Sleep(time.Until(res.Expiration) + 500*time.Millisecond)
	if !pg.roleExists(t, c.Username) {
		t.Fatal("the role vanished with no broker running")
	}
	if conn, err := pg.login(c); err == nil {
		conn.Close(ctx)
		t.Fatal("the database accepted a login past VALID UNTIL")
	}
	start := time.Now()
	b.start()
	for pg.roleExists(t, c.Username) || pg.roleExists(t, orphan) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("after a restart, the expired lease's role (%v) or the orphan (%v) is still there", pg.roleExists(t, c.Username), pg.roleExists(t, orphan))
		}
		time.Sleep(50 * time.Millisecond)
	}
	log := auditLog(t, b)
	if !strings.Contains(log, `"reason":"leftover"`) {
		t.Error("no audit record of the leftover's drop")
	}
}

// Exploding database credentials on MariaDB: the same dynamic secrets,
// with a master secret of engine mariadb, give each session an account of
// its own that the broker drops, killing its connections, when the
// session ends.

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

// readMariaDB reads /prod/maria with aws-sdk-go-v2 and checks that it names
// a lease's account on the fixture's database.
func readMariaDB(t *testing.T, b *broker, c creds, f *mariadbtest.Fixture) dbCred {
	t.Helper()
	d := readDB(t, b, c, "/prod/maria", "mariadb", true)
	if !strings.HasPrefix(d.Username, "sf_") || d.Host != f.Server.Host || d.Port != f.Server.Port || d.DBName != f.DB {
		t.Fatalf("value %+v", d)
	}
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
	b, lw := startLineageWorld(t, "--db-sslmode", "disable")
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
		case tc.want != "" && (errCodeOf(err) != "InvalidParameterException" || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), f.MasterPW)):
			t.Errorf("%s: %v, want InvalidParameterException with %q and no master password", tc.name, err, tc.want)
		}
	}

	job := lw.assume(t, lw.ci, "job", "build-maria")
	// The job reads with the aws CLI, as a script would.
	c := readDB(t, b, job, "/prod/maria", "mariadb", false)
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
	log := auditLog(t, b)
	for _, p := range []string{c.Password, oc.Password, f.MasterPW} {
		if strings.Contains(log, p) {
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
	b, lw := startLineageWorld(t, "--db-sslmode", "disable")
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
	log := auditLog(t, b)
	if !strings.Contains(log, `"reason":"leftover"`) {
		t.Error("no audit record of the leftover's drop")
	}
}
