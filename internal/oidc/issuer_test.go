package oidc

import (
	"strings"
	"testing"
)

func TestNormalizeIssuer(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ok/github", "https://token.actions.githubusercontent.com", "https://token.actions.githubusercontent.com"},
		{"ok/gitlab-trailing-slash", "https://gitlab.com/", "https://gitlab.com"},
		{"ok/jenkins-path", "https://Jenkins.Example.COM/oidc", "https://jenkins.example.com/oidc"},
		{"ok/path-case-kept", "https://issuer.example/Tenant/X", "https://issuer.example/Tenant/X"},
		{"ok/port", "https://gitlab.example.com:8443/gitlab", "https://gitlab.example.com:8443/gitlab"},
		{"ok/scheme-case", "HTTPS://gitlab.com", "https://gitlab.com"},
		{"ok/http-loopback-v4", "http://127.0.0.1:8080/oidc", "http://127.0.0.1:8080/oidc"},
		{"ok/http-loopback-v6", "http://[::1]:8080", "http://[::1]:8080"},
		{"ok/http-localhost", "http://localhost:9000", "http://localhost:9000"},

		{"fail/empty", "", ""},
		{"fail/http-remote", "http://gitlab.com", ""},
		{"fail/http-private-ip", "http://10.0.0.1", ""},
		{"fail/ftp", "ftp://gitlab.com", ""},
		{"fail/no-scheme", "gitlab.com", ""},
		{"fail/query", "https://gitlab.com/?a=b", ""},
		{"fail/empty-query", "https://gitlab.com/?", ""},
		{"fail/fragment", "https://gitlab.com/#x", ""},
		{"fail/userinfo", "https://user@gitlab.com", ""},
		{"fail/escaped", "https://gitlab.com/a%2Fb", ""},
		{"fail/dot-segment", "https://gitlab.com/a/../b", ""},
		{"fail/empty-segment", "https://gitlab.com//a", ""},
		{"fail/space", "https://gitlab.com/a b", ""},
		{"fail/unicode-host", "https://gitlab.cöm", ""},
		{"fail/bad-port", "https://gitlab.com:x", ""},
		{"fail/empty-port", "https://gitlab.com:", ""},
		{"fail/path-char", "https://gitlab.com/a:b", ""},
		{"fail/too-long", "https://gitlab.com/" + strings.Repeat("a", 250), ""},
		{"fail/opaque", "https:gitlab.com", ""},
		{"fail/host-aws", "https://AWS/oidc", ""},
		{"fail/host-sts", "https://sts", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeIssuer(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("NormalizeIssuer(%q) = %q, want error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeIssuer(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
			}
			again, err := NormalizeIssuer(got)
			if err != nil || again != got {
				t.Errorf("NormalizeIssuer is not idempotent: %q → %q, %v", got, again, err)
			}
		})
	}
}

func TestConditionPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"https://token.actions.githubusercontent.com": "token.actions.githubusercontent.com",
		"https://jenkins.example.com/oidc":            "jenkins.example.com/oidc",
		"http://127.0.0.1:8080/oidc":                  "127.0.0.1:8080/oidc",
	} {
		if got := ConditionPrefix(in); got != want {
			t.Errorf("ConditionPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
