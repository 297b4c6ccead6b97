package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable that gives the tests a PostgreSQL
// server: a DSN of a role that may create databases, such as
// postgres://postgres:pw@127.0.0.1:5432/postgres?sslmode=disable.
const EnvDSN = "SHORTFUSE_TEST_POSTGRES"

// adminTimeout bounds each administrative step (create, reset, drop a
// database) so that a wedged server fails the test instead of hanging it.
const adminTimeout = time.Minute

// The state of the test process: one server and the databases created on
// it. It is process-wide because the server outlives any one test; Main
// ends it.
var state struct {
	mu      sync.Mutex
	inMain  bool
	started bool    // start was tried
	srv     *server // the server pgtest started, or nil
	dsn     string
	err     error // why the server could not be had
	skip    string
	free    []string // reset databases ready for reuse (only under Main)
	created []string // every database created, dropped at the end of Main
}

// Main runs the tests of a package and then drops the databases that
// NewDatabase created and stops the server that pgtest started, if any.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without Main, DSN cannot start a server of its own (nothing would stop
// it), and NewDatabase drops each database when its test ends instead of
// reusing it.
func Main(m *testing.M) {
	state.mu.Lock()
	state.inMain = true
	state.mu.Unlock()

	code := m.Run()

	state.mu.Lock()
	defer state.mu.Unlock()
	state.inMain = false
	var err error
	if state.srv != nil {
		// The databases go with the server.
		err = state.srv.stop()
	} else if state.dsn != "" && len(state.created) > 0 {
		err = dropAll(state.dsn, state.created)
	}
	state.created, state.free = nil, nil
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: cleanup: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		os.Exit(code)
	}
}

// DSN returns the DSN of a PostgreSQL server for tests, connected to its
// maintenance database as a role that may create databases. The server is,
// in order:
//
//   - the one named by the environment variable SHORTFUSE_TEST_POSTGRES;
//   - else a throwaway cluster that pgtest creates with initdb in a
//     temporary directory and starts on a free loopback port (as the user
//     postgres, or nobody, when the tests run as root), once per test
//     process; Main stops it and removes the directory;
//   - else, if the environment variable CI is set, the test fails: CI must
//     provide a database, and a skipped suite would pass unnoticed;
//   - else the test is skipped.
func DSN(t testing.TB) string {
	t.Helper()
	state.mu.Lock()
	defer state.mu.Unlock()
	if !state.started {
		state.started = true
		state.dsn, state.srv, state.skip, state.err = locate()
	}
	switch {
	case state.err != nil:
		t.Fatalf("pgtest: %v", state.err)
	case state.skip != "":
		t.Skipf("pgtest: %s", state.skip)
	}
	return state.dsn
}

// locate finds or starts the server. It runs once, under state.mu.
func locate() (dsn string, srv *server, skip string, err error) {
	p := choose(os.Getenv, findBinaries, state.inMain)
	switch {
	case p.fatal != "":
		return "", nil, "", errors.New(p.fatal)
	case p.skip != "":
		return "", nil, p.skip, nil
	case p.dsn != "":
		return p.dsn, nil, "", nil
	}
	srv, err = startServer(p.bin)
	if err != nil {
		return "", nil, "", err
	}
	return srv.dsn, srv, "", nil
}

// plan is where the tests get PostgreSQL from: exactly one field is set.
type plan struct {
	dsn   string // an existing server
	bin   string // start a server with the binaries in this directory
	skip  string // skip the tests, for this reason
	fatal string // fail the tests, for this reason
}

func choose(getenv func(string) string, findBinaries func() (string, error), inMain bool) plan {
	if dsn := getenv(EnvDSN); dsn != "" {
		return plan{dsn: dsn}
	}
	bin, err := findBinaries()
	switch {
	case err != nil && getenv("CI") != "":
		return plan{fatal: fmt.Sprintf("CI is set but there is no PostgreSQL: %s is not set and %v", EnvDSN, err)}
	case err != nil:
		return plan{skip: fmt.Sprintf("%s is not set and %v", EnvDSN, err)}
	case !inMain:
		return plan{fatal: fmt.Sprintf("%s is not set, and starting a server needs func TestMain(m *testing.M) { pgtest.Main(m) } in the package, to stop it at the end", EnvDSN)}
	}
	return plan{bin: bin}
}

// NewDatabase creates an empty database (UTF8, C locale) on the server of
// DSN and returns its DSN, which differs from DSN only in the database name.
// When the test ends, the database's connections are terminated and it is
// dropped; under Main it is emptied instead (every schema dropped, public
// created again) and handed to a later NewDatabase, which is much faster.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base := DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()

	state.mu.Lock()
	reuse := state.inMain
	var name string
	if reuse && len(state.free) > 0 {
		name = state.free[len(state.free)-1]
		state.free = state.free[:len(state.free)-1]
	}
	state.mu.Unlock()

	if name == "" {
		name = "sftest_" + randomHex(6)
		if err := admin(ctx, base, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'`); err != nil {
			t.Fatalf("pgtest: create database: %v", err)
		}
		if reuse {
			state.mu.Lock()
			state.created = append(state.created, name)
			state.mu.Unlock()
		}
	}
	dsn, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		if !reuse {
			if err := admin(ctx, base, `DROP DATABASE `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
				t.Errorf("pgtest: drop database: %v", err)
			}
			return
		}
		if err := reset(ctx, base, dsn, name); err != nil {
			t.Errorf("pgtest: reset database: %v", err)
			return // not reused
		}
		state.mu.Lock()
		if state.inMain {
			state.free = append(state.free, name)
		}
		state.mu.Unlock()
	})
	return dsn
}

// NewDatabaseConn is NewDatabase that returns the database's DSN as a URL
// and a connection to it as DSN's role, closed when the test ends.
func NewDatabaseConn(t testing.TB) (*url.URL, *pgx.Conn) {
	t.Helper()
	dsn := NewDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return u, conn
}

// withDatabase returns dsn with its database replaced by name. It handles
// both forms pgx accepts: URLs and key=value strings, where a later key
// overrides an earlier one.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// The DSN may hold a password: do not quote it.
			return "", errors.New("cannot parse the DSN as a URL")
		}
		u.Path = "/" + name
		u.RawPath = ""
		q := u.Query()
		if q.Has("dbname") {
			q.Set("dbname", name)
			u.RawQuery = q.Encode()
		}
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil
}

// admin runs one statement on the maintenance database.
func admin(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// reset empties database name for reuse: it ends every other connection to
// it (a Store the test forgot to close, a listener), then drops every
// schema but the system ones and creates public again.
func reset(ctx context.Context, base, dsn, name string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	conn, err = pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, `
DO $$
DECLARE s text;
BEGIN
	FOR s IN SELECT nspname FROM pg_namespace
		WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
	LOOP
		EXECUTE format('DROP SCHEMA %I CASCADE', s);
	END LOOP;
END $$;
CREATE SCHEMA public;
GRANT ALL ON SCHEMA public TO PUBLIC;`)
	return err
}

func dropAll(dsn string, names []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	var errs []error
	for _, name := range names {
		if err := admin(ctx, dsn, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}
