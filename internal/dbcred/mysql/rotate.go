package mysql

import (
	"context"
	"errors"
	"fmt"

	"github.com/shortfuse/shortfuse/internal/dbcred"
)

// Rotation (package rotation) of MariaDB secrets: single user only. A
// password reaches the server only as its mysql_native_password hash.
//
// Alternating users is refused: the master would set the password of an
// account the secret names, and MariaDB shows a master with CREATE USER
// (which may change any account's password, root's included) no other
// account's privileges without SELECT on the mysql schema, so the broker
// cannot refuse a superuser as it does on PostgreSQL.

// Ping connects as c and runs SELECT NOW(), as AWS's rotation templates'
// testSecret step does.
func (e *Engine) Ping(ctx context.Context, c *dbcred.Master) error {
	db, conn, err := e.connect(ctx, c, c.Username, c.Password)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT NOW() IS NOT NULL`).Scan(&ok); err != nil {
		return fmt.Errorf("mysql: test query: %w", safeErr(err))
	}
	return nil
}

// SetOwnPassword connects as c and sets its own password (SET PASSWORD,
// which needs no privilege for one's own account).
func (e *Engine) SetOwnPassword(ctx context.Context, c *dbcred.Master, password dbcred.Password) error {
	stmt, err := setOwnPasswordStatement(password)
	if err != nil {
		return err
	}
	db, conn, err := e.connect(ctx, c, c.Username, c.Password)
	if err != nil {
		return err
	}
	defer db.Close()
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("mysql: set the password: %w", safeErr(err))
	}
	return nil
}

// setOwnPasswordStatement is SET PASSWORD = '<hash>'.
func setOwnPasswordStatement(password dbcred.Password) (string, error) {
	if password.IsZero() {
		return "", errors.New("mysql: empty password")
	}
	hash, err := quoteString(nativeHash(password.Reveal()))
	if err != nil {
		return "", err
	}
	return "SET PASSWORD = " + hash, nil
}

// noAlternatingUsers says why alternating-users rotation is refused.
const noAlternatingUsers = "Alternating-users rotation is not supported on MariaDB: the broker cannot check that the account the master would reset is not privileged. Rotate the secret as a single user (remove masterarn from its value)."

// ErrNoAlternatingUsers refuses alternating-users rotation on MariaDB.
var ErrNoAlternatingUsers = errors.New("mysql: " + noAlternatingUsers)

// SingleUserOnly implements dbcred.SingleUserOnly.
func (e *Engine) SingleUserOnly() string { return noAlternatingUsers }

// SetUserPassword refuses: see the comment at the top of this file.
func (e *Engine) SetUserPassword(context.Context, *dbcred.Master, string, string, dbcred.Password) error {
	return ErrNoAlternatingUsers
}

var (
	_ dbcred.Rotator        = (*Engine)(nil)
	_ dbcred.SingleUserOnly = (*Engine)(nil)
)
