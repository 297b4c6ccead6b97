package e2e

// Rotation without a Lambda function: aws secretsmanager rotate-secret on
// secrets in AWS's RDS shape, against a real PostgreSQL and MariaDB.

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/shortfuse/shortfuse/internal/dbcred/mariadbtest"
)

// pgUser creates a LOGIN role that reads through the world's reader role
// (the master may set its password: on PostgreSQL 16 and later that
// needs ADMIN OPTION), and drops it and its clone at the end.
func (w *pgWorld) pgUser(t *testing.T, prefix, password string) string {
	t.Helper()
	ctx := context.Background()
	name := prefix + randHex(4)
	if _, err := w.admin.Exec(ctx, `CREATE ROLE `+name+` LOGIN PASSWORD '`+password+`' IN ROLE `+w.reader); err != nil {
		t.Fatal(err)
	}
	var ver int
	_ = w.admin.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&ver)
	if ver >= 160000 {
		if _, err := w.admin.Exec(ctx, `GRANT `+name+` TO `+w.master+` WITH ADMIN OPTION`); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, r := range []string{name + "_clone", name} {
			_, _ = w.admin.Exec(context.Background(), `DROP ROLE IF EXISTS `+pgx.Identifier{r}.Sanitize())
		}
	})
	return name
}

// tcpProxy forwards a local port to the database; closing it makes the
// database unreachable at that address, and reopening it reachable again.
type tcpProxy struct {
	addr, to string
	mu       sync.Mutex
	ln       net.Listener
	conns    []net.Conn
}

func newTCPProxy(t *testing.T, to string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{to: to}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(d, c); d.Close() }()
			go func() { _, _ = io.Copy(c, d); c.Close() }()
		}
	}()
}

func (p *tcpProxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) reopen(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// rdsValue is a secret's value in AWS's RDS shape.
func rdsValue(w *pgWorld, host string, port int, user, password string, extra map[string]any) string {
	v := map[string]any{"engine": "postgres", "host": host, "port": port, "username": user, "password": password, "dbname": w.dbname}
	for k, x := range extra {
		v[k] = x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func stagesOf(t *testing.T, d map[string]any) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	m, _ := d["VersionIdsToStages"].(map[string]any)
	for id, v := range m {
		for _, s := range v.([]any) {
			out[id] = append(out[id], s.(string))
		}
	}
	return out
}

func TestRotation(t *testing.T) {
	t.Parallel()
	pg := newPGWorld(t)
	b := startBroker(t, "", "--db-sslmode", "disable")
	admin := b.adminCreds()
	// The aws CLI (a Python start per call) drives the rotation calls;
	// the SDK sets up and checks.
	sm := secretsmanager.NewFromConfig(b.sdkConfig(admin))
	ctx := context.Background()
	var passwords []string // every password seen, to look for in the logs
	create := func(t *testing.T, name, value string) string {
		t.Helper()
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	current := func(t *testing.T, id string) (dbCred, string) {
		t.Helper()
		c, version := rdsCred(t, b, admin, id)
		passwords = append(passwords, c.Password)
		return c, version
	}
	describe := func(t *testing.T, id string) *secretsmanager.DescribeSecretOutput {
		t.Helper()
		d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	refused := func(t *testing.T, c dbCred) {
		t.Helper()
		if conn, err := pg.login(c); err == nil {
			conn.Close(context.Background())
			t.Errorf("%s logs in with a password rotated away", c.Username)
		}
	}

	t.Run("single-user", func(t *testing.T) {
		user := pg.pgUser(t, "app_", "Old-Passw0rd-1")
		create(t, "/prod/db-app", rdsValue(pg, pg.host, pg.port, user, "Old-Passw0rd-1", nil))
		old, v1 := current(t, "/prod/db-app")
		pg.mustWork(t, old)
		out := b.mustAWS(admin, "secretsmanager", "rotate-secret", "--secret-id", "/prod/db-app", "--rotation-rules", "AutomaticallyAfterDays=1")
		v2 := str(t, out, "VersionId")
		if strings.Contains(out["ARN"].(string)+v2, "Passw0rd") || out["Name"] != "/prod/db-app" {
			t.Errorf("rotate-secret = %v", out)
		}
		now, cur := current(t, "/prod/db-app")
		if cur != v2 || now.Username != user || now.Password == old.Password || len(now.Password) != 32 {
			t.Fatalf("after rotate-secret: version %s (want %s), user %s", cur, v2, now.Username)
		}
		pg.mustWork(t, now)
		refused(t, old)
		d := b.mustAWS(admin, "secretsmanager", "describe-secret", "--secret-id", "/prod/db-app")
		want := map[string][]string{v1: {"AWSPREVIOUS"}, v2: {"AWSCURRENT"}}
		if got := stagesOf(t, d); !equalStages(got, want) {
			t.Errorf("VersionIdsToStages = %v, want %v", got, want)
		}
		if d["RotationEnabled"] != true || d["LastRotatedDate"] == nil || d["NextRotationDate"] == nil {
			t.Errorf("describe-secret: %v", d)
		}
		if r, _ := d["RotationRules"].(map[string]any); r == nil || r["AutomaticallyAfterDays"] != float64(1) {
			t.Errorf("RotationRules = %v", d["RotationRules"])
		}
		if prev, _ := secretValue(t, b, admin, "/prod/db-app", "AWSPREVIOUS"); !strings.Contains(prev, "Old-Passw0rd-1") {
			t.Error("AWSPREVIOUS is not the old value")
		}
		// The configuration is the secret's: it survives a restart.
		b.restart()
		sm = secretsmanager.NewFromConfig(b.sdkConfig(admin))
		if d := describe(t, "/prod/db-app"); !aws.ToBool(d.RotationEnabled) || d.RotationRules == nil || aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 1 || d.LastRotatedDate == nil {
			t.Errorf("after a restart: enabled %v, rules %+v, last %v", d.RotationEnabled, d.RotationRules, d.LastRotatedDate)
		}
		// cancel-rotate-secret: off, stages as they were.
		b.mustAWS(admin, "secretsmanager", "cancel-rotate-secret", "--secret-id", "/prod/db-app")
		dc := describe(t, "/prod/db-app")
		if dc.RotationEnabled == nil || *dc.RotationEnabled || dc.NextRotationDate != nil {
			t.Errorf("after cancel-rotate-secret: enabled %v, next %v", dc.RotationEnabled, dc.NextRotationDate)
		}
		if got := dc.VersionIdsToStages; !equalStages(got, want) {
			t.Errorf("cancel-rotate-secret changed the stages: %v", got)
		}
	})

	t.Run("alternating-users", func(t *testing.T) {
		user := pg.pgUser(t, "app2_", "Old-Passw0rd-2")
		masterARN := create(t, "/prod/db-master", rdsValue(pg, pg.host, pg.port, pg.master, pg.masterPW, nil))
		create(t, "/prod/db-app2", rdsValue(pg, pg.host, pg.port, user, "Old-Passw0rd-2", map[string]any{"masterarn": masterARN}))
		old, _ := current(t, "/prod/db-app2")
		b.mustAWS(admin, "secretsmanager", "rotate-secret", "--secret-id", "/prod/db-app2", "--rotation-rules", "ScheduleExpression=rate(10 days)")
		clone, _ := current(t, "/prod/db-app2")
		if clone.Username != user+"_clone" {
			t.Fatalf("after the first rotation the user is %s, want the clone", clone.Username)
		}
		pg.mustWork(t, clone) // the clone reads what the user reads
		pg.mustWork(t, old)   // AWSPREVIOUS still works: the point of alternating
		b.mustAWS(admin, "secretsmanager", "rotate-secret", "--secret-id", "/prod/db-app2")
		back, _ := current(t, "/prod/db-app2")
		if back.Username != user || back.Password == old.Password {
			t.Fatalf("after the second rotation: user %s", back.Username)
		}
		pg.mustWork(t, back)
		pg.mustWork(t, clone)
		refused(t, old)
		if d := describe(t, "/prod/db-app2"); d.RotationRules == nil || aws.ToString(d.RotationRules.ScheduleExpression) != "rate(10 days)" {
			t.Errorf("RotationRules = %+v", d.RotationRules)
		}
	})

	t.Run("database-unreachable", func(t *testing.T) {
		user := pg.pgUser(t, "app3_", "Old-Passw0rd-3")
		proxy := newTCPProxy(t, net.JoinHostPort(pg.host, strconv.Itoa(pg.port)))
		host, port := splitHostPort(t, proxy.addr)
		create(t, "/prod/db-app3", rdsValue(pg, host, port, user, "Old-Passw0rd-3", nil))
		old, v1 := current(t, "/prod/db-app3")
		pg.mustWork(t, old)
		proxy.close()
		out := b.mustAWS(admin, "secretsmanager", "rotate-secret", "--secret-id", "/prod/db-app3", "--rotation-rules", "AutomaticallyAfterDays=7")
		pending := str(t, out, "VersionId")
		proxy.reopen(t)
		if c, v := current(t, "/prod/db-app3"); v != v1 || c.Password != old.Password {
			t.Fatal("a failed rotation changed AWSCURRENT")
		}
		pg.mustWork(t, old)
		d := describe(t, "/prod/db-app3")
		want := map[string][]string{v1: {"AWSCURRENT"}, pending: {"AWSPENDING"}}
		if got := d.VersionIdsToStages; !equalStages(got, want) {
			t.Errorf("VersionIdsToStages = %v, want %v", got, want)
		}
		if d.NextRotationDate == nil {
			t.Error("no NextRotationDate (the retry) after a failure")
		}
		// A new rotation while one is pending: AWS's error; the same
		// token resumes the pending one.
		r := b.wantAWSError(admin, "InvalidRequestException", "secretsmanager", "rotate-secret", "--secret-id", "/prod/db-app3")
		if !strings.Contains(r.Stderr, "previous rotation isn't complete") {
			t.Errorf("stderr: %s", r.Stderr)
		}
		b.mustAWS(admin, "secretsmanager", "rotate-secret", "--secret-id", "/prod/db-app3", "--client-request-token", pending)
		now, v := current(t, "/prod/db-app3")
		if v != pending {
			t.Fatalf("the retry did not finish the pending version: AWSCURRENT is %s", v)
		}
		pg.mustWork(t, dbCred{Host: pg.host, Port: pg.port, DBName: pg.dbname, Username: now.Username, Password: now.Password})
		log := auditLog(t, b)
		if !strings.Contains(log, `"eventName":"RotationFailed"`) || !strings.Contains(log, "connection refused") {
			t.Error("no RotationFailed audit record saying why")
		}
	})

	t.Run("refusals", func(t *testing.T) {
		create(t, "/prod/plain", "not-json")
		r := b.wantAWSError(admin, "InvalidRequestException", "secretsmanager", "rotate-secret", "--secret-id", "/prod/plain", "--rotation-rules", "AutomaticallyAfterDays=1")
		if !strings.Contains(r.Stderr, "RDS shape") || strings.Contains(r.Stderr, "not-json") {
			t.Errorf("stderr: %s", r.Stderr)
		}
		r = b.wantAWSError(admin, "InvalidRequestException", "secretsmanager", "rotate-secret", "--secret-id", "/prod/db-app", "--rotation-lambda-arn", "arn:aws:lambda:us-east-1:111122223333:function:rotate")
		if !strings.Contains(r.Stderr, "Lambda") {
			t.Errorf("stderr: %s", r.Stderr)
		}
		b.wantAWSError(admin, "InvalidParameterException", "secretsmanager", "rotate-secret", "--secret-id", "/prod/db-app", "--rotation-rules", `{"ScheduleExpression":"cron(0 8 * * * *)"}`)
	})

	// Nowhere a password: the audit log and the broker's log.
	log := auditLog(t, b)
	for _, ev := range []string{"RotationStarted", "RotationSucceeded"} {
		if !strings.Contains(log, `"eventName":"`+ev+`"`) {
			t.Errorf("the audit log has no %s", ev)
		}
	}
	text := log + b.logs.String()
	for _, pw := range append(passwords, pg.masterPW) {
		if strings.Contains(text, pw) {
			t.Errorf("a password is in the audit log or the broker's log")
		}
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
	now, cur := rdsCred(t, b, admin, "/prod/maria-app")
	if cur != v2 || now.Username != user || now.Password == oldPW || len(now.Password) != 32 {
		t.Fatalf("after rotate-secret: version %s (want %s), user %s", cur, v2, now.Username)
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
	if prev, _ := secretValue(t, b, admin, "/prod/maria-app", "AWSPREVIOUS"); !strings.Contains(prev, oldPW) {
		t.Error("AWSPREVIOUS is not the old value")
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

func equalStages(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w := b[k]
		if len(v) != len(w) {
			return false
		}
		for i := range v {
			if v[i] != w[i] {
				return false
			}
		}
	}
	return true
}

func splitHostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := json.Unmarshal([]byte(p), &n); err != nil {
		t.Fatal(err)
	}
	return h, n
}
