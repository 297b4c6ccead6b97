package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shortfuse/shortfuse/internal/dbcred"
)

// Rotation (package rotation). As for leases, passwords reach the server
// only as SCRAM-SHA-256 verifiers, quoted by quoteLiteral; role names pass
// dbcred.ValidRoleName and are quoted as identifiers.

// Ping connects as c and runs SELECT now(), as AWS's rotation templates'
// testSecret step does.
func (e *Engine) Ping(ctx context.Context, c *dbcred.Master) error {
	conn, err := e.connectAs(ctx, c, "the user "+safeName(c.Username))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT now() IS NOT NULL`).Scan(&ok); err != nil {
		return fmt.Errorf("postgres: test query: %w", safeErr(err))
	}
	return nil
}

// SetOwnPassword connects as c and sets c's password: a role may change
// its own password without any privilege.
func (e *Engine) SetOwnPassword(ctx context.Context, c *dbcred.Master, password dbcred.Password) error {
	stmt, err := e.passwordStatement("ALTER ROLE OWN", c.Username, password, "")
	if err != nil {
		return err
	}
	return execAlone(ctx, func() (*pgx.Conn, error) {
		return e.connectAs(ctx, c, "the user "+safeName(c.Username))
	}, "set the password", stmt)
}

// SetUserPassword connects as master and sets user's password, creating
// user (LOGIN, member of like) when it does not exist.
func (e *Engine) SetUserPassword(ctx context.Context, master *dbcred.Master, user, like string, password dbcred.Password) error {
	if !dbcred.ValidRoleName(user) || !dbcred.ValidRoleName(like) || !dbcred.ValidRoleName(master.Username) {
		return errors.New("postgres: invalid role name")
	}
	if user == master.Username || like == master.Username {
		return errors.New("postgres: the rotated user must not be the master itself")
	}
	conn, err := e.connect(ctx, master)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, name := range []string{user, like} {
		var super, createrole bool
		err := conn.QueryRow(ctx, `SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = $1`, name).Scan(&super, &createrole)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			continue
		case err != nil:
			return fmt.Errorf("postgres: look up role: %w", safeErr(err))
		case super || createrole:
			return fmt.Errorf("postgres: the role %s is a superuser or can create roles: the broker does not set its password", safeName(name))
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname = $1`, user).Scan(&n); err != nil {
		return fmt.Errorf("postgres: look up role: %w", safeErr(err))
	}
	if n == 0 {
		stmt, err := e.passwordStatement("CREATE ROLE", user, password, like)
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, stmt, pgx.QueryExecModeSimpleProtocol)
		if err == nil {
			return nil
		}
		if !isDuplicateRole(err) {
			return fmt.Errorf("postgres: create role: %w", safeErr(err))
		}
		// Created meanwhile (another replica): set its password.
	}
	stmt, err := e.passwordStatement("ALTER ROLE", user, password, "")
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, stmt, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("postgres: set the password: %w", safeErr(err))
	}
	return nil
}

// passwordStatement is "ALTER ROLE user WITH LOGIN PASSWORD 'verifier'";
// with verb ALTER ROLE OWN, "ALTER ROLE user PASSWORD 'verifier'" (all a
// role may change of itself); with verb CREATE ROLE, a new role, member
// of like.
func (e *Engine) passwordStatement(verb, user string, password dbcred.Password, like string) (string, error) {
	if !dbcred.ValidRoleName(user) {
		return "", errors.New("postgres: invalid role name")
	}
	verifier, err := scramVerifier(e.Rand, password.Reveal())
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(verb, " OWN"))
	b.WriteString(" ")
	b.WriteString(pgx.Identifier{user}.Sanitize())
	switch verb {
	case "CREATE ROLE":
		b.WriteString(" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD ")
	case "ALTER ROLE OWN":
		b.WriteString(" PASSWORD ")
	default:
		b.WriteString(" WITH LOGIN PASSWORD ")
	}
	b.WriteString(quoteLiteral(verifier))
	if like != "" {
		if !dbcred.ValidRoleName(like) {
			return "", errors.New("postgres: invalid role name")
		}
		b.WriteString(" IN ROLE ")
		b.WriteString(pgx.Identifier{like}.Sanitize())
	}
	return b.String(), nil
}

func isDuplicateRole(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42710"
}

// safeName is a role name fit for an error: names that pass the allowlist
// as they are, others not at all.
func safeName(s string) string {
	if dbcred.ValidRoleName(s) {
		return s
	}
	return "(invalid name)"
}
