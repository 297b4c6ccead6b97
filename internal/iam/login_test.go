package iam

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestMain makes the password hash cheap for this package's tests; the
// parameters are stored with each hash, so the code paths are the same.
func TestMain(m *testing.M) {
	defaultArgon = argonParams{Time: 1, Memory: 64, Threads: 1}
	os.Exit(m.Run())
}

const goodPassword = "correct horse battery staple"

// password gives the user a login profile with goodPassword.
func (f *fixture) password(t *testing.T, user string) {
	t.Helper()
	_, err := f.svc.CreateLoginProfile(bg, user, goodPassword, false)
	must(t, err)
}

// checkPassword reports whether CheckPassword of user's password fails
// with want (nil: succeeds), and fails the test if not; what names the
// case.
func (f *fixture) checkPassword(t *testing.T, what, user, password string, want error) bool {
	t.Helper()
	_, err := f.svc.CheckPassword(bg, user, password)
	if !errors.Is(err, want) {
		t.Errorf("CheckPassword(%s) = %v, want %v", what, err, want)
		return false
	}
	return true
}

func TestLoginProfileLifecycle(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")

	p, err := f.svc.CreateLoginProfile(bg, "alice", goodPassword, true)
	must(t, err)
	if p.UserName != "alice" || !p.PasswordResetRequired || p.CreateDate.IsZero() {
		t.Fatalf("CreateLoginProfile() = %+v", p)
	}
	_, err = f.svc.CreateLoginProfile(bg, "alice", goodPassword, false)
	wantErr(t, err, ErrEntityAlreadyExists, "already exists")

	got, err := f.svc.GetLoginProfile(bg, "ALICE")
	must(t, err)
	if *got != *p {
		t.Errorf("GetLoginProfile() = %+v, want %+v", got, p)
	}
	if !f.checkPassword(t, "good", "alice", goodPassword, nil) {
		t.FailNow()
	}

	// The stored record holds a salted hash, never the password.
	must(t, f.svc.view(bg, func(tx *txn) error {
		u, err := tx.user("alice")
		if err != nil {
			return err
		}
		v, err := tx.Get(bucketLogin, u.ID)
		if err != nil {
			return err
		}
		if strings.Contains(string(v), "horse") {
			t.Error("the login record contains the password")
		}
		var rec loginRec
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		if len(rec.Salt) != 16 || len(rec.Hash) != 32 {
			t.Errorf("record salt %d bytes, hash %d bytes", len(rec.Salt), len(rec.Hash))
		}
		return nil
	}))

	// ChangePassword needs the old password and clears the reset flag.
	wantErr(t, f.svc.ChangePassword(bg, "alice", "wrong password wrong", "another long passphrase"), ErrInvalidInput, "old password")
	wantErr(t, f.svc.ChangePassword(bg, "alice", goodPassword, goodPassword), ErrPasswordPolicyViolation, "differ")
	must(t, f.svc.ChangePassword(bg, "alice", goodPassword, "another long passphrase"))
	got, err = f.svc.GetLoginProfile(bg, "alice")
	must(t, err)
	if got.PasswordResetRequired {
		t.Error("ChangePassword() left the reset flag set")
	}
	f.checkPassword(t, "old", "alice", goodPassword, ErrWrongPassword)

	// UpdateLoginProfile: the administrator sets a password and the flag.
	pw, yes := "administrator chosen pw", true
	must(t, f.svc.UpdateLoginProfile(bg, "alice", &pw, &yes))
	got, err = f.svc.GetLoginProfile(bg, "alice")
	must(t, err)
	if !got.PasswordResetRequired {
		t.Error("UpdateLoginProfile() did not set the reset flag")
	}
	f.checkPassword(t, "updated", "alice", pw, nil)

	must(t, f.svc.DeleteLoginProfile(bg, "alice"))
	_, err = f.svc.GetLoginProfile(bg, "alice")
	wantErr(t, err, ErrNoSuchEntity, "cannot be found")
	wantErr(t, f.svc.DeleteLoginProfile(bg, "alice"), ErrNoSuchEntity, "")
	f.checkPassword(t, "deleted", "alice", pw, ErrWrongPassword)
}

func TestLoginProfileDoesNotSurviveRecreation(t *testing.T) {
	f := newFixture(t)
	f.user(t, "bob")
	f.password(t, "bob")
	// As in AWS, a user with a login profile cannot be deleted.
	wantErr(t, f.svc.DeleteUser(bg, "bob"), ErrDeleteConflict, "login profile")
	must(t, f.svc.DeleteLoginProfile(bg, "bob"))
	must(t, f.svc.DeleteUser(bg, "bob"))
	f.user(t, "bob")
	if !f.checkPassword(t, "a new user of the same name", "bob", goodPassword, ErrWrongPassword) {
		t.FailNow()
	}
	_, err := f.svc.GetLoginProfile(bg, "bob")
	wantErr(t, err, ErrNoSuchEntity, "")
	// A rename keeps the password.
	f.password(t, "bob")
	must(t, f.svc.UpdateUser(bg, "bob", "robert", ""))
	f.checkPassword(t, "after rename", "robert", goodPassword, nil)
}

func TestCheckPasswordRefusals(t *testing.T) {
	f := newFixture(t)
	f.user(t, "carol")
	f.password(t, "carol")
	f.user(t, "dave")
	tests := []struct {
		name, user, password string
	}{
		{"fail/wrong-password", "carol", "correct horse battery stapler"},
		{"fail/empty-password", "carol", ""},
		{"fail/unknown-user", "mallory", goodPassword},
		{"fail/no-profile", "dave", goodPassword},
		{"fail/bad-user-name", "carol/../x", goodPassword},
		{"fail/huge-password", "carol", strings.Repeat("x", 10000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.checkPassword(t, tc.name, tc.user, tc.password, ErrWrongPassword)
		})
	}
}

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		name, user, password string
		ok                   bool
	}{
		{"ok/fourteen", "u", "abcdefghijklmn", true},
		{"ok/latin1", "u", "ÄÖÜäöüßéèêàçñø", true},
		{"fail/thirteen", "u", "abcdefghijklm", false},
		{"fail/too-long", "u", strings.Repeat("a", MaxPasswordLength+1), false},
		{"fail/beyond-latin1", "u", "abcdefghijklmn€", false},
		{"fail/control", "u", "abcdefghijklmn\x00", false},
		{"fail/user-name", "abcdefghijklmnop", "ABCDEFGHIJKLMNOP", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPasswordPolicy(tc.user, tc.password)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPasswordPolicy() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && strings.Contains(err.Error(), tc.password) {
				t.Error("the error quotes the password")
			}
		})
	}
	f := newFixture(t)
	f.user(t, "erin")
	_, err := f.svc.CreateLoginProfile(bg, "erin", "short", false)
	wantErr(t, err, ErrPasswordPolicyViolation, "at least 14")
	_, err = f.svc.CreateLoginProfile(bg, "nobody", goodPassword, false)
	wantErr(t, err, ErrNoSuchEntity, "")
}
