// Package mysql is the MariaDB engine of per-session database credentials
// (package dbcred), for master secrets whose engine is mariadb or mysql (AWS
// spells both in RDS secrets; the server must be MariaDB, 10.4 or later,
// see Limits). It creates a lease's account, drops it and ends its
// connections, and finds the accounts a broker left behind.
//
// # What a lease is on the server
//
// For a lease named sf_x (dbcred.RoleName) the broker creates:
//
//   - the role sf_x_r, granted each of the dynamic secret's grants. CREATE
//     ROLE gives its creator, the master, the role WITH ADMIN OPTION: that
//     grant is the broker's marker, how ListLeftovers tells the accounts
//     this master created from anyone else's (MariaDB records no creator);
//   - the account sf_x@'%', identified by the password's
//     mysql_native_password hash (computed here: the password never
//     reaches the server, its logs or its binary log in clear), granted
//     sf_x_r;
//   - sf_x_r as the account's default role, so that a plain login has the
//     grants' privileges. MariaDB lets an account have one default role
//     only, and setting another account's needs UPDATE on the mysql
//     schema (power over every account): the broker logs in once as the
//     new account and sets its own default role, which needs nothing. With
//     several grants, the one default role is sf_x_r, which holds them
//     all (MariaDB activates the roles granted to an active role);
//   - when the master secret names a dbname and the server's
//     event_scheduler is ON: the event `dbname`.sf_x_end, at the lease's
//     end, that locks the account, drops it and its role, and kills its
//     connections — the database's own backstop, which runs without the
//     broker (MariaDB has no VALID UNTIL).
//
// Drop locks the account (ALTER USER … ACCOUNT LOCK: no new login), kills
// its connections (KILL CONNECTION USER, then each one still listed in
// information_schema.PROCESSLIST, until none is left), drops the account,
// its role and its event, and kills once more what logged in meanwhile.
// Each step is IF EXISTS: dropping twice is harmless.
//
// # What the master account needs
//
//	GRANT CREATE USER, PROCESS, CONNECTION ADMIN ON *.* TO master;
//	GRANT app_reader TO master WITH ADMIN OPTION;   -- each granted role
//	GRANT EVENT ON app.* TO master;                 -- the backstop event, if dbname is app
//
// CREATE USER creates and drops accounts and roles; CONNECTION ADMIN
// (before MariaDB 10.5.2: SUPER) kills other accounts' connections;
// PROCESS shows them, so that Drop waits until they are gone; ADMIN OPTION grants a role. Nothing on the mysql schema,
// no SUPER, no access to the data.
//
// # Safe SQL
//
// Account management statements take no placeholders. Identifiers are
// quoted with backticks (a backtick doubled), after the names have passed
// dbcred's allowlist; the few literals (a hash in hex, a timestamp, '%')
// are quoted by quoteString, which refuses backslashes so that a literal
// means the same whether or not sql_mode has NO_BACKSLASH_ESCAPES.
// Errors keep the server's number, SQLSTATE and message, cut before the
// statement text a syntax error quotes (safeErr).
//
// # Limits
//
// MySQL servers are refused with a clear error: MySQL spells default
// roles and role administration differently, has no KILL USER, and only
// MariaDB is tested. A server with a password validation plugin and
// strict_password_validation refuses hashed passwords: leases fail there.
package mysql

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/fault"
)

// Suffixes of the names of a lease's role and event.
const (
	roleSuffix  = "_r"
	eventSuffix = "_end"
)

// maxName bounds a lease's name so that its role fits MariaDB's role names
// (128) and its event an identifier (64).
const maxName = 64 - len(eventSuffix)

// Engine is the MariaDB engine.
type Engine struct {
	// ConnectTimeout bounds each connection attempt; default 5 s.
	ConnectTimeout time.Duration
	// TLS is the driver's tls setting of the connections: "false",
	// "preferred" (the default: TLS when the server offers it, not
	// verified), "skip-verify" or "true" (verified). TLSFromSSLMode maps
	// libpq's sslmode names.
	TLS string
}

var _ dbcred.Engine = (*Engine)(nil)

// TLSFromSSLMode maps a libpq sslmode (the broker's --db-sslmode) to the
// driver's tls setting.
func TLSFromSSLMode(mode string) string {
	switch mode {
	case "disable":
		return "false"
	case "require":
		return "skip-verify"
	case "verify-ca", "verify-full":
		return "true"
	}
	return "preferred"
}

// connect opens one connection to the master's server as user. The
// session's time zone is UTC (event times are written in UTC).
func (e *Engine) connect(ctx context.Context, m *dbcred.Master, user string, password dbcred.Password) (*sql.DB, *sql.Conn, error) {
	cfg := driver.NewConfig()
	cfg.User = user
	cfg.Passwd = password.Reveal()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
	cfg.Timeout = e.ConnectTimeout
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	// A server that stops answering fails the step instead of wedging
	// the reaper.
	cfg.ReadTimeout, cfg.WriteTimeout = 30*time.Second, 30*time.Second
	cfg.TLSConfig = e.TLS
	if cfg.TLSConfig == "" {
		cfg.TLSConfig = "preferred"
	}
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	connector, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql: connection settings: %w", safeErr(err))
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("mysql: connect as %s: %w", user, safeErr(err))
	}
	return db, conn, nil
}

// master connects as the master and checks that the server is MariaDB.
func (e *Engine) master(ctx context.Context, m *dbcred.Master) (*sql.DB, *sql.Conn, error) {
	if !dbcred.ValidRoleName(m.Username) {
		return nil, nil, errors.New("mysql: invalid master user name")
	}
	db, conn, err := e.connect(ctx, m, m.Username, m.Password)
	if err != nil {
		return nil, nil, err
	}
	var version string
	if err := conn.QueryRowContext(ctx, `SELECT VERSION()`).Scan(&version); err != nil {
		conn.Close()
		db.Close()
		return nil, nil, fmt.Errorf("mysql: server version: %w", safeErr(err))
	}
	if !strings.Contains(version, "MariaDB") {
		conn.Close()
		db.Close()
		return nil, nil, fmt.Errorf("mysql: the server is not MariaDB (version %q): the broker creates credentials on MariaDB servers only", fault.Printable(version, 512))
	}
	return db, conn, nil
}

// CreateLease creates the lease's role, account and, when the server runs
// events and the master names a database, its end event; then it logs in
// as the account to set its default role. Whatever fails, what was made is
// dropped again.
func (e *Engine) CreateLease(ctx context.Context, m *dbcred.Master, role string, password dbcred.Password, grants []string, validUntil time.Time) (err error) {
	stmts, err := createStatements(role, nativeHash(password.Reveal()), grants)
	if err != nil {
		return err
	}
	db, conn, err := e.master(ctx, m)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	defer func() {
		if err != nil {
			// Leave nothing behind; if this fails too, the leftover
			// sweep or the end event drops it.
			_ = e.drop(context.WithoutCancel(ctx), conn, m, role)
		}
	}()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s.sql); err != nil {
			return fmt.Errorf("mysql: %s: %w", s.what, safeErr(err))
		}
	}
	if m.DBName != "" {
		var scheduler string
		if err := conn.QueryRowContext(ctx, `SELECT @@GLOBAL.event_scheduler`).Scan(&scheduler); err != nil {
			return fmt.Errorf("mysql: read event_scheduler: %w", safeErr(err))
		}
		if strings.EqualFold(scheduler, "ON") {
			ev, err := eventStatement(m.DBName, role, validUntil)
			if err != nil {
				return err
			}
			if _, err := conn.ExecContext(ctx, ev); err != nil {
				return fmt.Errorf("mysql: create the end event in %s (the master needs EVENT on it while event_scheduler is ON): %w", m.DBName, safeErr(err))
			}
		}
	}
	udb, uconn, err := e.connect(ctx, m, role, password)
	if err != nil {
		return fmt.Errorf("mysql: log in as the new account to set its default role: %w", err)
	}
	defer udb.Close()
	defer uconn.Close()
	if _, err := uconn.ExecContext(ctx, `SET DEFAULT ROLE `+quoteIdent(role+roleSuffix)); err != nil {
		return fmt.Errorf("mysql: set the default role: %w", safeErr(err))
	}
	return nil
}

type step struct{ what, sql string }

// createStatements are the statements that create a lease's role and
// account; hash is the password's mysql_native_password hash.
func createStatements(role, hash string, grants []string) ([]step, error) {
	if !dbcred.ValidRoleName(role) || len(role) > maxName {
		return nil, errors.New("mysql: invalid role name")
	}
	if len(grants) == 0 {
		return nil, errors.New("mysql: a lease needs at least one granted role")
	}
	lit, err := quoteString(hash)
	if err != nil {
		return nil, err
	}
	r := quoteIdent(role + roleSuffix)
	out := []step{{"create role", `CREATE ROLE ` + r}}
	for _, g := range grants {
		if !dbcred.ValidRoleName(g) {
			return nil, errors.New("mysql: invalid granted role name")
		}
		out = append(out, step{"grant " + g, `GRANT ` + quoteIdent(g) + ` TO ` + r})
	}
	return append(out,
		step{"create user", `CREATE USER ` + account(role) + ` IDENTIFIED BY PASSWORD ` + lit},
		step{"grant the lease's role", `GRANT ` + r + ` TO ` + account(role)},
	), nil
}

// eventStatement is the lease's end event: at validUntil (rounded up to
// the second, in UTC), lock, drop and disconnect the account.
func eventStatement(schema, role string, validUntil time.Time) (string, error) {
	if !dbcred.ValidRoleName(role) || len(role) > maxName {
		return "", errors.New("mysql: invalid role name")
	}
	if schema == "" || strings.ContainsAny(schema, "\x00`") {
		return "", errors.New("mysql: invalid database name")
	}
	at := validUntil.UTC()
	if at.Nanosecond() != 0 {
		at = at.Truncate(time.Second).Add(time.Second)
	}
	when, err := quoteString(at.Format("2006-01-02 15:04:05"))
	if err != nil {
		return "", err
	}
	comment, err := quoteString("shortfuse: ends the database credential " + role)
	if err != nil {
		return "", err
	}
	return `CREATE EVENT ` + quoteIdent(schema) + `.` + quoteIdent(role+eventSuffix) +
		` ON SCHEDULE AT ` + when + ` ON COMPLETION NOT PRESERVE COMMENT ` + comment + ` DO BEGIN ` +
		`ALTER USER IF EXISTS ` + account(role) + ` ACCOUNT LOCK; ` +
		`DROP USER IF EXISTS ` + account(role) + `; ` +
		`DROP ROLE IF EXISTS ` + quoteIdent(role+roleSuffix) + `; ` +
		`KILL CONNECTION USER ` + account(role) + `; END`, nil
}

// Drop locks the account, kills its connections, and drops it, its role
// and its end event.
func (e *Engine) Drop(ctx context.Context, m *dbcred.Master, role string) error {
	if !dbcred.ValidRoleName(role) || len(role) > maxName {
		return errors.New("mysql: invalid role name")
	}
	db, conn, err := e.master(ctx, m)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	return e.drop(ctx, conn, m, role)
}

func (e *Engine) drop(ctx context.Context, conn *sql.Conn, m *dbcred.Master, role string) error {
	if _, err := conn.ExecContext(ctx, `ALTER USER IF EXISTS `+account(role)+` ACCOUNT LOCK`); err != nil {
		return fmt.Errorf("mysql: lock the account: %w", safeErr(err))
	}
	// KILL USER ends every connection of the account with CONNECTION
	// ADMIN alone; the PROCESSLIST loop then waits until they are gone.
	if _, err := conn.ExecContext(ctx, `KILL CONNECTION USER `+account(role)); err != nil && !isErr(err, errNoSuchThread) {
		return fmt.Errorf("mysql: kill the account's connections: %w", safeErr(err))
	}
	if err := killAll(ctx, conn, role); err != nil {
		return err
	}
	for _, s := range []step{
		{"drop user", `DROP USER IF EXISTS ` + account(role)},
		{"drop role", `DROP ROLE IF EXISTS ` + quoteIdent(role+roleSuffix)},
	} {
		if _, err := conn.ExecContext(ctx, s.sql); err != nil {
			return fmt.Errorf("mysql: %s: %w", s.what, safeErr(err))
		}
	}
	if m.DBName != "" && !strings.ContainsAny(m.DBName, "\x00`") {
		_, err := conn.ExecContext(ctx, `DROP EVENT IF EXISTS `+quoteIdent(m.DBName)+`.`+quoteIdent(role+eventSuffix))
		// A master without EVENT on its database made no event.
		if err != nil && !isErr(err, errDBAccessDenied, errTableAccessDenied, errSpecificAccessDenied, errBadDB) {
			return fmt.Errorf("mysql: drop the end event: %w", safeErr(err))
		}
	}
	// A login that passed the password check before the lock.
	return killAll(ctx, conn, role)
}

// killAll kills the connections of user until none is left (a killed
// connection stays listed until its thread has ended), for up to 5 s.
func killAll(ctx context.Context, conn *sql.Conn, user string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		ids, err := connections(ctx, conn, user)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mysql: %d connections of %s still open after KILL", len(ids), user)
		}
		for _, id := range ids {
			if _, err := conn.ExecContext(ctx, `KILL CONNECTION `+strconv.FormatUint(id, 10)); err != nil && !isErr(err, errNoSuchThread) {
				return fmt.Errorf("mysql: kill a connection: %w", safeErr(err))
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func connections(ctx context.Context, conn *sql.Conn, user string) ([]uint64, error) {
	return column[uint64](ctx, conn, "list connections", `SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()`, user)
}

// column runs query on conn and returns its one column, row by row. Its
// errors say what the query is for.
func column[T any](ctx context.Context, conn *sql.Conn, what, query string, args ...any) ([]T, error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("mysql: %s: %w", what, safeErr(err))
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("mysql: %s: %w", what, safeErr(err))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql: %s: %w", what, safeErr(err))
	}
	return out, nil
}

// ListLeftovers lists the leases this master created whose names start
// with prefix: the roles name_r the master holds WITH ADMIN OPTION (what
// CREATE ROLE gives its creator), as the names of their accounts. A role
// without its account (a creation that stopped midway) is listed too:
// Drop removes both.
func (e *Engine) ListLeftovers(ctx context.Context, m *dbcred.Master, prefix string) ([]string, error) {
	db, conn, err := e.master(ctx, m)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()
	roles, err := column[string](ctx, conn, "list roles", `SELECT ROLE_NAME FROM information_schema.APPLICABLE_ROLES WHERE GRANTEE = CURRENT_USER() AND IS_GRANTABLE = 'YES' ORDER BY ROLE_NAME`)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range roles {
		if name, ok := strings.CutSuffix(r, roleSuffix); ok && strings.HasPrefix(name, prefix) && dbcred.ValidRoleName(name) && len(name) <= maxName {
			out = append(out, name)
		}
	}
	return out, nil
}

// Server error numbers the engine handles.
const (
	errDBAccessDenied       = 1044
	errBadDB                = 1049
	errNoSuchThread         = 1094
	errTableAccessDenied    = 1142
	errSpecificAccessDenied = 1227
)

func isErr(err error, numbers ...uint16) bool {
	var me *driver.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, n := range numbers {
		if me.Number == n {
			return true
		}
	}
	return false
}

// safeErr keeps what an error from the driver says that is safe to log and
// show an operator: the server's error number, SQLSTATE and message, cut
// where a syntax error would start quoting the statement (" near '…'"),
// which may hold a password hash. Other errors (connection errors) are the
// driver's and never hold a password.
func safeErr(err error) error {
	var me *driver.MySQLError
	if errors.As(err, &me) {
		msg := me.Message
		if i := strings.Index(msg, " near '"); i >= 0 {
			msg = msg[:i]
		}
		state := strings.TrimRight(string(me.SQLState[:]), "\x00")
		return fmt.Errorf("%s (error %d, SQLSTATE %s)", fault.Printable(msg, 512), me.Number, state)
	}
	return err
}

// quoteIdent quotes name as a MariaDB identifier: in backticks, a backtick
// doubled.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// account is the lease's account, name@'%'.
func account(name string) string { return quoteIdent(name) + "@'%'" }

// quoteString quotes s as a MariaDB string literal that means s whatever
// sql_mode is: a quote is doubled, and a backslash (whose meaning depends
// on NO_BACKSLASH_ESCAPES), NUL, control and non-ASCII characters are
// refused. The broker's literals are hex hashes, timestamps and names.
func quoteString(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return "", errors.New("mysql: a literal holds a character the broker does not quote")
		}
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

// nativeHash is the mysql_native_password hash of password:
// '*' and the upper-case hex of SHA1(SHA1(password)).
func nativeHash(password string) string {
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	return "*" + strings.ToUpper(hex.EncodeToString(h2[:]))
}
