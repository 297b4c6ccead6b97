package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shortfuse/shortfuse/internal/dbcred"
)

// appUser creates a LOGIN role that reads through the fixture's reader
// role, and returns its credential.
func (f *fixture) appUser(t *testing.T, password string) *dbcred.Master {
	t.Helper()
	ctx := context.Background()
	name := randName("app_")
	for _, s := range []string{
		`CREATE ROLE ` + name + ` LOGIN PASSWORD ` + quoteLiteral(password) + ` IN ROLE ` + f.reader,
	} {
		if _, err := f.admin.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	var ver int
	_ = f.admin.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&ver)
	if ver >= 160000 {
		if _, err := f.admin.Exec(ctx, `GRANT `+name+` TO `+f.master.Username+` WITH ADMIN OPTION`); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range []string{name + dbcred.CloneSuffix, name} {
			_, _ = f.admin.Exec(context.Background(), `DROP ROLE IF EXISTS `+pgx.Identifier{n}.Sanitize())
		}
	})
	c := *f.master
	c.Username, c.Password = name, dbcred.NewPassword(password)
	return &c
}

func TestPingAndSetOwnPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := &Engine{SSLMode: "disable"}
	user := f.appUser(t, "old-Password-1")
	if err := e.Ping(ctx, user); err != nil {
		t.Fatalf("Ping with the right password: %v", err)
	}
	bad := *user
	bad.Password = dbcred.NewPassword("not-the-Password-9")
	if err := e.Ping(ctx, &bad); err == nil {
		t.Fatal("Ping with a wrong password succeeded")
	} else if strings.Contains(err.Error(), "not-the-Password-9") {
		t.Fatalf("the error holds the password: %v", err)
	}
	newPW := `n3w'Pa\ss$$word`
	if err := e.SetOwnPassword(ctx, user, dbcred.NewPassword(newPW)); err != nil {
		t.Fatalf("SetOwnPassword: %v", err)
	}
	if err := e.Ping(ctx, user); err == nil {
		t.Error("the old password still works")
	}
	next := *user
	next.Password = dbcred.NewPassword(newPW)
	if err := e.Ping(ctx, &next); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}
	var verifier string
	if err := f.admin.QueryRow(ctx, `SELECT rolpassword FROM pg_authid WHERE rolname = $1`, user.Username).Scan(&verifier); err == nil && !strings.HasPrefix(verifier, "SCRAM-SHA-256$") {
		t.Errorf("stored password is not a SCRAM verifier")
	}
}

func TestSetUserPasswordClone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e := &Engine{SSLMode: "disable"}
	user := f.appUser(t, "old-Password-1")
	clone := user.Username + dbcred.CloneSuffix
	pw := "Clone-Password-1"
	if err := e.SetUserPassword(ctx, f.master, clone, user.Username, dbcred.NewPassword(pw)); err != nil {
		t.Fatalf("SetUserPassword (create): %v", err)
	}
	conn, err := f.login(ctx, clone, pw)
	if err != nil {
		t.Fatalf("login as the clone: %v", err)
	}
	var name string
	if err := conn.QueryRow(ctx, `SELECT name FROM items WHERE id = 1`).Scan(&name); err != nil || name != "one" {
		t.Errorf("the clone cannot read what the user reads: %q, %v", name, err)
	}
	conn.Close(ctx)
	if err := e.SetUserPassword(ctx, f.master, clone, user.Username, dbcred.NewPassword(pw+"2")); err != nil {
		t.Fatalf("SetUserPassword (alter): %v", err)
	}
	if _, err := f.login(ctx, clone, pw); err == nil {
		t.Error("the clone's old password still works")
	}
	if _, err := f.login(ctx, clone, pw+"2"); err != nil {
		t.Errorf("the clone's new password does not work: %v", err)
	}
	// Back to the user itself.
	if err := e.SetUserPassword(ctx, f.master, user.Username, clone, dbcred.NewPassword("User-Password-2")); err != nil {
		t.Fatalf("SetUserPassword (user): %v", err)
	}
	if _, err := f.login(ctx, user.Username, "User-Password-2"); err != nil {
		t.Errorf("the user's new password does not work: %v", err)
	}
	// Refused: the master, a role that can create roles, hostile names.
	if err := e.SetUserPassword(ctx, f.master, f.master.Username, user.Username, dbcred.NewPassword("x")); err == nil {
		t.Error("SetUserPassword changed the master's password")
	}
	if _, err := f.admin.Exec(ctx, `ALTER ROLE `+user.Username+` CREATEROLE`); err != nil {
		t.Fatal(err)
	}
	if err := e.SetUserPassword(ctx, f.master, user.Username, clone, dbcred.NewPassword("x")); err == nil {
		t.Error("SetUserPassword changed the password of a CREATEROLE role")
	}
	if err := e.SetUserPassword(ctx, f.master, `x" SUPERUSER`, user.Username, dbcred.NewPassword("x")); err == nil {
		t.Error("SetUserPassword accepted a hostile name")
	}
}

func TestPasswordStatementNeverHoldsPassword(t *testing.T) {
	e := &Engine{}
	pw := "Sup3rS3cretPassw0rdValue"
	for _, verb := range []string{"ALTER ROLE", "ALTER ROLE OWN", "CREATE ROLE"} {
		stmt, err := e.passwordStatement(verb, "app_clone", dbcred.NewPassword(pw), "app")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stmt, pw) || !strings.Contains(stmt, "PASSWORD 'SCRAM-SHA-256$4096:") {
			t.Fatalf("statement: %s", stmt)
		}
	}
	if _, err := e.passwordStatement("ALTER ROLE", `a"b`, dbcred.NewPassword(pw), ""); err == nil {
		t.Error("a hostile name was accepted")
	}
}
