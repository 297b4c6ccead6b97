package e2e

import (
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

// TestWebIdentityExec: a job that holds only its CI system's OIDC token runs
// its command through shortfuse exec, which trades the token for a session
// of the role (flags, or the standard variables), gives it to the command,
// and revokes it at exit.
func TestWebIdentityExec(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "111122223333")
	admin := b.adminCreds()
	li := newE2EIssuer(t)
	_, role := webIdentityRole(t, b, admin, li)
	tokFile := writeFile(t, "oidc-token", testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", li.claims())+"\n")
	script := `aws sts get-caller-identity --query Arn --output text && printf 'KEY=%s\n' "$AWS_ACCESS_KEY_ID" > "$OUT"`

	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flags", []string{"GITHUB_RUN_ID=4242"}, []string{"--web-identity-token-file", tokFile, "--role", role}},
		{"standard-variables", []string{"AWS_WEB_IDENTITY_TOKEN_FILE=" + tokFile, "AWS_ROLE_ARN=" + role, "AWS_ROLE_SESSION_NAME=ci-vars"}, nil},
	} {
		t.Run("ok/"+tc.name, func(t *testing.T) {
			out := writeFile(t, "out", "")
			args := append(append([]string{"exec"}, tc.args...), "--", "sh", "-c", script)
			r := b.sf(append(tc.env, "OUT="+out), "", args...)
			if r.Code != 0 {
				t.Fatalf("exec: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
			}
			if !strings.Contains(r.Stdout, "arn:aws:sts::111122223333:assumed-role/gh-deploy/") {
				t.Errorf("the command did not run as the role: %q", r.Stdout)
			}
			if tc.name == "flags" && !strings.Contains(r.Stdout, "/ci-4242") {
				t.Errorf("session name not taken from the CI job id: %q", r.Stdout)
			}
			if strings.Contains(r.Stdout+r.Stderr, "eyJ") {
				t.Error("the OIDC token appears in the output")
			}
		})
	}

	t.Run("fail/bad-token", func(t *testing.T) {
		bad := writeFile(t, "bad-token", "not-a-jwt")
		r := b.sf(nil, "", "exec", "--web-identity-token-file", bad, "--role", role, "--", "true")
		if r.Code == 0 || !strings.Contains(r.Stderr, "shortfuse: error: AssumeRoleWithWebIdentity") || !strings.Contains(r.Stderr, "InvalidIdentityToken") {
			t.Errorf("exec with a bad token: exit %d\n%s", r.Code, r.Stderr)
		}
	})
	t.Run("fail/role-without-token", func(t *testing.T) {
		r := b.sf(nil, "", "exec", "--role", role, "--", "true")
		if r.Code == 0 || !strings.Contains(r.Stderr, "go together") {
			t.Errorf("exec --role alone: exit %d\n%s", r.Code, r.Stderr)
		}
	})
}
