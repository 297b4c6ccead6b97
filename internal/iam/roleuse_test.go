package iam

import (
	"testing"
	"time"
)

func TestRoleLastUsed(t *testing.T) {
	f := newFixture(t)
	r := f.role(t, "deployer")
	lu, err := f.svc.GetRoleLastUsed(bg, r.ID)
	must(t, err)
	if lu != nil {
		t.Fatalf("never used: %+v", lu)
	}
	t0 := f.clock.now()
	must(t, f.svc.RecordRoleUse(bg, r.ID, "us-east-1"))

	tests := []struct {
		name       string
		advance    time.Duration
		region     string
		wantDate   time.Time
		wantRegion string
	}{
		{"ok/same-minute-not-rewritten", 30 * time.Second, "us-east-1", t0, "us-east-1"},
		{"ok/other-region-written", 0, "eu-west-1", t0.Add(30 * time.Second), "eu-west-1"},
		{"ok/after-a-minute-written", 2 * time.Minute, "eu-west-1", t0.Add(150 * time.Second), "eu-west-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.add(tc.advance)
			must(t, f.svc.RecordRoleUse(bg, r.ID, tc.region))
			lu, err := f.svc.GetRoleLastUsed(bg, r.ID)
			must(t, err)
			if lu == nil || !lu.Date.Equal(tc.wantDate) || lu.Region != tc.wantRegion {
				t.Errorf("last used = %+v, want %s at %v", lu, tc.wantRegion, tc.wantDate)
			}
		})
	}
	t.Run("ok/deleted-role-forgets", func(t *testing.T) {
		must(t, f.svc.DeleteRole(bg, "deployer"))
		lu, err := f.svc.GetRoleLastUsed(bg, r.ID)
		must(t, err)
		if lu != nil {
			t.Errorf("after DeleteRole: %+v", lu)
		}
	})
}
