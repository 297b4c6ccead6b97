package iam

import (
	"fmt"
	"strings"
	"testing"
)

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name    string
		in      CreateUserInput
		kind    error
		msg     string
		wantARN string
	}{
		{"ok/default-path", CreateUserInput{Name: "alice"}, nil, "", "arn:aws:iam::123456789012:user/alice"},
		{"ok/path", CreateUserInput{Name: "bob", Path: "/ci/jenkins/"}, nil, "", "arn:aws:iam::123456789012:user/ci/jenkins/bob"},
		{"ok/all-name-chars", CreateUserInput{Name: "a_Z9+=,.@-"}, nil, "", "arn:aws:iam::123456789012:user/a_Z9+=,.@-"},
		{"ok/64-chars", CreateUserInput{Name: strings.Repeat("u", 64)}, nil, "", ""},
		{"ok/tags", CreateUserInput{Name: "tagged", Tags: []Tag{{"team", "ci"}, {"Cost Center", ""}}}, nil, "", ""},
		{"fail/exists", CreateUserInput{Name: "taken"}, ErrEntityAlreadyExists, "User with name taken already exists.", ""},
		{"fail/exists-other-case", CreateUserInput{Name: "TAKEN"}, ErrEntityAlreadyExists, "User with name TAKEN already exists.", ""},
		{"fail/empty", CreateUserInput{}, ErrValidation, "Value null at 'userName'", ""},
		{"fail/65-chars", CreateUserInput{Name: strings.Repeat("u", 65)}, ErrValidation, "length less than or equal to 64", ""},
		{"fail/slash", CreateUserInput{Name: "a/b"}, ErrValidation, "regular expression pattern", ""},
		{"fail/unicode", CreateUserInput{Name: "ıdmin"}, ErrValidation, "regular expression pattern", ""},
		{"fail/space", CreateUserInput{Name: "a b"}, ErrValidation, "regular expression pattern", ""},
		{"fail/path-no-trailing-slash", CreateUserInput{Name: "p1", Path: "/ci"}, ErrValidation, "'path'", ""},
		{"fail/path-space", CreateUserInput{Name: "p2", Path: "/c i/"}, ErrValidation, "'path'", ""},
		{"fail/tag-aws-prefix", CreateUserInput{Name: "t1", Tags: []Tag{{"AWS:x", "1"}}}, ErrInvalidInput, "aws:", ""},
		{"fail/tag-duplicate-case", CreateUserInput{Name: "t2", Tags: []Tag{{"k", "1"}, {"K", "2"}}}, ErrInvalidInput, "Duplicate tag keys", ""},
		{"fail/tag-bad-char", CreateUserInput{Name: "t3", Tags: []Tag{{"k;", "1"}}}, ErrValidation, "tags.1.member.key", ""},
		{"fail/tag-value-too-long", CreateUserInput{Name: "t4", Tags: []Tag{{"k", strings.Repeat("v", 257)}}}, ErrValidation, "tags.1.member.value", ""},
		{"fail/51-tags", CreateUserInput{Name: "t5", Tags: manyTags(51)}, ErrValidation, "", ""},
	}
	f := newFixture(t)
	f.user(t, "taken")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := f.svc.CreateUser(bg, tc.in)
			wantErr(t, err, tc.kind, tc.msg)
			if tc.kind != nil {
				return
			}
			if !strings.HasPrefix(u.ID, "AIDA") || len(u.ID) != 20 {
				t.Errorf("ID = %q, want AIDA + 16 characters", u.ID)
			}
			if tc.wantARN != "" && u.ARN != tc.wantARN {
				t.Errorf("ARN = %q, want %q", u.ARN, tc.wantARN)
			}
			got, err := f.svc.GetUser(bg, strings.ToUpper(tc.in.Name))
			must(t, err)
			if got.Name != tc.in.Name || got.ID != u.ID || len(got.Tags) != len(tc.in.Tags) {
				t.Errorf("GetUser = %+v, want %+v", got, u)
			}
		})
	}
}

func manyTags(n int) []Tag {
	out := make([]Tag, n)
	for i := range out {
		out[i] = Tag{Key: fmt.Sprintf("k%d", i), Value: "v"}
	}
	return out
}

func TestGetUser(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")
	tests := []struct {
		name string
		user string
		kind error
		msg  string
	}{
		{"ok/exact", "alice", nil, ""},
		{"ok/case-insensitive", "ALICE", nil, ""},
		{"fail/missing", "bob", ErrNoSuchEntity, "The user with name bob cannot be found."},
		{"fail/invalid", "a b", ErrValidation, ""},
		{"fail/empty", "", ErrValidation, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := f.svc.GetUser(bg, tc.user)
			wantErr(t, err, tc.kind, tc.msg)
			if err == nil && u.Name != "alice" {
				t.Errorf("Name = %q, want alice", u.Name)
			}
		})
	}
}

func TestListUsers(t *testing.T) {
	f := newFixture(t)
	for _, u := range []CreateUserInput{{Name: "carol", Path: "/ci/"}, {Name: "Alice"}, {Name: "bob", Path: "/ci/jenkins/"}} {
		_, err := f.svc.CreateUser(bg, u)
		must(t, err)
	}
	tests := []struct {
		name   string
		prefix string
		want   string
		kind   error
	}{
		{"ok/all", "", "Alice,bob,carol", nil},
		{"ok/root", "/", "Alice,bob,carol", nil},
		{"ok/ci", "/ci/", "bob,carol", nil},
		{"ok/jenkins", "/ci/j", "bob", nil},
		{"ok/none", "/nothing/", "", nil},
		{"fail/no-leading-slash", "ci/", "", ErrValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			us, err := f.svc.ListUsers(bg, tc.prefix)
			wantErr(t, err, tc.kind, "")
			if got := nameList(us, func(u *User) string { return u.Name }); got != tc.want {
				t.Errorf("ListUsers(%q) = %q, want %q", tc.prefix, got, tc.want)
			}
		})
	}
}

func TestUpdateUserRenameFollowsReferences(t *testing.T) {
	f := newFixture(t)
	f.user(t, "old")
	f.user(t, "other")
	f.group(t, "devs", "")
	must(t, f.svc.AddUserToGroup(bg, "devs", "old"))
	mp := f.policy(t, "read", allowRead)
	must(t, f.svc.AttachPolicy(bg, KindUser, "old", mp.ARN))
	key, err := f.svc.CreateAccessKey(bg, "old")
	must(t, err)
	dev := f.mfaEnabled(t, "old", "old-phone")

	tests := []struct {
		name             string
		user, newN, newP string
		kind             error
		msg              string
	}{
		{"fail/missing", "nobody", "x", "", ErrNoSuchEntity, ""},
		{"fail/taken", "old", "OTHER", "", ErrEntityAlreadyExists, "User with name OTHER already exists."},
		{"fail/bad-new-name", "old", "a b", "", ErrValidation, "newUserName"},
		{"fail/bad-new-path", "old", "", "x", ErrValidation, "newPath"},
		{"ok/case-only", "old", "Old", "", nil, ""},
		{"ok/rename-and-move", "Old", "new", "/moved/", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, f.svc.UpdateUser(bg, tc.user, tc.newN, tc.newP), tc.kind, tc.msg)
		})
	}

	if _, err := f.svc.GetUser(bg, "old"); err == nil {
		t.Fatal("old name still resolves")
	}
	u, _, _, err := f.svc.LookupAccessKey(bg, key.ID)
	must(t, err)
	if u.Name != "new" || u.ARN != "arn:aws:iam::123456789012:user/moved/new" {
		t.Errorf("key owner = %s %s, want new at /moved/", u.Name, u.ARN)
	}
	_, members, err := f.svc.GetGroup(bg, "devs")
	must(t, err)
	if len(members) != 1 || members[0].Name != "new" {
		t.Errorf("group members = %+v, want [new]", members)
	}
	ents, err := f.svc.ListEntitiesForPolicy(bg, mp.ARN, 0, "")
	must(t, err)
	if len(ents.Users) != 1 || ents.Users[0].Name != "new" {
		t.Errorf("policy users = %+v, want [new]", ents.Users)
	}
	owner, err := f.svc.MFADeviceUser(bg, dev)
	must(t, err)
	if owner.Name != "new" {
		t.Errorf("MFA owner = %q, want new", owner.Name)
	}
	pols, err := f.svc.UserPolicies(bg, "new")
	must(t, err)
	if len(pols) != 1 || pols[0].ID != mp.ARN {
		t.Errorf("UserPolicies = %+v, want the attached policy", pols)
	}
}

func TestDeleteUser(t *testing.T) {
	f := newFixture(t)
	mp := f.policy(t, "p", allowRead)
	f.group(t, "g", "")
	setups := map[string]func(name string){
		"keys":     func(n string) { _, err := f.svc.CreateAccessKey(bg, n); must(t, err) },
		"inline":   func(n string) { must(t, f.svc.PutInlinePolicy(bg, KindUser, n, "p", allowRead)) },
		"attached": func(n string) { must(t, f.svc.AttachPolicy(bg, KindUser, n, mp.ARN)) },
		"group":    func(n string) { must(t, f.svc.AddUserToGroup(bg, "g", n)) },
		"mfa":      func(n string) { f.mfaEnabled(t, n, n+"-dev") },
	}
	tests := []struct {
		name  string
		setup string
		kind  error
		msg   string
	}{
		{"ok/bare", "", nil, ""},
		{"fail/missing", "-", ErrNoSuchEntity, ""},
		{"fail/access-keys", "keys", ErrDeleteConflict, "must delete access keys first"},
		{"fail/inline-policy", "inline", ErrDeleteConflict, "must delete policies first"},
		{"fail/attached-policy", "attached", ErrDeleteConflict, "must detach all policies first"},
		{"fail/group-member", "group", ErrDeleteConflict, "must remove users from group first"},
		{"fail/mfa-device", "mfa", ErrDeleteConflict, "must delete MFA device first"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("u%d", i)
			if tc.setup != "-" {
				f.user(t, name)
				if s := setups[tc.setup]; s != nil {
					s(name)
				}
			}
			wantErr(t, f.svc.DeleteUser(bg, name), tc.kind, tc.msg)
			_, err := f.svc.GetUser(bg, name)
			if exists := err == nil; exists != (tc.kind != nil && tc.setup != "-") {
				t.Errorf("user exists after DeleteUser = %v", exists)
			}
		})
	}
}

func TestTagUser(t *testing.T) {
	f := newFixture(t)
	f.user(t, "u")
	must(t, f.svc.TagUser(bg, "u", []Tag{{"team", "a"}, {"env", "prod"}}))
	tests := []struct {
		name string
		do   func() error
		kind error
		want string
	}{
		{"ok/replace-value-any-case", func() error { return f.svc.TagUser(bg, "u", []Tag{{"TEAM", "b"}}) }, nil, "TEAM=b,env=prod"},
		{"ok/add", func() error { return f.svc.TagUser(bg, "u", []Tag{{"x", ""}}) }, nil, "TEAM=b,env=prod,x="},
		{"ok/untag-any-case", func() error { return f.svc.UntagUser(bg, "u", []string{"ENV", "absent"}) }, nil, "TEAM=b,x="},
		{"fail/no-tags", func() error { return f.svc.TagUser(bg, "u", nil) }, ErrValidation, "TEAM=b,x="},
		{"fail/missing-user", func() error { return f.svc.TagUser(bg, "nobody", []Tag{{"a", "b"}}) }, ErrNoSuchEntity, "TEAM=b,x="},
		{"fail/over-50", func() error { return f.svc.TagUser(bg, "u", manyTags(49)) }, ErrLimitExceeded, "TEAM=b,x="},
		{"fail/untag-no-keys", func() error { return f.svc.UntagUser(bg, "u", nil) }, ErrValidation, "TEAM=b,x="},
		{"fail/reserved", func() error { return f.svc.TagUser(bg, "u", []Tag{{"aws:foo", "b"}}) }, ErrInvalidInput, "TEAM=b,x="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.do(), tc.kind, "")
			u, err := f.svc.GetUser(bg, "u")
			must(t, err)
			var got []string
			for _, tag := range u.Tags {
				got = append(got, tag.Key+"="+tag.Value)
			}
			if s := strings.Join(got, ","); s != tc.want {
				t.Errorf("tags = %q, want %q", s, tc.want)
			}
		})
	}
}
