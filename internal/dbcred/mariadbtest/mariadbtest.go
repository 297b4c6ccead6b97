// Package mariadbtest gives tests a throwaway MariaDB server and, on it, a
// fixture for per-session credentials: a database with a table, roles that
// may read and write it, and a master account with only the privileges the
// broker's MariaDB engine needs.
//
// The server is started once per test process (the first call of
// [Start]) with the binaries of Debian's mariadb-server (mariadb-install-db
// and mariadbd, from PATH, /usr/sbin or /usr/bin), in a temporary
// directory, on a free loopback TCP port and a unix socket in that
// directory. A small shell watches the test process's end (its stdin is a
// pipe only the test process holds) and then stops the server and removes
// the directory, however the process ends: no TestMain is needed.
//
// Without the binaries the tests are skipped with a message, except under
// CI (the environment variable CI set), where they fail: a database suite
// must never pass in CI by not running.
package mariadbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

// Server is a running throwaway MariaDB server.
type Server struct {
	Host   string // 127.0.0.1
	Port   int
	Socket string
	Dir    string
	// Root is a pool of connections as root (over the socket).
	Root *sql.DB
}

var state struct {
	once sync.Once
	srv  *Server
	skip string
	err  error
}

// Start returns the process's server, starting it on first use. It skips
// the test when MariaDB is not installed (fails under CI).
func Start(t testing.TB) *Server {
	t.Helper()
	state.once.Do(func() {
		state.srv, state.skip, state.err = start()
	})
	switch {
	case state.err != nil:
		t.Fatalf("mariadbtest: %v", state.err)
	case state.skip != "" && os.Getenv("CI") != "":
		t.Fatalf("mariadbtest: CI is set but %s", state.skip)
	case state.skip != "":
		t.Skipf("mariadbtest: %s (install mariadb-server to run these tests)", state.skip)
	}
	return state.srv
}

// searchDirs are searched after PATH (mariadbd is in /usr/sbin, which
// is not on every user's PATH).
var searchDirs = []string{"/usr/sbin", "/usr/bin", "/usr/local/mysql/bin", "/usr/local/bin"}

func find(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range searchDirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func start() (*Server, string, error) {
	mariadbd, err := find("mariadbd")
	if err != nil {
		return nil, "MariaDB is not installed: " + err.Error(), nil
	}
	installDB, err := find("mariadb-install-db")
	if err != nil {
		return nil, "MariaDB is not installed: " + err.Error(), nil
	}
	dir, err := os.MkdirTemp("", "shortfuse-mariadb-")
	if err != nil {
		return nil, "", err
	}
	data := filepath.Join(dir, "data")
	install := exec.Command(installDB, "--no-defaults", "--datadir="+data, "--user="+currentUser(),
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve")
	if out, err := install.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	port, err := testutil.FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	sock := filepath.Join(dir, "mariadb.sock")
	args := []string{
		"--no-defaults", "--datadir=" + data, "--user=" + currentUser(),
		"--skip-networking=0", "--bind-address=127.0.0.1", fmt.Sprintf("--port=%d", port),
		"--socket=" + sock, "--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--log-error=" + filepath.Join(dir, "error.log"), "--skip-name-resolve",
		"--event-scheduler=ON", "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M",
		"--max-connections=300", "--skip-log-bin",
	}
	// The shell starts the server, waits for its stdin (a pipe only this
	// process writes) to close — this process ended, however — then stops
	// the server and removes the directory.
	script := `"$@" & pid=$!; cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid"; rm -rf "` + dir + `"`
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh", mariadbd}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	go func() { _ = cmd.Wait() }()
	cfg := driver.NewConfig()
	cfg.User = "root"
	cfg.Net = "unix"
	cfg.Addr = sock
	cfg.MultiStatements = true
	connector, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, "", err
	}
	root := sql.OpenDB(connector)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := root.Ping()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return nil, "", fmt.Errorf("mariadbd did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stdinHeld = stdin
	return &Server{Host: "127.0.0.1", Port: port, Socket: sock, Dir: dir, Root: root}, "", nil
}

// stdinHeld keeps the watcher's pipe referenced (and so open) for the
// life of the process.
var stdinHeld any

func currentUser() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "nobody"
}

// RandHex is n random bytes in hex.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Fixture is a database and a least-privileged master on the server.
type Fixture struct {
	Server   *Server
	DB       string // a database with the table items (id, name): (1, 'one')
	Master   string // the master account (at '%')
	MasterPW string
	Reader   string // a role with SELECT on DB
	Writer   string // a role with INSERT on DB
}

// NewFixture creates a database, the roles Reader and Writer, and the
// master account with exactly the privileges the engine documents:
// CREATE USER, PROCESS and CONNECTION ADMIN globally, EVENT on DB, and
// both roles WITH ADMIN OPTION. When the test ends, the accounts and roles
// the master created (and the rest) are dropped.
func NewFixture(t testing.TB) *Fixture {
	t.Helper()
	s := Start(t)
	suffix := RandHex(4)
	f := &Fixture{Server: s, DB: "app_" + suffix, Master: "master_" + suffix, MasterPW: "M4ster'pw\\" + RandHex(8),
		Reader: "app_reader_" + suffix, Writer: "app_writer_" + suffix}
	pw := strings.ReplaceAll(strings.ReplaceAll(f.MasterPW, `\`, `\\`), `'`, `''`)
	for _, q := range []string{
		"CREATE DATABASE `" + f.DB + "`",
		"CREATE TABLE `" + f.DB + "`.items (id int PRIMARY KEY, name text)",
		"INSERT INTO `" + f.DB + "`.items VALUES (1, 'one')",
		"CREATE ROLE `" + f.Reader + "`",
		"GRANT SELECT ON `" + f.DB + "`.* TO `" + f.Reader + "`",
		"CREATE ROLE `" + f.Writer + "`",
		"GRANT INSERT ON `" + f.DB + "`.* TO `" + f.Writer + "`",
		"CREATE USER `" + f.Master + "`@'%' IDENTIFIED BY '" + pw + "'",
		"GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO `" + f.Master + "`@'%'",
		"GRANT EVENT ON `" + f.DB + "`.* TO `" + f.Master + "`@'%'",
		"GRANT `" + f.Reader + "` TO `" + f.Master + "`@'%' WITH ADMIN OPTION",
		"GRANT `" + f.Writer + "` TO `" + f.Master + "`@'%' WITH ADMIN OPTION",
	} {
		if _, err := s.Root.Exec(q); err != nil {
			t.Fatalf("mariadbtest: %s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		for _, r := range f.LeaseRoles(t) {
			u := strings.TrimSuffix(r, "_r")
			_, _ = s.Root.Exec("DROP USER IF EXISTS `" + u + "`@'%'")
			_, _ = s.Root.Exec("DROP ROLE IF EXISTS `" + r + "`")
		}
		_, _ = s.Root.Exec("DROP USER IF EXISTS `" + f.Master + "`@'%'")
		_, _ = s.Root.Exec("DROP ROLE IF EXISTS `" + f.Reader + "`")
		_, _ = s.Root.Exec("DROP ROLE IF EXISTS `" + f.Writer + "`")
		_, _ = s.Root.Exec("DROP DATABASE IF EXISTS `" + f.DB + "`")
	})
	return f
}

// LeaseRoles lists the roles named sf_… that the master holds: the
// leases' roles.
func (f *Fixture) LeaseRoles(t testing.TB) []string {
	t.Helper()
	rows, err := f.Server.Root.Query(`SELECT Role FROM mysql.roles_mapping WHERE User = ? AND Host = '%' AND Role LIKE 'sf\_%' ORDER BY Role`, f.Master)
	if err != nil {
		t.Fatalf("mariadbtest: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatalf("mariadbtest: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// AccountExists reports whether the account name@'%' exists.
func (f *Fixture) AccountExists(t testing.TB, name string) bool {
	t.Helper()
	var n int
	if err := f.Server.Root.QueryRow(`SELECT count(*) FROM mysql.user WHERE User = ? AND Host = '%'`, name).Scan(&n); err != nil {
		t.Fatalf("mariadbtest: %v", err)
	}
	return n > 0
}

// Connections counts the connections of name.
func (f *Fixture) Connections(t testing.TB, name string) int {
	t.Helper()
	var n int
	if err := f.Server.Root.QueryRow(`SELECT count(*) FROM information_schema.PROCESSLIST WHERE USER = ?`, name).Scan(&n); err != nil {
		t.Fatalf("mariadbtest: %v", err)
	}
	return n
}

// Login opens one connection as user on the fixture's database over TCP.
func (f *Fixture) Login(ctx context.Context, user, password string) (*sql.DB, *sql.Conn, error) {
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd = user, password
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(f.Server.Host, fmt.Sprint(f.Server.Port))
	cfg.DBName = f.DB
	cfg.Timeout = 3 * time.Second
	connector, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, nil, err
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, conn, nil
}
