package main

import (
	"os/user"
	"strings"
	"testing"
	"time"
)

func TestTokenInputValidate(t *testing.T) {
	role := "arn:aws:iam::111122223333:role/deploy"
	testValidate(t, []validateCase[tokenInput]{
		{"ok/defaults", tokenInput{duration: 15 * time.Minute}, ""},
		{"ok/role-everything", tokenInput{duration: time.Hour, role: role, sessionName: "job-1", maxUses: 3, policyFile: "p.json", externalID: "x", mfaSerial: "arn:aws:iam::111122223333:mfa/a", mfaCode: "123456", format: "env"}, ""},
		{"ok/credential-process", tokenInput{duration: 15 * time.Minute, credentialProcess: true, noCache: true}, ""},
		{"ok/max-duration-session-token", tokenInput{duration: 36 * time.Hour}, ""},
		{"fail/too-short", tokenInput{duration: 14 * time.Minute}, "AWS accepts 15m"},
		{"fail/fraction", tokenInput{duration: 15*time.Minute + time.Millisecond}, "whole seconds"},
		{"fail/role-too-long", tokenInput{duration: 13 * time.Hour, role: role}, "15m to 12h0m0s"},
		{"ok/max-uses-without-role", tokenInput{duration: 15 * time.Minute, maxUses: 2}, ""},
		{"fail/negative-max-uses", tokenInput{duration: 15 * time.Minute, role: role, maxUses: -1}, "positive"},
		{"fail/policy-without-role", tokenInput{duration: 15 * time.Minute, policyFile: "p.json"}, "--policy needs --role"},
		{"fail/session-name-without-role", tokenInput{duration: 15 * time.Minute, sessionName: "abc"}, "--session-name needs --role"},
		{"fail/bad-role", tokenInput{duration: 15 * time.Minute, role: "deploy"}, "want a role ARN"},
		{"fail/bad-session-name", tokenInput{duration: 15 * time.Minute, role: role, sessionName: "a b"}, "--session-name"},
		{"fail/code-without-serial", tokenInput{duration: 15 * time.Minute, mfaCode: "123456"}, "needs --mfa-serial"},
		{"fail/bad-code", tokenInput{duration: 15 * time.Minute, mfaSerial: "arn:aws:iam::111122223333:mfa/a", mfaCode: "12345"}, "6 digits"},
		{"fail/format", tokenInput{duration: 15 * time.Minute, format: "xml"}, "unknown format"},
		{"fail/credential-process-format", tokenInput{duration: 15 * time.Minute, credentialProcess: true, format: "aws"}, "drop --format aws"},
		{"fail/no-cache-alone", tokenInput{duration: 15 * time.Minute, noCache: true}, "--no-cache only applies"},
	})
}

func TestDefaultSessionName(t *testing.T) {
	now := time.Unix(1795600000, 0)
	for _, tc := range []struct{ user, want string }{
		{"alice", "shortfuse-alice"},
		{"", "shortfuse-1795600000"},
		{"bad user", "shortfuse-1795600000"},
		{strings.Repeat("x", 60), "shortfuse-1795600000"},
	} {
		if got := defaultSessionName(tc.user, now); got != tc.want {
			t.Errorf("defaultSessionName(%q) = %q, want %q", tc.user, got, tc.want)
		}
	}
}

func TestLoginName(t *testing.T) {
	env := map[string]string{"LOGNAME": "builder"}
	if got := loginName(func(k string) string { return env[k] }); got != "builder" {
		t.Errorf("loginName without USER = %q, want LOGNAME's builder", got)
	}
	u, err := user.Current()
	if err != nil {
		t.Skip("no account name on this system:", err)
	}
	if got := loginName(func(string) string { return "" }); got != u.Username {
		t.Errorf("loginName without USER and LOGNAME = %q, want the account's %q", got, u.Username)
	}
}
