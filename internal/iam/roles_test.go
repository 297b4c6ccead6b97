package iam

import (
	"strings"
	"testing"
)

func TestCreateRole(t *testing.T) {
	f := newFixture(t)
	f.role(t, "taken")
	tests := []struct {
		name        string
		in          CreateRoleInput
		kind        error
		msg         string
		wantSession int32
	}{
		{"ok/defaults", CreateRoleInput{Name: "ci", AssumeRolePolicyDocument: trustDoc}, nil, "", 3600},
		{"ok/all", CreateRoleInput{Name: "deploy", Path: "/ci/", AssumeRolePolicyDocument: trustDoc, Description: "Déploiement", MaxSessionDuration: 43200, Tags: []Tag{{"team", "ci"}}}, nil, "", 43200},
		{"fail/exists", CreateRoleInput{Name: "TAKEN", AssumeRolePolicyDocument: trustDoc}, ErrEntityAlreadyExists, "Role with name TAKEN already exists.", 0},
		{"fail/no-trust", CreateRoleInput{Name: "r1"}, ErrValidation, "assumeRolePolicyDocument", 0},
		{"fail/trust-not-json", CreateRoleInput{Name: "r2", AssumeRolePolicyDocument: "{"}, ErrMalformedPolicyDocument, "", 0},
		{"fail/trust-without-principal", CreateRoleInput{Name: "r3", AssumeRolePolicyDocument: allowRead}, ErrMalformedPolicyDocument, "", 0},
		{"fail/trust-unknown-element", CreateRoleInput{Name: "r4", AssumeRolePolicyDocument: strings.Replace(trustDoc, `"Action"`, `"Actions"`, 1)}, ErrMalformedPolicyDocument, "", 0},
		{"fail/session-too-short", CreateRoleInput{Name: "r5", AssumeRolePolicyDocument: trustDoc, MaxSessionDuration: 3599}, ErrValidation, "greater than or equal to 3600", 0},
		{"fail/session-too-long", CreateRoleInput{Name: "r6", AssumeRolePolicyDocument: trustDoc, MaxSessionDuration: 43201}, ErrValidation, "less than or equal to 43200", 0},
		{"fail/name-65", CreateRoleInput{Name: strings.Repeat("r", 65), AssumeRolePolicyDocument: trustDoc}, ErrValidation, "roleName", 0},
		{"fail/description-control-char", CreateRoleInput{Name: "r7", AssumeRolePolicyDocument: trustDoc, Description: "a\x01"}, ErrValidation, "description", 0},
		{"fail/description-too-long", CreateRoleInput{Name: "r8", AssumeRolePolicyDocument: trustDoc, Description: strings.Repeat("d", 1001)}, ErrValidation, "description", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.svc.CreateRole(bg, tc.in)
			wantErr(t, err, tc.kind, tc.msg)
			if err != nil {
				return
			}
			if !strings.HasPrefix(r.ID, "AROA") || r.MaxSessionDuration != tc.wantSession || r.AssumeRolePolicyDocument != trustDoc {
				t.Errorf("CreateRole = %+v", r)
			}
			got, err := f.svc.GetRole(bg, strings.ToUpper(tc.in.Name))
			must(t, err)
			if got.ARN != r.ARN || got.Description != tc.in.Description || len(got.Tags) != len(tc.in.Tags) {
				t.Errorf("GetRole = %+v, want %+v", got, r)
			}
		})
	}
}

func TestGetRoleByARN(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.CreateRole(bg, CreateRoleInput{Name: "Deploy", Path: "/ci/", AssumeRolePolicyDocument: trustDoc})
	must(t, err)
	tests := []struct {
		name string
		arn  string
		kind error
	}{
		{"ok/exact", "arn:aws:iam::123456789012:role/ci/Deploy", nil},
		{"ok/name-case", "arn:aws:iam::123456789012:role/ci/deploy", nil},
		{"fail/no-path", "arn:aws:iam::123456789012:role/Deploy", ErrNoSuchEntity},
		{"fail/path-case", "arn:aws:iam::123456789012:role/CI/Deploy", ErrNoSuchEntity},
		{"fail/other-account", "arn:aws:iam::210987654321:role/ci/Deploy", ErrNoSuchEntity},
		{"fail/user-arn", "arn:aws:iam::123456789012:user/ci/Deploy", ErrNoSuchEntity},
		{"fail/sts-arn", "arn:aws:sts::123456789012:assumed-role/Deploy/s", ErrNoSuchEntity},
		{"fail/garbage", "Deploy", ErrNoSuchEntity},
		{"fail/trailing-slash", "arn:aws:iam::123456789012:role/ci/Deploy/", ErrNoSuchEntity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.svc.GetRoleByARN(bg, tc.arn)
			wantErr(t, err, tc.kind, "")
			if err == nil && r.Name != "Deploy" {
				t.Errorf("Name = %q", r.Name)
			}
		})
	}
}

func TestUpdateAndDeleteRole(t *testing.T) {
	f := newFixture(t)
	f.role(t, "r")
	desc := "new description"
	newTrust := strings.Replace(trustDoc, "123456789012:root", "123456789012:user/alice", 1)
	mp := f.policy(t, "p", allowRead)
	tests := []struct {
		name string
		do   func() error
		kind error
		msg  string
	}{
		{"ok/update", func() error { return f.svc.UpdateRole(bg, "r", &desc, 7200) }, nil, ""},
		{"fail/update-session", func() error { return f.svc.UpdateRole(bg, "r", nil, 100) }, ErrValidation, ""},
		{"fail/update-missing", func() error { return f.svc.UpdateRole(bg, "x", nil, 7200) }, ErrNoSuchEntity, "The role with name x cannot be found."},
		{"ok/trust", func() error { return f.svc.UpdateAssumeRolePolicy(bg, "R", newTrust) }, nil, ""},
		{"fail/trust-identity-policy", func() error { return f.svc.UpdateAssumeRolePolicy(bg, "r", allowAll) }, ErrMalformedPolicyDocument, ""},
		{"ok/tag", func() error { return f.svc.TagRole(bg, "r", []Tag{{"a", "1"}, {"b", "2"}}) }, nil, ""},
		{"ok/untag", func() error { return f.svc.UntagRole(bg, "r", []string{"A"}) }, nil, ""},
		{"fail/tag-missing", func() error { return f.svc.TagRole(bg, "x", []Tag{{"a", "1"}}) }, ErrNoSuchEntity, ""},
		{"ok/inline", func() error { return f.svc.PutInlinePolicy(bg, KindRole, "r", "p", allowRead) }, nil, ""},
		{"fail/delete-inline", func() error { return f.svc.DeleteRole(bg, "r") }, ErrDeleteConflict, "must delete policies first"},
		{"ok/delete-inline-policy", func() error { return f.svc.DeleteInlinePolicy(bg, KindRole, "r", "p") }, nil, ""},
		{"ok/attach", func() error { return f.svc.AttachPolicy(bg, KindRole, "r", mp.ARN) }, nil, ""},
		{"fail/delete-attached", func() error { return f.svc.DeleteRole(bg, "r") }, ErrDeleteConflict, "must detach all policies first"},
		{"ok/detach", func() error { return f.svc.DetachPolicy(bg, KindRole, "r", mp.ARN) }, nil, ""},
		{"ok/delete", func() error { return f.svc.DeleteRole(bg, "r") }, nil, ""},
		{"fail/delete-again", func() error { return f.svc.DeleteRole(bg, "r") }, ErrNoSuchEntity, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.do(), tc.kind, tc.msg)
			if tc.name == "ok/untag" {
				r, err := f.svc.GetRole(bg, "r")
				must(t, err)
				if r.Description != desc || r.MaxSessionDuration != 7200 || r.AssumeRolePolicyDocument != newTrust || len(r.Tags) != 1 || r.Tags[0].Key != "b" {
					t.Errorf("role = %+v", r)
				}
			}
		})
	}
}

func TestListRoles(t *testing.T) {
	f := newFixture(t)
	for _, in := range []CreateRoleInput{{Name: "b", Path: "/x/"}, {Name: "a"}, {Name: "c", Path: "/x/y/"}} {
		in.AssumeRolePolicyDocument = trustDoc
		_, err := f.svc.CreateRole(bg, in)
		must(t, err)
	}
	for _, tc := range []struct{ name, prefix, want string }{
		{"ok/all", "", "a,b,c"},
		{"ok/x", "/x/", "b,c"},
		{"ok/xy", "/x/y", "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := f.svc.ListRoles(bg, tc.prefix)
			must(t, err)
			if got := nameList(rs, func(r *Role) string { return r.Name }); got != tc.want {
				t.Errorf("ListRoles(%q) = %s, want %s", tc.prefix, got, tc.want)
			}
		})
	}
}
