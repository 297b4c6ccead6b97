package mysql

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/dbcred/mariadbtest"
)

func TestSetOwnPasswordStatementSendsOnlyTheHash(t *testing.T) {
	pw := dbcred.NewPassword("n3w-Pass'word")
	stmt, err := setOwnPasswordStatement(pw)
	if err != nil {
		t.Fatal(err)
	}
	if want := "SET PASSWORD = '" + nativeHash(pw.Reveal()) + "'"; stmt != want {
		t.Errorf("statement %q, want %q", stmt, want)
	}
	if strings.Contains(stmt, pw.Reveal()) {
		t.Error("the statement holds the password")
	}
	if _, err := setOwnPasswordStatement(dbcred.NewPassword("")); err == nil {
		t.Error("an empty password was accepted")
	}
}

// TestSingleUserRotationOnServer: the user sets its own new password; the
// old one is refused after, the new one works, and Ping says which.
func TestSingleUserRotationOnServer(t *testing.T) {
	t.Parallel()
	f := mariadbtest.NewFixture(t)
	ctx := context.Background()
	e := &Engine{TLS: "false"}
	user := "app_user_" + mariadbtest.RandHex(4)
	oldPW := "0ld" + mariadbtest.RandHex(8)
	if _, err := f.Server.Root.Exec("CREATE USER `" + user + "`@'%' IDENTIFIED BY '" + oldPW + "'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = f.Server.Root.Exec("DROP USER IF EXISTS `" + user + "`@'%'") })
	cur := &dbcred.Master{Engine: "mariadb", Host: f.Server.Host, Port: f.Server.Port, Username: user, Password: dbcred.NewPassword(oldPW)}
	if err := e.Ping(ctx, cur); err != nil {
		t.Fatalf("Ping with the current password: %v", err)
	}
	newPW, _ := dbcred.NewPasswordFrom(nil)
	if err := e.SetOwnPassword(ctx, cur, newPW); err != nil {
		t.Fatal(err)
	}
	pending := *cur
	pending.Password = newPW
	if err := e.Ping(ctx, &pending); err != nil {
		t.Errorf("Ping with the new password: %v", err)
	}
	err := e.Ping(ctx, cur)
	if err == nil {
		t.Fatal("the old password still logs in")
	}
	if strings.Contains(err.Error(), oldPW) || strings.Contains(err.Error(), newPW.Reveal()) {
		t.Errorf("the error shows a password: %v", err)
	}
}

func TestAlternatingUsersRefused(t *testing.T) {
	e := &Engine{}
	err := e.SetUserPassword(context.Background(), &dbcred.Master{}, "app_clone", "app", dbcred.NewPassword("x"))
	if !errors.Is(err, ErrNoAlternatingUsers) {
		t.Fatalf("SetUserPassword = %v, want ErrNoAlternatingUsers", err)
	}
}
