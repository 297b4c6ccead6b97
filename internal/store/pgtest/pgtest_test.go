package pgtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestChoose(t *testing.T) {
	found := func() (string, error) { return "/usr/lib/postgresql/15/bin", nil }
	missing := func() (string, error) { return "", errors.New("no initdb") }
	tests := []struct {
		name   string
		env    map[string]string
		find   func() (string, error)
		inMain bool
		want   string // which field of plan is set
	}{
		{"ok/env-dsn-wins", map[string]string{EnvDSN: "postgres://x", "CI": "true"}, found, false, "dsn"},
		{"ok/env-dsn-without-binaries", map[string]string{EnvDSN: "postgres://x"}, missing, false, "dsn"},
		{"ok/start-with-binaries", nil, found, true, "bin"},
		{"ok/start-with-binaries-in-ci", map[string]string{"CI": "1"}, found, true, "bin"},
		{"ok/skip-without-anything", nil, missing, true, "skip"},
		{"fail/ci-without-anything", map[string]string{"CI": "true"}, missing, true, "fatal"},
		{"fail/binaries-without-main", nil, found, false, "fatal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := choose(func(k string) string { return tt.env[k] }, tt.find, tt.inMain)
			set := map[string]bool{"dsn": p.dsn != "", "bin": p.bin != "", "skip": p.skip != "", "fatal": p.fatal != ""}
			n := 0
			for _, v := range set {
				if v {
					n++
				}
			}
			if !set[tt.want] || n != 1 {
				t.Errorf("choose() = %+v, want only %s set", p, tt.want)
			}
		})
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"ok/url", "postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable", "postgres://u:p@127.0.0.1:5432/db1?sslmode=disable"},
		{"ok/url-without-path", "postgresql://u@h", "postgresql://u@h/db1"},
		{"ok/url-with-dbname-param", "postgres://h/postgres?dbname=postgres", "postgres://h/db1?dbname=db1"},
		{"ok/key-value", "host=h user=u dbname=postgres", "host=h user=u dbname=postgres dbname=db1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withDatabase(tt.dsn, "db1")
			if err != nil || got != tt.want {
				t.Errorf("withDatabase() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("fail/bad-url-not-quoted", func(t *testing.T) {
		_, err := withDatabase("postgres://u:secretpw@h:port/x", "db1")
		if err == nil || strings.Contains(err.Error(), "secretpw") {
			t.Errorf("withDatabase() = %v, want an error without the password", err)
		}
	})
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestNewDatabase(t *testing.T) {
	var first string
	t.Run("ok/fresh-and-durable", func(t *testing.T) {
		dsn := NewDatabase(t)
		conn := connect(t, dsn)
		var name, encoding, collate, fsync string
		err := conn.QueryRow(t.Context(), `SELECT current_database(), pg_encoding_to_char(encoding), datcollate, current_setting('fsync')
			FROM pg_database WHERE datname = current_database()`).Scan(&name, &encoding, &collate, &fsync)
		if err != nil {
			t.Fatal(err)
		}
		if encoding != "UTF8" || collate != "C" || fsync != "on" {
			t.Errorf("database %s: encoding %s, collate %s, fsync %s; want UTF8, C, on", name, encoding, collate, fsync)
		}
		// Leave things behind, including an open connection.
		if _, err := conn.Exec(t.Context(), `CREATE TABLE leftover (x int); CREATE SCHEMA extra; CREATE TABLE extra.t (y int)`); err != nil {
			t.Fatal(err)
		}
		first = name
	})

	t.Run("ok/distinct-databases", func(t *testing.T) {
		a, b := NewDatabase(t), NewDatabase(t)
		if a == b {
			t.Fatalf("two NewDatabase calls returned %q", a)
		}
	})

	t.Run("ok/reused-database-is-empty", func(t *testing.T) {
		dsn := NewDatabase(t)
		conn := connect(t, dsn)
		var name string
		var tables int
		err := conn.QueryRow(t.Context(), `SELECT current_database(), (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema')`).Scan(&name, &tables)
		if err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("database %s holds %d relations, want 0", name, tables)
		}
		if _, err := conn.Exec(t.Context(), `CREATE TABLE public.t (x int)`); err != nil {
			t.Errorf("creating a table in public: %v", err)
		}
		t.Logf("first database %s, now %s", first, name)
	})
}
