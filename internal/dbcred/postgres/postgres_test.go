package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture is a test database with a table, a role app_reader that may
// read it, and a master role that has CREATEROLE only (not a superuser).
type fixture struct {
	admin  *pgx.Conn
	master *dbcred.Master
	reader string
	dsn    *url.URL
}

func randName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	u, admin := pgtest.NewDatabaseConn(t)
	f := &fixture{admin: admin, dsn: u, reader: randName("app_reader_")}
	masterName, masterPW := randName("master_"), randName("pw'\\")
	port, _ := strconv.Atoi(u.Port())
	f.master = &dbcred.Master{Engine: "postgres", Host: u.Hostname(), Port: port, Username: masterName, Password: dbcred.NewPassword(masterPW), DBName: strings.TrimPrefix(u.Path, "/")}
	for _, s := range []string{
		`CREATE ROLE ` + masterName + ` LOGIN CREATEROLE PASSWORD ` + quoteLiteral(masterPW),
		`CREATE ROLE ` + f.reader + ` NOLOGIN`,
		`CREATE TABLE items (id int primary key, name text)`,
		`INSERT INTO items VALUES (1, 'one')`,
		`GRANT SELECT ON items TO ` + f.reader,
		`GRANT CONNECT ON DATABASE ` + pgx.Identifier{f.master.DBName}.Sanitize() + ` TO ` + f.reader,
	} {
		if _, err := admin.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	var ver int
	_ = admin.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&ver)
	if ver >= 160000 {
		if _, err := admin.Exec(ctx, `GRANT `+f.reader+` TO `+masterName+` WITH ADMIN OPTION`); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx := context.Background()
		rows, _ := admin.Query(ctx, `SELECT rolname FROM pg_roles WHERE starts_with(rolname, 'sf_t')`)
		names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, n := range names {
			_, _ = admin.Exec(ctx, `DROP OWNED BY `+pgx.Identifier{n}.Sanitize())
			_, _ = admin.Exec(ctx, `DROP ROLE IF EXISTS `+pgx.Identifier{n}.Sanitize())
		}
		_, _ = admin.Exec(ctx, `DROP OWNED BY `+masterName)
		_, _ = admin.Exec(ctx, `DROP OWNED BY `+f.reader)
		_, _ = admin.Exec(ctx, `DROP ROLE IF EXISTS `+masterName)
		_, _ = admin.Exec(ctx, `DROP ROLE IF EXISTS `+f.reader)
	})
	return f
}

// login connects as role with password.
func (f *fixture) login(ctx context.Context, role, password string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("host=" + f.master.Host + " port=" + strconv.Itoa(f.master.Port) + " dbname=" + f.master.DBName + " user=" + role + " sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.Password = password
	cfg.ConnectTimeout = 3 * time.Second
	return pgx.ConnectConfig(ctx, cfg)
}

func TestQuoteLiteral(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, s := range []string{
		"", "plain", "it's", `back\slash`, `\'`, `''`, `'\`, "new\nline", "tab\t", "$$", "$x$ $$ ;--",
		"'); DROP ROLE postgres; --", `E'\x41'`, "ünïcødé ✓", "%L %I %s", `\\\`, "'''''",
	} {
		var got string
		if err := f.admin.QueryRow(ctx, "SELECT "+quoteLiteral(s), pgx.QueryExecModeSimpleProtocol).Scan(&got); err != nil {
			t.Errorf("quoteLiteral(%q): %v", s, err)
			continue
		}
		if got != s {
			t.Errorf("quoteLiteral(%q) reads back as %q", s, got)
		}
		// The same under the other reading of backslashes.
		var got2 string
		if err := f.admin.QueryRow(ctx, "SET LOCAL standard_conforming_strings = off; SELECT "+quoteLiteral(s), pgx.QueryExecModeSimpleProtocol).Scan(&got2); err == nil && got2 != s {
			t.Errorf("with standard_conforming_strings off, quoteLiteral(%q) reads back as %q", s, got2)
		}
	}
}

func TestCreateLoginDrop(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := &Engine{SSLMode: "disable"}
	for _, tc := range []struct {
		name     string
		password string
	}{
		{"ok/generated", ""},
		{"ok/hostile-password", `a'b\c"d$$e;--f %L E'\x00'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role := randName("sf_t_")
			pw := tc.password
			if pw == "" {
				p, err := dbcred.NewPasswordFrom(nil)
				if err != nil {
					t.Fatal(err)
				}
				pw = p.Reveal()
			}
			until := time.Now().Add(time.Hour).Truncate(time.Second)
			if err := e.CreateLease(ctx, f.master, role, dbcred.NewPassword(pw), []string{f.reader}, until); err != nil {
				t.Fatal(err)
			}
			var vu time.Time
			var super, createrole bool
			if err := f.admin.QueryRow(ctx, `SELECT rolvaliduntil, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = $1`, role).Scan(&vu, &super, &createrole); err != nil {
				t.Fatal(err)
			}
			if !vu.Equal(until) || super || createrole {
				t.Errorf("role: valid until %v (want %v), super %v, createrole %v", vu, until, super, createrole)
			}
			conn, err := f.login(ctx, role, pw)
			if err != nil {
				t.Fatalf("login with the lease's password: %v", err)
			}
			var name string
			if err := conn.QueryRow(ctx, `SELECT name FROM items WHERE id = 1`).Scan(&name); err != nil || name != "one" {
				t.Fatalf("read through the grant: %q, %v", name, err)
			}
			if _, err := f.login(ctx, role, pw+"x"); err == nil {
				t.Fatal("login with a wrong password succeeded")
			}
			left, err := e.ListLeftovers(ctx, f.master, "sf_t_")
			if err != nil || !contains(left, role) {
				t.Fatalf("ListLeftovers = %v, %v; want it to list %s", left, err, role)
			}
			// The job creates a table: the role owns something.
			if _, err := conn.Exec(ctx, `CREATE TABLE mine_`+role+` (x int)`); err != nil {
				t.Fatal(err)
			}
			if err := e.Drop(ctx, f.master, role); err != nil {
				t.Fatalf("Drop: %v", err)
			}
			if err := conn.Ping(ctx); err == nil {
				t.Error("the lease's open connection survived Drop")
			}
			if _, err := f.login(ctx, role, pw); err == nil {
				t.Error("login after Drop succeeded")
			}
			if err := e.Drop(ctx, f.master, role); err != nil {
				t.Errorf("second Drop: %v", err)
			}
			left, _ = e.ListLeftovers(ctx, f.master, "sf_t_")
			if contains(left, role) {
				t.Errorf("ListLeftovers lists %s after Drop", role)
			}
		})
	}
}

func TestStatementNeverHoldsPassword(t *testing.T) {
	e := &Engine{}
	pw := "Sup3rS3cretPassw0rdValue"
	stmt, err := e.createStatement("master", "sf_x", dbcred.NewPassword(pw), []string{"app_reader", `weird`}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stmt, pw) {
		t.Fatalf("the statement holds the password in clear: %s", stmt)
	}
	if !strings.Contains(stmt, "PASSWORD 'SCRAM-SHA-256$4096:") {
		t.Fatalf("the statement does not carry a SCRAM verifier: %s", stmt)
	}
	for _, bad := range [][]string{{`x"; DROP ROLE postgres; --`}, {"Robert'); --"}, {""}, {}} {
		if _, err := e.createStatement("master", "sf_x", dbcred.NewPassword(pw), bad, time.Now()); err == nil {
			t.Errorf("createStatement accepted grants %q", bad)
		}
	}
	if _, err := e.createStatement("master", `sf_x" SUPERUSER`, dbcred.NewPassword(pw), []string{"r"}, time.Now()); err == nil {
		t.Error("createStatement accepted a hostile role name")
	}
}

func TestWrongMaster(t *testing.T) {
	f := newFixture(t)
	e := &Engine{SSLMode: "disable", ConnectTimeout: 2 * time.Second}
	bad := *f.master
	bad.Password = dbcred.NewPassword("wrong-password-value")
	err := e.CreateLease(context.Background(), &bad, randName("sf_t_"), dbcred.NewPassword("p"), []string{f.reader}, time.Now().Add(time.Hour))
	if err == nil {
		t.Fatal("CreateLease with a wrong master password succeeded")
	}
	if strings.Contains(err.Error(), "wrong-password-value") {
		t.Fatalf("the error holds the master password: %v", err)
	}
	var pe interface{ SQLState() string }
	_ = errors.As(err, &pe)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
