package main

import (
	"testing"
	"time"
)

func TestRevokeInputValidate(t *testing.T) {
	principal := "arn:aws:iam::111122223333:user/alice"
	testValidate(t, []validateCase[revokeInput]{
		{"ok/keys", revokeInput{keys: []string{"ASIAFAKE000000000001", "ASIAFAKE000000000002"}}, ""},
		{"ok/principal", revokeInput{principal: principal}, ""},
		{"ok/principal-before", revokeInput{principal: principal, before: "2026-11-25T10:00:00Z"}, ""},
		{"ok/role-session-principal", revokeInput{principal: "arn:aws:sts::111122223333:assumed-role/ci/job"}, ""},
		{"ok/self", revokeInput{self: true}, ""},
		{"fail/nothing", revokeInput{}, "say what to revoke"},
		{"fail/two-modes", revokeInput{self: true, principal: principal}, "say what to revoke"},
		{"fail/bad-key", revokeInput{keys: []string{"asia-lower"}}, "not an access key id"},
		{"fail/bad-principal", revokeInput{principal: "alice"}, "want an IAM user or role ARN"},
		{"fail/before-alone", revokeInput{self: true, before: "2026-11-25T10:00:00Z"}, "--before needs --principal"},
		{"fail/bad-before", revokeInput{principal: principal, before: "yesterday"}, "RFC 3339"},
	})
	in := revokeInput{principal: principal, before: "2026-11-25T10:00:00Z"}
	in.validate()
	if !in.beforeT.Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("beforeT = %v", in.beforeT)
	}
}
