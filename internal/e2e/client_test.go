package e2e

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

// The CI client against the real broker: shortfuse token → shortfuse exec
// → the child, with the real aws CLI inside and outside.

const clientAccount = "111122223333"

// ciTrust lets admin assume the role, with session tags (--max-uses
// travels as one, and AWS asks for sts:TagSession in the trust policy).
const ciTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + clientAccount + `:user/admin"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`

// startCIBroker starts a broker of clientAccount and creates the role "ci"
// that admin may assume, allowed to read the secrets under /prod/ and
// nothing else; it returns the broker and the role's ARN.
func startCIBroker(t *testing.T) (*broker, string) {
	t.Helper()
	b := startBroker(t, "", "--account-id", clientAccount)
	admin := b.adminCreds()
	trust := writeFile(t, "trust.json", ciTrust)
	b.mustAWS(admin, "iam", "create-role", "--role-name", "ci", "--assume-role-policy-document", "file://"+trust)
	b.mustAWS(admin, "iam", "put-role-policy", "--role-name", "ci", "--policy-name", "read-prod", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:BatchGetSecretValue"],"Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"}]}`)
	return b, "arn:aws:iam::" + clientAccount + ":role/ci"
}

// adminEnv is the environment of an operator holding the admin key.
func (b *broker) adminEnv() []string {
	return []string{"AWS_SHARED_CREDENTIALS_FILE=" + b.adminCredentialsFile()}
}

// mustToken runs shortfuse token with args and returns the jenkins string.
func (b *broker) mustToken(args ...string) string {
	b.t.Helper()
	r := b.sf(b.adminEnv(), "", append([]string{"token"}, args...)...)
	if r.Code != 0 {
		b.t.Fatalf("shortfuse token %v: exit %d\n%s", args, r.Code, r.Stderr)
	}
	return strings.TrimSpace(r.Stdout)
}

// putSecret stores value, given on stdin, as the secret name with
// shortfuse secret put as the operator.
func (b *broker) putSecret(name, value string) cliResult {
	b.t.Helper()
	r := b.sf(b.adminEnv(), value+"\n", "secret", "put", name)
	if r.Code != 0 {
		b.t.Fatalf("secret put %s: exit %d\n%s", name, r.Code, r.Stderr)
	}
	return r
}

// jenkinsCreds splits a jenkins-format token.
func jenkinsCreds(t *testing.T, tok string) creds {
	t.Helper()
	p := strings.Split(tok, ":")
	if len(p) != 3 {
		t.Fatalf("token has %d parts", len(p))
	}
	return creds{SessionToken: p[0], AccessKeyID: p[1], SecretAccessKey: p[2]}
}

func TestClientTokenExecRevoke(t *testing.T) {
	t.Parallel()
	b, role := startCIBroker(t)

	// The operator stores the secret from a pipe; only the version id shows.
	const password = "correct-horse-battery-9"
	put := b.putSecret("/prod/db", `{"username":"app","password":"`+password+`"}`)
	if strings.Contains(put.Stdout+put.Stderr, password) || len(strings.TrimSpace(put.Stdout)) < 32 {
		t.Fatalf("secret put: stdout %q\nstderr %s", put.Stdout, put.Stderr)
	}
	b.putSecret("/prod/api", "sk_live_0123456789abcdef")

	tok := b.mustToken("--role", role, "--session-name", "job-1")
	sess := jenkinsCreds(t, tok)

	// The child: sees the secrets, prints them in several ways, uses the
	// session with the aws CLI from the environment and from the
	// container-credentials endpoint, and exits 42.
	script := `
test "$PW" = '` + password + `' && echo "child sees the secret"
test "$API" = sk_live_0123456789abcdef && echo "child sees the api key"
echo "plain: $PW"
printf 'split: %s' "$(printf %s "$PW" | cut -c1-6)"; printf '%s\n' "$(printf %s "$PW" | cut -c7-)"
echo "base64: $(printf %s "$PW" | base64)"
echo "base64 at offset 1: $(printf 'x%s' "$PW" | base64)"
echo "stderr: $PW" >&2
aws sts get-caller-identity --query Arn --output text
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN aws sts get-caller-identity --query Arn --output text | sed 's/^/via endpoint: /'
exit 42
`
	r := b.sf([]string{"SHORTFUSE_TOKEN=" + tok}, "", "exec", "--secret", "PW=/prod/db#password", "--secret", "API=/prod/api", "--", "sh", "-c", script)
	if r.Code != 42 {
		t.Fatalf("exec exit %d, want the child's 42\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{
		"child sees the secret", "child sees the api key",
		"plain: ****", "split: ****", "base64: ****",
		"arn:aws:sts::" + clientAccount + ":assumed-role/ci/job-1",
		"via endpoint: arn:aws:sts::" + clientAccount + ":assumed-role/ci/job-1",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
	}
	if !strings.Contains(r.Stderr, "stderr: ****") {
		t.Errorf("stderr lacks the masked line:\n%s", r.Stderr)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(password))
	b64x := base64.StdEncoding.EncodeToString([]byte("x" + password))
	for _, leak := range []string{password, password[:6] + password[6:], b64[:len(b64)-4], b64x[4 : len(b64x)-4], sess.SecretAccessKey, sess.SessionToken} {
		if strings.Contains(r.Stdout, leak) || strings.Contains(r.Stderr, leak) {
			t.Errorf("output contains %q:\nstdout: %s\nstderr: %s", leak, r.Stdout, r.Stderr)
		}
	}
	if !strings.Contains(r.Stderr, "shortfuse: revoked session ") {
		t.Errorf("exec did not say it revoked the session:\n%s", r.Stderr)
	}

	// Right after exit, the session is refused everywhere.
	b.wantAWSError(sess, "ExpiredToken", "sts", "get-caller-identity")
	b.wantAWSError(sess, "ExpiredTokenException", "secretsmanager", "get-secret-value", "--secret-id", "/prod/db")
	// ...and exec refuses it before starting anything, in one line.
	marker := filepath.Join(t.TempDir(), "started")
	r = b.sf([]string{"SHORTFUSE_TOKEN=" + tok}, "", "exec", "--", "touch", marker)
	if r.Code == 0 || fileExists(marker) {
		t.Fatalf("exec with a revoked token: exit %d, command started %v", r.Code, fileExists(marker))
	}
	if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "shortfuse: error: the token was refused") {
		t.Errorf("refusal is not one line:\n%s", r.Stderr)
	}

	// The operator sees the session as revoked.
	ls := b.sf(b.adminEnv(), "", "sessions", "--all")
	if ls.Code != 0 || !strings.Contains(ls.Stdout, sess.AccessKeyID) || !strings.Contains(ls.Stdout, "revoked") {
		t.Errorf("sessions --all: exit %d\n%s%s", ls.Code, ls.Stdout, ls.Stderr)
	}
}

// TestExecMasksFragments: a job that prints pieces of its secrets (env |
// cut -c1-60, say) shows no run of mask.FragmentLen (12) characters of a
// secret or of a part of its token.
func TestExecMasksFragments(t *testing.T) {
	t.Parallel()
	b, role := startCIBroker(t)
	const value = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
	b.putSecret("/prod/db", value)
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

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestClientSignals: signals reach the child, its exit status comes back
// (128+N when the signal ends it), and the session dies after.
func TestClientSignals(t *testing.T) {
	t.Parallel()
	b, role := startCIBroker(t)
	tests := []struct {
		name   string
		sig    syscall.Signal
		script string
		want   int
	}{
		{"ok/trapped-term", syscall.SIGTERM, `trap 'exit 11' TERM`, 11},
		{"ok/trapped-int", syscall.SIGINT, `trap 'exit 10' INT`, 10},
		{"ok/trapped-hup", syscall.SIGHUP, `trap 'exit 12' HUP`, 12},
		{"ok/killed-by-term", syscall.SIGTERM, ``, 128 + 15},
		{"ok/killed-by-quit", syscall.SIGQUIT, ``, 128 + 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := b.mustToken("--role", role)
			ready := filepath.Join(t.TempDir(), "ready")
			cmd, stderr := b.startExec(t, tok, ready, "--", "sh", "-c", tc.script+"\ntouch "+ready+"\nwhile :; do sleep 0.05; done")
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != tc.want {
				t.Errorf("exit %d (%v), want %d\n%s", code, err, tc.want, stderr.String())
			}
			b.wantAWSError(jenkinsCreds(t, tok), "ExpiredToken", "sts", "get-caller-identity")
		})
	}
}

// startExec starts shortfuse exec with args and the token tok in the
// background, and waits until its job has created the file ready.
func (b *broker) startExec(t *testing.T, tok, ready string, args ...string) (*exec.Cmd, *testutil.Buffer) {
	t.Helper()
	cmd := exec.Command(mustBinary(t), append([]string{"exec"}, args...)...)
	cmd.Env = b.cliEnv(creds{}, "SHORTFUSE_TOKEN="+tok)
	stderr := &testutil.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !fileExists(ready); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the job did not start:\n%s", stderr.String())
		}
	}
	return cmd, stderr
}

// TestClientMaxUses: a token minted with --max-uses N makes N calls, then
// is refused everywhere.
func TestClientMaxUses(t *testing.T) {
	t.Parallel()
	b, role := startCIBroker(t)
	tok := b.mustToken("--role", role, "--max-uses", "3")
	sess := jenkinsCreds(t, tok)
	for i := 1; i <= 3; i++ {
		if r := b.aws(sess, "sts", "get-caller-identity"); r.Code != 0 {
			t.Fatalf("call %d of 3 refused: %s", i, r.Stderr)
		}
	}
	r := b.wantAWSError(sess, "ExpiredToken", "sts", "get-caller-identity")
	if !strings.Contains(r.Stderr, "used all the calls") {
		t.Errorf("refusal does not say why: %s", r.Stderr)
	}
	// exec sees it too, before the command starts.
	marker := filepath.Join(t.TempDir(), "started")
	ex := b.sf([]string{"SHORTFUSE_TOKEN=" + tok}, "", "exec", "--secret", "X=/prod/none", "--", "touch", marker)
	if ex.Code == 0 || fileExists(marker) || !strings.Contains(ex.Stderr, "used all the calls") {
		t.Errorf("exec with a used-up token: exit %d, started %v\n%s", ex.Code, fileExists(marker), ex.Stderr)
	}

	// Without --role, the GetSessionToken session narrows itself before it
	// is printed: the recipe's own path can be use-limited too.
	gst := b.mustToken("--max-uses", "2")
	gs := jenkinsCreds(t, gst)
	for i := 1; i <= 2; i++ {
		if r := b.aws(gs, "sts", "get-caller-identity"); r.Code != 0 {
			t.Fatalf("GetSessionToken token, call %d of 2 refused: %s", i, r.Stderr)
		}
	}
	b.wantAWSError(gs, "ExpiredToken", "sts", "get-caller-identity")
}

// TestClientExpiredToken: a token that has expired is refused before the
// command starts, in one line.
func TestClientExpiredToken(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", clientAccount, "--max-session-duration", "2s")
	r := b.sf(b.adminEnv(), "", "token")
	if r.Code != 0 {
		t.Fatalf("token: %s", r.Stderr)
	}
	tok := strings.TrimSpace(r.Stdout)
	time.Sleep(3 * time.Second)
	marker := filepath.Join(t.TempDir(), "started")
	ex := b.sf([]string{"SHORTFUSE_TOKEN=" + tok}, "", "exec", "--", "touch", marker)
	if ex.Code == 0 || fileExists(marker) {
		t.Fatalf("exec with an expired token: exit %d, started %v\n%s", ex.Code, fileExists(marker), ex.Stderr)
	}
	if lines := strings.Split(strings.TrimSpace(ex.Stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "shortfuse: error: the token ") {
		t.Errorf("refusal is not one line:\n%s", ex.Stderr)
	}
}

// TestClientDeadManSwitch: when shortfuse exec dies without a word
// (SIGKILL), its heartbeats stop and the broker abandons the session after
// the grace period.
func TestClientDeadManSwitch(t *testing.T) {
	t.Parallel()
	b, role := startCIBroker(t)
	tok := b.mustToken("--role", role)
	sess := jenkinsCreds(t, tok)
	ready := filepath.Join(t.TempDir(), "ready")
	cmd, _ := b.startExec(t, tok, ready, "--grace", "10s", "--", "sh", "-c", "touch "+ready+"; sleep 60")
	start := time.Now()
	// Heartbeats every ~3 s keep it alive past the grace period.
	time.Sleep(12 * time.Second)
	b.mustAWS(sess, "sts", "get-caller-identity")
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	// The child dies with its parent (Pdeathsig), and within the grace the
	// session is abandoned.
	deadline := time.Now().Add(25 * time.Second)
	for {
		r := b.aws(sess, "sts", "get-caller-identity")
		if r.Code != 0 {
			if !strings.Contains(r.Stderr, "ExpiredToken") {
				t.Fatalf("refused, but not as ExpiredToken: %s", r.Stderr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("session still accepted %v after the exec was killed", time.Since(start))
		}
		time.Sleep(500 * time.Millisecond)
	}
	ls := b.sf(b.adminEnv(), "", "sessions", "--all", "--json")
	if !strings.Contains(ls.Stdout, `"State": "abandoned"`) {
		t.Errorf("sessions --all --json does not show the abandoned session:\n%s%s", ls.Stdout, ls.Stderr)
	}
}

// TestClientOperatorRevoke: an operator revokes one session by id and all
// of a principal's; exec's holder is refused at once.
func TestClientOperatorRevoke(t *testing.T) {
	t.Parallel()
	b, role := startCIBroker(t)
	one := jenkinsCreds(t, b.mustToken("--role", role, "--session-name", "a-1"))
	two := jenkinsCreds(t, b.mustToken("--role", role, "--session-name", "a-2"))
	b.mustAWS(one, "sts", "get-caller-identity")

	ls := b.sf(b.adminEnv(), "", "sessions")
	if ls.Code != 0 || !strings.Contains(ls.Stdout, one.AccessKeyID) || !strings.Contains(ls.Stdout, two.AccessKeyID) {
		t.Fatalf("sessions: exit %d\n%s%s", ls.Code, ls.Stdout, ls.Stderr)
	}
	if r := b.sf(b.adminEnv(), "", "revoke", one.AccessKeyID); r.Code != 0 {
		t.Fatalf("revoke: %s", r.Stderr)
	}
	b.wantAWSError(one, "ExpiredToken", "sts", "get-caller-identity")
	b.mustAWS(two, "sts", "get-caller-identity")

	r := b.sf(b.adminEnv(), "", "revoke", "--principal", role)
	if n, err := strconv.Atoi(strings.TrimSpace(r.Stdout)); r.Code != 0 || err != nil || n < 1 {
		t.Fatalf("revoke --principal: exit %d, stdout %q\n%s", r.Code, r.Stdout, r.Stderr)
	}
	b.wantAWSError(two, "ExpiredToken", "sts", "get-caller-identity")
}
