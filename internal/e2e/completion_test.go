package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestCompletion asks the real binary for completions as a shell does
// (shortfuse __complete ...): fixed values of flags, and secret ids and
// role ARNs from the broker with the caller's credentials.
func TestCompletion(t *testing.T) {
	t.Parallel()
	b, role := startCIBroker(t)
	admin := b.adminCreds()
	b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/prod/db", "--secret-string", "x-not-shown")
	b.mustAWS(admin, "secretsmanager", "create-secret", "--name", "/dev/db", "--secret-string", "x-not-shown")

	lines := func(r cliResult) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
			if !strings.HasPrefix(l, ":") {
				out = append(out, l)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"ok/format", nil, []string{"token", "--format", ""}, []string{"jenkins", "env", "json", "aws"}},
		{"ok/op", nil, []string{"bench", "--op", ""}, []string{"get-secret-value", "assume-role", "get-session-token", "put-secret-value", "mixed"}},
		{"ok/secret-ids", b.adminEnv(), []string{"exec", "--secret", "DB=/prod/"}, []string{"DB=/prod/db"}},
		{"ok/role-arns", b.adminEnv(), []string{"token", "--role", "arn:"}, []string{role}},
		{"ok/no-credentials-no-values", nil, []string{"exec", "--secret", "DB=/"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := b.sf(tc.env, "", append([]string{"__complete"}, tc.args...)...)
			if r.Code != 0 {
				t.Fatalf("exit %d: %s", r.Code, r.Stderr)
			}
			got := lines(r)
			if tc.want == nil {
				if len(got) != 0 {
					t.Errorf("completions %q, want none", got)
				}
			} else if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("completions %q, want %q", got, tc.want)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("completion took %s", time.Since(start))
			}
			if strings.Contains(r.Stdout+r.Stderr, "x-not-shown") {
				t.Error("a secret value in the completions")
			}
		})
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := b.sf(nil, "", "completion", shell)
		if r.Code != 0 || !strings.Contains(r.Stdout, "__complete") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, r.Code, len(r.Stdout))
		}
	}
}
