package iam

import (
	"fmt"
	"strings"
	"testing"
)

func TestGroups(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")
	f.user(t, "bob")
	g := f.group(t, "Devs", "/eng/")
	if g.ARN != "arn:aws:iam::123456789012:group/eng/Devs" || !strings.HasPrefix(g.ID, "AGPA") {
		t.Fatalf("CreateGroup = %+v", g)
	}
	f.group(t, "ops", "")

	runSteps(t, []step{
		{"fail/create-exists", func() error { _, err := f.svc.CreateGroup(bg, "DEVS", ""); return err }, ErrEntityAlreadyExists, "Group with name DEVS already exists."},
		{"fail/create-bad-name", func() error { _, err := f.svc.CreateGroup(bg, "a:b", ""); return err }, ErrValidation, "groupName"},
		{"ok/add", func() error { return f.svc.AddUserToGroup(bg, "devs", "alice") }, nil, ""},
		{"ok/add-again", func() error { return f.svc.AddUserToGroup(bg, "DEVS", "ALICE") }, nil, ""},
		{"ok/add-bob", func() error { return f.svc.AddUserToGroup(bg, "devs", "bob") }, nil, ""},
		{"ok/add-ops", func() error { return f.svc.AddUserToGroup(bg, "ops", "alice") }, nil, ""},
		{"fail/add-missing-user", func() error { return f.svc.AddUserToGroup(bg, "devs", "carol") }, ErrNoSuchEntity, "The user with name carol cannot be found."},
		{"fail/add-missing-group", func() error { return f.svc.AddUserToGroup(bg, "qa", "alice") }, ErrNoSuchEntity, "The group with name qa cannot be found."},
		{"fail/remove-non-member", func() error { return f.svc.RemoveUserFromGroup(bg, "ops", "bob") }, ErrNoSuchEntity, ""},
		{"fail/delete-with-members", func() error { return f.svc.DeleteGroup(bg, "devs") }, ErrDeleteConflict, "must remove users from group first"},
		{"fail/delete-missing", func() error { return f.svc.DeleteGroup(bg, "qa") }, ErrNoSuchEntity, ""},
		{"ok/remove", func() error { return f.svc.RemoveUserFromGroup(bg, "devs", "bob") }, nil, ""},
	})

	_, members, err := f.svc.GetGroup(bg, "devs")
	must(t, err)
	if len(members) != 1 || members[0].Name != "alice" {
		t.Errorf("members = %+v, want [alice]", members)
	}
	groups, err := f.svc.ListGroupsForUser(bg, "alice")
	must(t, err)
	if len(groups) != 2 || groups[0].Name != "Devs" || groups[1].Name != "ops" {
		t.Errorf("ListGroupsForUser = %+v", groups)
	}
	all, err := f.svc.ListGroups(bg, "/eng/")
	must(t, err)
	if len(all) != 1 || all[0].Name != "Devs" {
		t.Errorf("ListGroups(/eng/) = %+v", all)
	}

	t.Run("ok/rename", func(t *testing.T) {
		must(t, f.svc.UpdateGroup(bg, "devs", "builders", "/"))
		groups, err := f.svc.ListGroupsForUser(bg, "alice")
		must(t, err)
		if len(groups) != 2 || groups[0].Name != "builders" || groups[0].ARN != "arn:aws:iam::123456789012:group/builders" {
			t.Errorf("after rename ListGroupsForUser = %+v", groups)
		}
	})
	t.Run("fail/rename-taken", func(t *testing.T) {
		wantErr(t, f.svc.UpdateGroup(bg, "builders", "OPS", ""), ErrEntityAlreadyExists, "")
	})
	t.Run("ok/delete", func(t *testing.T) {
		must(t, f.svc.RemoveUserFromGroup(bg, "ops", "alice"))
		must(t, f.svc.DeleteGroup(bg, "ops"))
		groups, err := f.svc.ListGroupsForUser(bg, "alice")
		must(t, err)
		if len(groups) != 1 {
			t.Errorf("after delete ListGroupsForUser = %+v", groups)
		}
	})
}

func TestGroupLimitsAndConflicts(t *testing.T) {
	f := newFixture(t)
	f.user(t, "u")
	for i := range maxGroupsPerUser {
		name := fmt.Sprintf("g%d", i)
		f.group(t, name, "")
		must(t, f.svc.AddUserToGroup(bg, name, "u"))
	}
	f.group(t, "extra", "")
	wantErr(t, f.svc.AddUserToGroup(bg, "extra", "u"), ErrLimitExceeded, "GroupsPerUser: 10")

	mp := f.policy(t, "p", allowRead)
	tests := []struct {
		name  string
		setup func(g string)
		msg   string
	}{
		{"fail/inline", func(g string) { must(t, f.svc.PutInlinePolicy(bg, KindGroup, g, "p", allowRead)) }, "must delete policies first"},
		{"fail/attached", func(g string) { must(t, f.svc.AttachPolicy(bg, KindGroup, g, mp.ARN)) }, "must detach all policies first"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := fmt.Sprintf("c%d", i)
			f.group(t, g, "")
			tc.setup(g)
			wantErr(t, f.svc.DeleteGroup(bg, g), ErrDeleteConflict, tc.msg)
		})
	}
}
