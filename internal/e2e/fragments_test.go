package e2e

import (
	"strings"
	"testing"
)

// TestExecMasksFragments: a job that prints pieces of its secrets (the
// issue's env | cut -c1-60) shows no run of mask.FragmentLen (12)
// characters of a secret or of a part of its token.
func TestExecMasksFragments(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", clientAccount)
	admin := b.adminCreds()
	role := ciRole(t, b, admin)
	const value = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
	if r := b.sf(b.adminEnv(), value+"\n", "secret", "put", "/prod/db"); r.Code != 0 {
		t.Fatalf("secret put: %s", r.Stderr)
	}
	tok := b.mustToken("--role", role)
	sess := jenkinsCreds(t, tok)
	script := `env | cut -c1-60
printf '%s\n' "$DB" | cut -c3-20
printf '%s\n' "$AWS_SESSION_TOKEN" | cut -c40-80
printf '%s\n' "$AWS_SECRET_ACCESS_KEY" | rev | rev | cut -c1-13`
	r := b.sf([]string{"SHORTFUSE_TOKEN=" + tok}, "", "exec", "--secret", "DB=/prod/db", "--", "sh", "-c", script)
	if r.Code != 0 {
		t.Fatalf("exec exit %d\n%s", r.Code, r.Stderr)
	}
	out := r.Stdout + r.Stderr
	for _, secret := range []string{value, sess.SecretAccessKey, sess.SessionToken} {
		for i := 0; i+12 <= len(secret); i++ {
			if strings.Contains(out, secret[i:i+12]) {
				t.Fatalf("12 characters of a secret (from %d) reached the output:\n%s", i, out)
			}
		}
	}
	for _, want := range []string{"DB=****", "AWS_SECRET_ACCESS_KEY=****"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
	}
}
