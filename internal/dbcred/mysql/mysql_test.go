package mysql

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/dbcred/mariadbtest"
)

func TestQuoteIdent(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"app_reader", "`app_reader`"},
		{"a`b", "`a``b`"},
		{"``", "``````"},
		{"x` TO root@'%'; --", "`x`` TO root@'%'; --`"},
	} {
		if got := quoteIdent(tc.in); got != tc.want {
			t.Errorf("quoteIdent(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestQuoteString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "''"},
		{"*ABC123", "'*ABC123'"},
		{"it's", "'it''s'"},
		{"''", "''''''"},
		{"2026-12-06 23:00:00", "'2026-12-06 23:00:00'"},
	} {
		got, err := quoteString(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("quoteString(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`back\slash`, `\'`, "nul\x00", "new\nline", "ünï", "\x7f"} {
		if got, err := quoteString(bad); err == nil {
			t.Errorf("quoteString(%q) = %s, want a refusal", bad, got)
		}
	}
}

func TestNativeHash(t *testing.T) {
	// MariaDB: SELECT PASSWORD('x').
	if got := nativeHash("x"); got != "*B69027D44F6E5EDC07F1AEAD1477967B16F28227" {
		t.Fatalf("nativeHash(x) = %s", got)
	}
}

func TestCreateStatements(t *testing.T) {
	pw := "Sup3rS3cretPassw0rdValue"
	steps, err := createStatements("sf_abcd1234_x0x0x0x0x0", nativeHash(pw), []string{"app_reader", "app_writer"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		got = append(got, s.sql)
		if strings.Contains(s.sql, pw) {
			t.Fatalf("a statement holds the password in clear: %s", s.sql)
		}
	}
	want := []string{
		"CREATE ROLE `sf_abcd1234_x0x0x0x0x0_r`",
		"GRANT `app_reader` TO `sf_abcd1234_x0x0x0x0x0_r`",
		"GRANT `app_writer` TO `sf_abcd1234_x0x0x0x0x0_r`",
		"CREATE USER `sf_abcd1234_x0x0x0x0x0`@'%' IDENTIFIED BY PASSWORD '" + nativeHash(pw) + "'",
		"GRANT `sf_abcd1234_x0x0x0x0x0_r` TO `sf_abcd1234_x0x0x0x0x0`@'%'",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("createStatements:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tc := range []struct {
		name   string
		role   string
		grants []string
	}{
		{"grant-backtick", "sf_x", []string{"r` TO `root`@`%"}},
		{"grant-quote", "sf_x", []string{"Robert'); --"}},
		{"grant-at", "sf_x", []string{"root@localhost"}},
		{"grant-empty", "sf_x", []string{""}},
		{"no-grants", "sf_x", nil},
		{"role-backtick", "sf_x` IDENTIFIED BY 'x", []string{"r"}},
		{"role-host", "sf_x@localhost", []string{"r"}},
		{"role-long", "sf_" + strings.Repeat("x", 60), []string{"r"}},
	} {
		if _, err := createStatements(tc.role, nativeHash(pw), tc.grants); err == nil {
			t.Errorf("%s: createStatements accepted role %q, grants %q", tc.name, tc.role, tc.grants)
		}
	}
}

func TestEventStatement(t *testing.T) {
	until := time.Date(2026, 12, 6, 23, 59, 58, 500, time.FixedZone("x", 3600))
	got, err := eventStatement("app-db", "sf_x", until)
	if err != nil {
		t.Fatal(err)
	}
	want := "CREATE EVENT `app-db`.`sf_x_end` ON SCHEDULE AT '2026-12-06 22:59:59' ON COMPLETION NOT PRESERVE" +
		" COMMENT 'shortfuse: ends the database credential sf_x' DO BEGIN ALTER USER IF EXISTS `sf_x`@'%' ACCOUNT LOCK;" +
		" DROP USER IF EXISTS `sf_x`@'%'; DROP ROLE IF EXISTS `sf_x_r`; KILL CONNECTION USER `sf_x`@'%'; END"
	if got != want {
		t.Fatalf("eventStatement:\n%s\nwant\n%s", got, want)
	}
	for _, bad := range [][2]string{{"app`x", "sf_x"}, {"", "sf_x"}, {"app", "sf_x`; DROP DATABASE app; --"}} {
		if _, err := eventStatement(bad[0], bad[1], until); err == nil {
			t.Errorf("eventStatement(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestSafeErr(t *testing.T) {
	err := safeErr(&driver.MySQLError{Number: 1064, SQLState: [5]byte{'4', '2', '0', '0', '0'},
		Message: "You have an error in your SQL syntax; check the manual near 'PASSWORD '*ABCDEF' at line 1"})
	if strings.Contains(err.Error(), "ABCDEF") || !strings.Contains(err.Error(), "1064") || !strings.Contains(err.Error(), "42000") {
		t.Fatalf("safeErr = %v", err)
	}
}

func TestTLSFromSSLMode(t *testing.T) {
	for in, want := range map[string]string{"disable": "false", "allow": "preferred", "prefer": "preferred", "": "preferred", "require": "skip-verify", "verify-ca": "true", "verify-full": "true"} {
		if got := TLSFromSSLMode(in); got != want {
			t.Errorf("TLSFromSSLMode(%q) = %q, want %q", in, got, want)
		}
	}
}

// Integration tests against a throwaway MariaDB (mariadbtest), with a
// master that has only the documented privileges.

func master(f *mariadbtest.Fixture) *dbcred.Master {
	return &dbcred.Master{Engine: "mariadb", Host: f.Server.Host, Port: f.Server.Port, Username: f.Master, Password: dbcred.NewPassword(f.MasterPW), DBName: f.DB}
}

func newRole(t *testing.T) string {
	t.Helper()
	r, err := dbcred.RoleName(nil, "ASIATESTTESTTEST0000")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// leaseEnv is what the lease tests start from: a fresh database, an
// engine without TLS, the database's master, and a role name and a
// password for a lease.
type leaseEnv struct {
	f    *mariadbtest.Fixture
	e    *Engine
	m    *dbcred.Master
	role string
	pw   dbcred.Password
}

func newLeaseEnv(t *testing.T) *leaseEnv {
	t.Helper()
	t.Parallel()
	f := mariadbtest.NewFixture(t)
	pw, err := dbcred.NewPasswordFrom(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &leaseEnv{f: f, e: &Engine{TLS: "false"}, m: master(f), role: newRole(t), pw: pw}
}

// create makes the lease of env.role with grants until the lease's end.
func (env *leaseEnv) create(t *testing.T, ctx context.Context, grants []string, end time.Time) {
	t.Helper()
	if err := env.e.CreateLease(ctx, env.m, env.role, env.pw, grants, end); err != nil {
		t.Fatal(err)
	}
}

// checkNothingLeft fails t if a failed creation left the account of role
// or any lease role.
func checkNothingLeft(t *testing.T, f *mariadbtest.Fixture, role string) {
	t.Helper()
	if f.AccountExists(t, role) || len(f.LeaseRoles(t)) != 0 {
		t.Fatalf("a failed creation left account %v, roles %v", f.AccountExists(t, role), f.LeaseRoles(t))
	}
}

func TestQuoteStringOnServer(t *testing.T) {
	s := mariadbtest.Start(t)
	ctx := context.Background()
	conn, err := s.Root.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, mode := range []string{"", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES"} {
		if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = '"+mode+"'"); err != nil {
			t.Fatal(err)
		}
		for _, in := range []string{"", "plain", "it's", "''", "'; DROP USER root; --", `"double"`, "`tick`", "%_ %s", "*0123456789ABCDEF"} {
			q, err := quoteString(in)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if err := conn.QueryRowContext(ctx, "SELECT "+q).Scan(&got); err != nil || got != in {
				t.Errorf("sql_mode %q: quoteString(%q) reads back as %q, %v", mode, in, got, err)
			}
			var ident string
			if err := conn.QueryRowContext(ctx, "SELECT 1 AS "+quoteIdent(in+"x")).Scan(&ident); err != nil {
				t.Errorf("sql_mode %q: quoteIdent(%q): %v", mode, in+"x", err)
			}
		}
	}
}

func TestCreateLoginDrop(t *testing.T) {
	env := newLeaseEnv(t)
	f, e, m, role, pw := env.f, env.e, env.m, env.role, env.pw
	ctx := context.Background()
	env.create(t, ctx, []string{f.Reader, f.Writer}, time.Now().Add(time.Hour))
	db, conn, err := f.Login(ctx, role, pw.Reveal())
	if err != nil {
		t.Fatalf("login with the lease's password: %v", err)
	}
	defer db.Close()
	defer conn.Close()
	// Both grants are in force at a plain login (the default role holds them).
	var name string
	if err := conn.QueryRowContext(ctx, `SELECT name FROM items WHERE id = 1`).Scan(&name); err != nil || name != "one" {
		t.Fatalf("read through the grant: %q, %v", name, err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO items VALUES (2, 'two')`); err != nil {
		t.Fatalf("write through the second grant: %v", err)
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM items`); err == nil {
		t.Fatal("the credential may delete, which no grant allows")
	}
	if _, _, err := f.Login(ctx, role, pw.Reveal()+"x"); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	var events int
	if err := f.Server.Root.QueryRow(`SELECT count(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?`, f.DB, role+"_end").Scan(&events); err != nil || events != 1 {
		t.Fatalf("end event: %d, %v", events, err)
	}
	left, err := e.ListLeftovers(ctx, m, "sf_")
	if err != nil || !slices.Contains(left, role) {
		t.Fatalf("ListLeftovers = %v, %v; want it to list %s", left, err, role)
	}
	// Another master's leases are not this master's leftovers.
	g := mariadbtest.NewFixture(t)
	if other, err := e.ListLeftovers(ctx, master(g), "sf_"); err != nil || len(other) != 0 {
		t.Fatalf("another master's ListLeftovers = %v, %v", other, err)
	}

	start := time.Now()
	if err := e.Drop(ctx, m, role); err != nil {
		t.Fatalf("Drop: %v", err)
	}
	took := time.Since(start)
	if err := conn.PingContext(ctx); err == nil {
		t.Error("the lease's open connection survived Drop")
	}
	if _, _, err := f.Login(ctx, role, pw.Reveal()); err == nil {
		t.Error("login after Drop succeeded")
	}
	if f.AccountExists(t, role) || len(f.LeaseRoles(t)) != 0 || f.Connections(t, role) != 0 {
		t.Errorf("after Drop: account %v, roles %v, connections %d", f.AccountExists(t, role), f.LeaseRoles(t), f.Connections(t, role))
	}
	if err := f.Server.Root.QueryRow(`SELECT count(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`, f.DB).Scan(&events); err != nil || events != 0 {
		t.Errorf("events left after Drop: %d, %v", events, err)
	}
	if err := e.Drop(ctx, m, role); err != nil {
		t.Errorf("second Drop: %v", err)
	}
	if left, _ := e.ListLeftovers(ctx, m, "sf_"); slices.Contains(left, role) {
		t.Errorf("ListLeftovers lists %s after Drop", role)
	}
	t.Logf("Drop took %v", took)
}

// The end event is the database's own backstop: with no broker, the
// account is locked, dropped and disconnected at the lease's end.
func TestEndEvent(t *testing.T) {
	env := newLeaseEnv(t)
	f, role, pw := env.f, env.role, env.pw
	ctx := context.Background()
	env.create(t, ctx, []string{f.Reader}, time.Now().Add(2*time.Second))
	db, conn, err := f.Login(ctx, role, pw.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for f.AccountExists(t, role) || f.Connections(t, role) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the end event did not end the account: exists %v, connections %d", f.AccountExists(t, role), f.Connections(t, role))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := conn.PingContext(ctx); err == nil {
		t.Error("the connection survived the end event")
	}
	if len(f.LeaseRoles(t)) != 0 {
		t.Errorf("roles left: %v", f.LeaseRoles(t))
	}
}

// Without a database in the master secret, or with event_scheduler off,
// no event is made, and leases work the same.
func TestNoEvent(t *testing.T) {
	env := newLeaseEnv(t)
	f, e, m, role := env.f, env.e, env.m, env.role
	m.DBName = ""
	ctx := context.Background()
	env.create(t, ctx, []string{f.Reader}, time.Now().Add(time.Hour))
	var events int
	if err := f.Server.Root.QueryRow(`SELECT count(*) FROM information_schema.EVENTS WHERE EVENT_NAME = ?`, role+"_end").Scan(&events); err != nil || events != 0 {
		t.Fatalf("events: %d, %v", events, err)
	}
	if err := e.Drop(ctx, m, role); err != nil {
		t.Fatal(err)
	}
	if f.AccountExists(t, role) {
		t.Fatal("account left")
	}
}

// A creation that fails midway (a grant the master may not give) leaves
// nothing behind, and its error holds no password.
func TestCreateFailsCleanly(t *testing.T) {
	env := newLeaseEnv(t)
	f, role, pw := env.f, env.role, env.pw
	err := env.e.CreateLease(context.Background(), env.m, role, pw, []string{f.Reader, "not_a_role"}, time.Now().Add(time.Hour))
	if err == nil {
		t.Fatal("CreateLease granted a role that does not exist")
	}
	if strings.Contains(err.Error(), pw.Reveal()) || strings.Contains(err.Error(), nativeHash(pw.Reveal())[1:]) {
		t.Fatalf("the error holds the password or its hash: %v", err)
	}
	checkNothingLeft(t, f, role)
}

func TestWrongMaster(t *testing.T) {
	t.Parallel()
	f := mariadbtest.NewFixture(t)
	e := &Engine{TLS: "false", ConnectTimeout: 2 * time.Second}
	bad := master(f)
	bad.Password = dbcred.NewPassword("wrong-password-value")
	err := e.CreateLease(context.Background(), bad, newRole(t), dbcred.NewPassword("p"), []string{f.Reader}, time.Now().Add(time.Hour))
	if err == nil {
		t.Fatal("CreateLease with a wrong master password succeeded")
	}
	if strings.Contains(err.Error(), "wrong-password-value") {
		t.Fatalf("the error holds the master password: %v", err)
	}
	if !strings.Contains(err.Error(), "1045") {
		t.Errorf("error %v, want MariaDB's access denied (1045)", err)
	}
	var me *driver.MySQLError
	if errors.As(err, &me) {
		t.Errorf("the driver's error (with its full message) is wrapped: %v", err)
	}
}

// Drop's kill loop ends many connections at once.
func TestDropManyConnections(t *testing.T) {
	env := newLeaseEnv(t)
	f, e, m, role, pw := env.f, env.e, env.m, env.role, env.pw
	ctx := context.Background()
	env.create(t, ctx, []string{f.Reader}, time.Now().Add(time.Hour))
	var conns []*sql.Conn
	for range 10 {
		db, conn, err := f.Login(ctx, role, pw.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		conns = append(conns, conn)
	}
	// One of them busy in a long query.
	go func() { _, _ = conns[0].ExecContext(ctx, `SELECT SLEEP(30)`) }()
	time.Sleep(100 * time.Millisecond)
	if err := e.Drop(ctx, m, role); err != nil {
		t.Fatal(err)
	}
	if n := f.Connections(t, role); n != 0 {
		t.Fatalf("%d connections left after Drop", n)
	}
}

// With the event scheduler on, a master without EVENT on its database
// cannot make credentials (no credential without its backstop), says why,
// and leaves nothing behind.
func TestMasterWithoutEvent(t *testing.T) {
	env := newLeaseEnv(t)
	f, role := env.f, env.role
	if _, err := f.Server.Root.Exec("REVOKE EVENT ON `" + f.DB + "`.* FROM `" + f.Master + "`@'%'"); err != nil {
		t.Fatal(err)
	}
	err := env.e.CreateLease(context.Background(), env.m, role, env.pw, []string{f.Reader}, time.Now().Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "EVENT") {
		t.Fatalf("CreateLease = %v, want an error that names the EVENT privilege", err)
	}
	checkNothingLeft(t, f, role)
}
