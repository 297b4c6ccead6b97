// Package postgres is the PostgreSQL engine of per-session database
// credentials (package dbcred): it creates a lease's role, drops it and
// ends its connections, and finds the roles a broker left behind.
//
// # What the master role needs
//
// CREATEROLE, and no more. Each lease's role is created with the master
// as its member (CREATE ROLE … ROLE master), which is what lets a
// CREATEROLE role that is not a superuser end the lease's connections
// (pg_terminate_backend needs the privileges of the role whose backend it
// ends), reassign what the lease's role owns, and drop it. Granting the
// lease's role membership in the grants (IN ROLE …) needs, on PostgreSQL
// 15, only CREATEROLE (any non-superuser role); on PostgreSQL 16 and later,
// the master needs ADMIN OPTION on each granted role (GRANT app_reader TO
// master WITH ADMIN OPTION), and the creator of a role has ADMIN OPTION on
// it, which covers the rest.
//
// # Safe SQL
//
// PostgreSQL's utility statements (CREATE ROLE, DROP ROLE) take no bind
// parameters. Identifiers are quoted with pgx.Identifier.Sanitize. The
// password never reaches the server in clear: the statement carries its
// SCRAM-SHA-256 verifier (computed here, as libpq's
// PQencryptPasswordConn does), quoted as a literal by quoteLiteral, so a
// server that logs statements (log_statement = 'ddl') logs no password.
package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shortfuse/shortfuse/internal/dbcred"
)

// Engine is the PostgreSQL engine.
type Engine struct {
	// ConnectTimeout bounds each connection attempt; default 5 s.
	ConnectTimeout time.Duration
	// SSLMode is the libpq sslmode of the master's connections; default
	// "prefer".
	SSLMode string
	// Rand is the source of SCRAM salts; default crypto/rand.
	Rand io.Reader
}

var (
	_ dbcred.Engine  = (*Engine)(nil)
	_ dbcred.Rotator = (*Engine)(nil)
)

// connect opens a connection as the master. The password is set on the
// parsed configuration, never written into a connection string.
func (e *Engine) connect(ctx context.Context, m *dbcred.Master) (*pgx.Conn, error) {
	return e.connectAs(ctx, m, "the master")
}

// connectAs opens a connection as m, named who in errors.
func (e *Engine) connectAs(ctx context.Context, m *dbcred.Master, who string) (*pgx.Conn, error) {
	for _, v := range []string{m.Host, m.Username, m.DBName} {
		if strings.ContainsAny(v, " '\\=") {
			return nil, fmt.Errorf("postgres: the host, username or dbname of %s has a character a connection string cannot hold", who)
		}
	}
	mode := e.SSLMode
	if mode == "" {
		mode = "prefer"
	}
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=%s", m.Host, m.Port, m.Username, m.DBName, mode))
	if err != nil {
		return nil, fmt.Errorf("postgres: connection settings: %w", err)
	}
	cfg.Password = m.Password.Reveal()
	cfg.ConnectTimeout = e.ConnectTimeout
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	cfg.RuntimeParams["application_name"] = "shortfuse"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect as %s: %w", who, safeErr(err))
	}
	return conn, nil
}

// CreateLease creates the lease's role.
func (e *Engine) CreateLease(ctx context.Context, m *dbcred.Master, role string, password dbcred.Password, grants []string, validUntil time.Time) error {
	stmt, err := e.createStatement(m.Username, role, password, grants, validUntil)
	if err != nil {
		return err
	}
	return execAlone(ctx, func() (*pgx.Conn, error) { return e.connect(ctx, m) }, "create role", stmt)
}

// execAlone runs stmt in the simple protocol on a connection of its own,
// which connect opens, and closes the connection. what names stmt in its
// error.
func execAlone(ctx context.Context, connect func() (*pgx.Conn, error), what, stmt string) error {
	conn, err := connect()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, stmt, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, safeErr(err))
	}
	return nil
}

// createStatement is the CREATE ROLE statement of a lease.
func (e *Engine) createStatement(master, role string, password dbcred.Password, grants []string, validUntil time.Time) (string, error) {
	if !dbcred.ValidRoleName(role) || !dbcred.ValidRoleName(master) {
		return "", errors.New("postgres: invalid role name")
	}
	if len(grants) == 0 {
		return "", errors.New("postgres: a lease needs at least one granted role")
	}
	verifier, err := scramVerifier(e.Rand, password.Reveal())
	if err != nil {
		return "", err
	}
	quoted := make([]string, len(grants))
	for i, g := range grants {
		if !dbcred.ValidRoleName(g) {
			return "", errors.New("postgres: invalid granted role name")
		}
		quoted[i] = pgx.Identifier{g}.Sanitize()
	}
	var b strings.Builder
	b.WriteString("CREATE ROLE ")
	b.WriteString(pgx.Identifier{role}.Sanitize())
	b.WriteString(" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD ")
	b.WriteString(quoteLiteral(verifier))
	b.WriteString(" VALID UNTIL ")
	b.WriteString(quoteLiteral(validUntil.UTC().Format("2006-01-02 15:04:05.999999+00")))
	b.WriteString(" IN ROLE ")
	b.WriteString(strings.Join(quoted, ", "))
	b.WriteString(" ROLE ")
	b.WriteString(pgx.Identifier{master}.Sanitize())
	return b.String(), nil
}

// Drop ends the role: no more logins, its connections terminated (and
// waited for), what it owns in the master's database handed to the master
// and dropped, then the role itself.
func (e *Engine) Drop(ctx context.Context, m *dbcred.Master, role string) error {
	if !dbcred.ValidRoleName(role) {
		return errors.New("postgres: invalid role name")
	}
	conn, err := e.connect(ctx, m)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname = $1`, role).Scan(&n); err != nil {
		return fmt.Errorf("postgres: look up role: %w", safeErr(err))
	}
	if n == 0 {
		return nil
	}
	id := pgx.Identifier{role}.Sanitize()
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"refuse logins", `ALTER ROLE ` + id + ` NOLOGIN`, nil},
		{"terminate connections", `SELECT pg_terminate_backend(pid, 2000) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`, []any{role}},
		{"reassign owned objects", `REASSIGN OWNED BY ` + id + ` TO CURRENT_USER`, nil},
		{"drop owned objects", `DROP OWNED BY ` + id, nil},
		{"drop role", `DROP ROLE IF EXISTS ` + id, nil},
	}
	for _, s := range steps {
		if _, err := conn.Exec(ctx, s.sql, s.args...); err != nil {
			if isUndefinedRole(err) {
				return nil // dropped meanwhile (another replica)
			}
			return fmt.Errorf("postgres: %s: %w", s.what, safeErr(err))
		}
	}
	return nil
}

// ListLeftovers lists the roles named with prefix of which the master is
// a member: the roles this master created for leases.
func (e *Engine) ListLeftovers(ctx context.Context, m *dbcred.Master, prefix string) ([]string, error) {
	conn, err := e.connect(ctx, m)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `
SELECT r.rolname FROM pg_roles r
JOIN pg_auth_members am ON am.roleid = r.oid
JOIN pg_roles mr ON mr.oid = am.member
WHERE mr.rolname = current_user AND starts_with(r.rolname, $1)
ORDER BY r.rolname`, prefix)
	if err != nil {
		return nil, fmt.Errorf("postgres: list roles: %w", safeErr(err))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: list roles: %w", safeErr(err))
	}
	return names, nil
}

func isUndefinedRole(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42704"
}

// safeErr keeps what an error from the driver says that is safe to log
// and show an operator: the server's SQLSTATE and message (which name
// roles, never passwords), or the connection error's text. Statements,
// which carry the password's verifier, are never part of it.
func safeErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return errors.New(ce.Error())
	}
	return err
}

// quoteLiteral quotes s as a PostgreSQL string literal that means s
// whatever standard_conforming_strings is: quotes are doubled, and a
// string with a backslash is written as an escape string (E'…') with the
// backslashes doubled (libpq's PQescapeLiteral does the same).
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, "'", "''")
	if strings.Contains(s, `\`) {
		return ` E'` + strings.ReplaceAll(s, `\`, `\\`) + `'`
	}
	return `'` + s + `'`
}

// scramIterations is PostgreSQL's default (scram_iterations).
const scramIterations = 4096

// scramVerifier computes the SCRAM-SHA-256 verifier PostgreSQL stores for
// a password (RFC 5802, RFC 7677):
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>. The
// password is used as is; PostgreSQL's SASLprep leaves ASCII passwords,
// such as the broker's, unchanged.
func scramVerifier(rand io.Reader, password string) (string, error) {
	if strings.IndexByte(password, 0) >= 0 {
		return "", errors.New("postgres: a password cannot hold NUL")
	}
	salt := make([]byte, 16)
	if rand == nil {
		rand = cryptoRand{}
	}
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", err
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	enc := base64.StdEncoding.EncodeToString
	return "SCRAM-SHA-256$" + strconv.Itoa(scramIterations) + ":" + enc(salt) + "$" + enc(stored[:]) + ":" + enc(serverKey), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
