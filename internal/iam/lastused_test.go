package iam

import (
	"testing"
	"time"
)

// checkUseRecording records a use at place first, then checks that a use
// within a minute at the same place is not written again, and one at
// another place (of the kind word) or a minute later is. last reads back
// the recorded use (lu, for the messages): its place and date, or "" when
// there is none.
func checkUseRecording(t *testing.T, f *fixture, word, first, other string, record func(place string) error, last func() (lu any, place string, date time.Time, err error)) {
	t.Helper()
	t0 := f.clock.Now()
	must(t, record(first))
	tests := []struct {
		name     string
		advance  time.Duration
		place    string
		wantDate time.Time
	}{
		{"ok/same-minute-not-rewritten", 30 * time.Second, first, t0},
		{"ok/other-" + word + "-written", 0, other, t0.Add(30 * time.Second)},
		{"ok/after-a-minute-written", 2 * time.Minute, other, t0.Add(150 * time.Second)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Add(tc.advance)
			must(t, record(tc.place))
			lu, place, date, err := last()
			must(t, err)
			if place != tc.place || !date.Equal(tc.wantDate) {
				t.Errorf("last used = %+v, want %s at %v", lu, tc.place, tc.wantDate)
			}
		})
	}
}

func TestRoleLastUsed(t *testing.T) {
	f := newFixture(t)
	r := f.role(t, "deployer")
	lu, err := f.svc.GetRoleLastUsed(bg, r.ID)
	must(t, err)
	if lu != nil {
		t.Fatalf("never used: %+v", lu)
	}
	checkUseRecording(t, f, "region", "us-east-1", "eu-west-1",
		func(region string) error { return f.svc.RecordRoleUse(bg, r.ID, region) },
		func() (any, string, time.Time, error) {
			lu, err := f.svc.GetRoleLastUsed(bg, r.ID)
			if err != nil || lu == nil {
				return lu, "", time.Time{}, err
			}
			return lu, lu.Region, lu.Date, nil
		})
	t.Run("ok/deleted-role-forgets", func(t *testing.T) {
		must(t, f.svc.DeleteRole(bg, "deployer"))
		lu, err := f.svc.GetRoleLastUsed(bg, r.ID)
		must(t, err)
		if lu != nil {
			t.Errorf("after DeleteRole: %+v", lu)
		}
	})
}

func TestPasswordLastUsed(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")
	f.user(t, "bob")
	lastUsed := func(name string) time.Time {
		t.Helper()
		u, err := f.svc.GetUser(bg, name)
		must(t, err)
		users, err := f.svc.ListUsers(bg, "")
		must(t, err)
		for _, l := range users {
			if l.Name == u.Name && !l.PasswordLastUsed.Equal(u.PasswordLastUsed) {
				t.Errorf("ListUsers %s: %v, GetUser: %v", name, l.PasswordLastUsed, u.PasswordLastUsed)
			}
		}
		return u.PasswordLastUsed
	}
	if got := lastUsed("alice"); !got.IsZero() {
		t.Fatalf("never signed in: %v", got)
	}
	at := f.clock.Now()
	must(t, f.svc.RecordPasswordUse(bg, "ALICE"))
	tests := []struct {
		name, user string
		want       time.Time
	}{
		{"ok/signed-in", "alice", at},
		{"ok/other-user-untouched", "bob", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := lastUsed(tc.user); !got.Equal(tc.want) {
				t.Errorf("PasswordLastUsed = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("fail/unknown-user", func(t *testing.T) {
		wantErr(t, f.svc.RecordPasswordUse(bg, "nobody"), ErrNoSuchEntity, "")
	})
	t.Run("ok/deleted-user-forgets", func(t *testing.T) {
		a, err := f.svc.GetUser(bg, "alice")
		must(t, err)
		must(t, f.svc.DeleteUser(bg, "alice"))
		err = f.svc.view(bg, func(tx *txn) error {
			d, err := tx.passwordLastUsed(a.ID)
			if !d.IsZero() {
				t.Errorf("after DeleteUser: %v", d)
			}
			return err
		})
		must(t, err)
	})
}
