package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/pquerna/otp/totp"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

const trustPolicyFor = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole"}]}`

// TestBootstrap checks the first start: files, modes, the admin identity,
// and that a restart reuses everything and prints no secret.
func TestBootstrap(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "123456789012")
	for _, name := range []string{"master.key", "admin-credentials"} {
		fi, err := os.Stat(b.dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", name, fi.Mode().Perm())
		}
	}
	admin := b.adminCreds()
	// The way the README says: the credentials file and the endpoint variable.
	env := b.cliEnv(creds{}, "AWS_SHARED_CREDENTIALS_FILE="+b.adminCredentialsFile())
	r := b.awsEnv(env, "sts", "get-caller-identity")
	if r.Code != 0 {
		t.Fatalf("get-caller-identity: %s", r.Stderr)
	}
	id := r.JSON(t)
	if got, want := str(t, id, "Arn"), "arn:aws:iam::123456789012:user/admin"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	if got := str(t, id, "Account"); got != "123456789012" {
		t.Errorf("Account = %q", got)
	}

	// Restart: same account, same admin key, no secret in the logs.
	b.restart()
	out := b.mustAWS(admin, "sts", "get-caller-identity")
	if got := str(t, out, "Arn"); got != "arn:aws:iam::123456789012:user/admin" {
		t.Errorf("after restart Arn = %q", got)
	}
	logs := b.logs.String()
	if strings.Contains(logs, admin.SecretAccessKey) {
		t.Error("the broker's log contains the admin secret access key")
	}
	// A different --account-id for an existing data directory is refused.
	b.stop()
	b2 := &broker{t: t, dir: b.dir, logs: &testutil.Buffer{}}
	b2.args = []string{"server", "--listen", "127.0.0.1:0", "--data", b.dir, "--account-id", "999999999999"}
	out2, err := runBinary(t, b2.args...)
	if err == nil || !strings.Contains(out2, "belongs to account 123456789012") {
		t.Errorf("restart with another account id: err=%v output=%s", err, out2)
	}
}

// TestUserPolicyAndKeys: an operator creates a user with a policy and a key
// using the aws CLI alone; the user can do what the policy allows and
// nothing else.
func TestUserPolicyAndKeys(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	admin := b.adminCreds()
	b.mustAWS(admin, "iam", "create-user", "--user-name", "alice")
	pol := writeFile(t, "pol.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListAccessKeys"],"Resource":"arn:aws:iam::*:user/${aws:username}"}]}`)
	b.mustAWS(admin, "iam", "put-user-policy", "--user-name", "alice", "--policy-name", "self", "--policy-document", "file://"+pol)
	key := b.mustAWS(admin, "iam", "create-access-key", "--user-name", "alice")
	alice := creds{AccessKeyID: str(t, key, "AccessKey", "AccessKeyId"), SecretAccessKey: str(t, key, "AccessKey", "SecretAccessKey")}

	id := b.mustAWS(alice, "sts", "get-caller-identity")
	if !strings.HasSuffix(str(t, id, "Arn"), ":user/alice") {
		t.Errorf("alice is %v", id)
	}
	b.mustAWS(alice, "iam", "get-user", "--user-name", "alice")
	b.wantAWSError(alice, "AccessDenied", "iam", "get-user", "--user-name", "admin")
	b.wantAWSError(alice, "AccessDenied", "iam", "list-users")

	// A malformed policy is refused with a useful message and changes nothing.
	bad := writeFile(t, "bad.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Conditions":{}}]}`)
	r := b.wantAWSError(admin, "MalformedPolicyDocument", "iam", "put-user-policy", "--user-name", "alice", "--policy-name", "self", "--policy-document", "file://"+bad)
	if !strings.Contains(r.Stderr, "Conditions") {
		t.Errorf("error does not name the bad element: %s", r.Stderr)
	}
	b.wantAWSError(alice, "AccessDenied", "iam", "list-users")

	// Wrong secret, unknown key, inactive key.
	b.wantAWSError(creds{AccessKeyID: alice.AccessKeyID, SecretAccessKey: otherFirstByte(alice.SecretAccessKey)}, "SignatureDoesNotMatch", "sts", "get-caller-identity")
	b.wantAWSError(creds{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: alice.SecretAccessKey}, "InvalidClientTokenId", "sts", "get-caller-identity")
	b.mustAWS(admin, "iam", "update-access-key", "--user-name", "alice", "--access-key-id", alice.AccessKeyID, "--status", "Inactive")
	b.wantAWSError(alice, "InvalidClientTokenId", "sts", "get-caller-identity")
	b.mustAWS(admin, "iam", "update-access-key", "--user-name", "alice", "--access-key-id", alice.AccessKeyID, "--status", "Active")
	b.mustAWS(alice, "sts", "get-caller-identity")
}

// newUser creates a user with an inline policy and returns its key.
func newUser(t *testing.T, b *broker, admin creds, name, policyDoc string) creds {
	t.Helper()
	b.mustAWS(admin, "iam", "create-user", "--user-name", name)
	if policyDoc != "" {
		b.mustAWS(admin, "iam", "put-user-policy", "--user-name", name, "--policy-name", "p", "--policy-document", policyDoc)
	}
	key := b.mustAWS(admin, "iam", "create-access-key", "--user-name", name)
	return creds{AccessKeyID: str(t, key, "AccessKey", "AccessKeyId"), SecretAccessKey: str(t, key, "AccessKey", "SecretAccessKey")}
}

func TestSessionToken(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	admin := b.adminCreds()
	alice := newUser(t, b, admin, "alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`)

	out := b.mustAWS(alice, "sts", "get-session-token", "--duration-seconds", "900")
	sess := credsFrom(t, out)
	if !strings.HasPrefix(sess.AccessKeyID, "ASIA") {
		t.Errorf("session key id %q does not start with ASIA", sess.AccessKeyID)
	}
	exp, err := time.Parse(time.RFC3339, str(t, out, "Credentials", "Expiration"))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < 880*time.Second || d > 905*time.Second {
		t.Errorf("expiration in %v, want about 900s", d)
	}
	id := b.mustAWS(sess, "sts", "get-caller-identity")
	if !strings.HasSuffix(str(t, id, "Arn"), ":user/alice") {
		t.Errorf("session identity %v", id)
	}
	// AWS's fixed limits on GetSessionToken sessions: no IAM without MFA
	// (AWS answers InvalidClientTokenId), no second GetSessionToken.
	b.wantAWSError(sess, "InvalidClientTokenId", "iam", "list-users")
	b.wantAWSError(sess, "AccessDenied", "sts", "get-session-token")
	// Long-term key: allowed.
	b.mustAWS(alice, "iam", "list-users")

	// Out-of-range duration (the CLI validates it itself; the SDK does not).
	_, err = b.stsClient(alice).GetSessionToken(context.Background(), &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(899)})
	if errCodeOf(err) != "ValidationError" {
		t.Errorf("GetSessionToken(899 s): err = %v, want ValidationError", err)
	}

	// A tampered token, and a secret from another session.
	tampered := sess
	tok := []byte(sess.SessionToken)
	tok[len(tok)/2] ^= 1
	if tok[len(tok)/2] == ':' {
		tok[len(tok)/2] = 'A'
	}
	tampered.SessionToken = string(tok)
	b.wantAWSError(tampered, "InvalidClientTokenId", "sts", "get-caller-identity")
	other := credsFrom(t, b.mustAWS(alice, "sts", "get-session-token"))
	mixed := sess
	mixed.SecretAccessKey = other.SecretAccessKey
	b.wantAWSError(mixed, "SignatureDoesNotMatch", "sts", "get-caller-identity")
	swapped := other
	swapped.AccessKeyID = sess.AccessKeyID
	b.wantAWSError(swapped, "InvalidClientTokenId", "sts", "get-caller-identity")
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--max-session-duration", "3s")
	admin := b.adminCreds()
	out := b.mustAWS(admin, "sts", "get-session-token", "--duration-seconds", "900")
	sess := credsFrom(t, out)
	exp, err := time.Parse(time.RFC3339, str(t, out, "Credentials", "Expiration"))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d > 4*time.Second {
		t.Errorf("Expiration %v is not the capped one (in %v)", exp, d)
	}
	// Still valid (the SDK is fast enough to ask within the 3 s).
	if _, err := b.stsClient(sess).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil && time.Now().Before(exp) {
		t.Errorf("session refused before its expiry: %v", err)
	}
	time.Sleep(time.Until(exp) + 1100*time.Millisecond)
	b.wantAWSError(sess, "ExpiredToken", "sts", "get-caller-identity")
}

func TestAssumeRole(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "111122223333")
	admin := b.adminCreds()
	alice := newUser(t, b, admin, "alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/deployer"}]}`)
	bob := newUser(t, b, admin, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	carol := newUser(t, b, admin, "carol", "")

	trust := writeFile(t, "trust.json", strings.ReplaceAll(trustPolicyFor, "%s", "arn:aws:iam::111122223333:user/alice"))
	b.mustAWS(admin, "iam", "create-role", "--role-name", "deployer", "--assume-role-policy-document", "file://"+trust)
	b.mustAWS(admin, "iam", "put-role-policy", "--role-name", "deployer", "--policy-name", "read", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","iam:ListRoles"],"Resource":"*"}]}`)

	out := b.mustAWS(alice, "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/deployer", "--role-session-name", "build-42")
	role := credsFrom(t, out)
	wantARN := "arn:aws:sts::111122223333:assumed-role/deployer/build-42"
	if got := str(t, out, "AssumedRoleUser", "Arn"); got != wantARN {
		t.Errorf("AssumedRoleUser.Arn = %q, want %q", got, wantARN)
	}
	id := b.mustAWS(role, "sts", "get-caller-identity")
	if got := str(t, id, "Arn"); got != wantARN {
		t.Errorf("caller = %q", got)
	}
	b.mustAWS(role, "iam", "get-role", "--role-name", "deployer")
	b.wantAWSError(role, "AccessDenied", "iam", "list-users")

	// Bob may call sts:AssumeRole but the trust policy does not name him;
	// carol is trusted by nobody and allowed nothing.
	b.wantAWSError(bob, "AccessDenied", "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/deployer", "--role-session-name", "x1")
	b.wantAWSError(carol, "AccessDenied", "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/deployer", "--role-session-name", "x1")
	// A role that does not exist looks the same as one you may not assume.
	b.wantAWSError(bob, "AccessDenied", "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/nope", "--role-session-name", "x1")

	// A session policy narrows the role.
	narrow := b.mustAWS(alice, "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/deployer", "--role-session-name", "narrow",
		"--policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}`)
	nc := credsFrom(t, narrow)
	b.mustAWS(nc, "iam", "get-role", "--role-name", "deployer")
	b.wantAWSError(nc, "AccessDenied", "iam", "list-roles")
	b.mustAWS(role, "iam", "list-roles")

	// Duration above the role's maximum.
	b.wantAWSError(alice, "ValidationError", "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/deployer", "--role-session-name", "long", "--duration-seconds", "7200")
	// Malformed session policy.
	b.wantAWSError(alice, "MalformedPolicyDocument", "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/deployer", "--role-session-name", "bad", "--policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}`)

	// Conditions on session name and external id in the trust policy.
	cond := writeFile(t, "cond.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"jenkins-7"},"StringLike":{"sts:RoleSessionName":"ci-*"}}}]}`)
	b.mustAWS(admin, "iam", "create-role", "--role-name", "ci", "--assume-role-policy-document", "file://"+cond)
	b.wantAWSError(bob, "AccessDenied", "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/ci", "--role-session-name", "ci-1")
	b.wantAWSError(bob, "AccessDenied", "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/ci", "--role-session-name", "x-1", "--external-id", "jenkins-7")
	b.mustAWS(bob, "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/ci", "--role-session-name", "ci-1", "--external-id", "jenkins-7")
}

// TestMFA: a virtual MFA device is created and enabled with two consecutive
// codes; a role whose trust policy needs MFA can be assumed only with a
// valid code, and a code is not accepted twice.
func TestMFA(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "111122223333")
	admin := b.adminCreds()
	alice := newUser(t, b, admin, "alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	seedPath := filepath.Join(t.TempDir(), "seed.txt")
	dev := b.mustAWS(admin, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "alice-phone", "--outfile", seedPath, "--bootstrap-method", "Base32StringSeed")
	serial := str(t, dev, "VirtualMFADevice", "SerialNumber")
	seedBytes, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	seed := strings.TrimSpace(string(seedBytes))
	now := time.Now()
	c1, _ := totp.GenerateCode(seed, now.Add(-30*time.Second))
	c2, _ := totp.GenerateCode(seed, now)
	b.mustAWS(admin, "iam", "enable-mfa-device", "--user-name", "alice", "--serial-number", serial, "--authentication-code1", c1, "--authentication-code2", c2)

	trust := writeFile(t, "trust.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)
	b.mustAWS(admin, "iam", "create-role", "--role-name", "admin-mfa", "--assume-role-policy-document", "file://"+trust)
	roleARN := "arn:aws:iam::111122223333:role/admin-mfa"
	b.wantAWSError(alice, "AccessDenied", "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "mfa-session")

	// Wait for a fresh TOTP window so that the code has not been used.
	waitNextWindow()
	code, _ := totp.GenerateCode(seed, time.Now())
	b.wantAWSError(alice, "AccessDenied", "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "mfa-session", "--serial-number", serial, "--token-code", wrongCode(code))
	b.mustAWS(alice, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "mfa-session", "--serial-number", serial, "--token-code", code)
	// Replay of the same code is refused.
	b.wantAWSError(alice, "AccessDenied", "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "mfa-session", "--serial-number", serial, "--token-code", code)

	// GetSessionToken with MFA gives a session that may call IAM. The code
	// is the next window's, which the broker takes (one step of clock skew)
	// and no call has used.
	code, _ = totp.GenerateCode(seed, time.Now().Add(30*time.Second))
	b.mustAWS(admin, "iam", "put-user-policy", "--user-name", "alice", "--policy-name", "list", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)
	sess := credsFrom(t, b.mustAWS(alice, "sts", "get-session-token", "--serial-number", serial, "--token-code", code))
	b.mustAWS(sess, "iam", "list-users")
	plain := credsFrom(t, b.mustAWS(alice, "sts", "get-session-token"))
	b.wantAWSError(plain, "InvalidClientTokenId", "iam", "list-users")
	// The long-term key has no MFA: the MFA-conditioned allow does not apply.
	b.wantAWSError(alice, "AccessDenied", "iam", "list-users")
}

func wrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func waitNextWindow() {
	now := time.Now()
	next := now.Truncate(30 * time.Second).Add(30 * time.Second)
	time.Sleep(time.Until(next) + 200*time.Millisecond)
}

// TestSDK drives the same flows with aws-sdk-go-v2.
func TestSDK(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "111122223333")
	ctx := context.Background()
	admin := b.adminCreds()
	ic := b.iamClient(admin)
	dave := newUserSDK(t, b, "dave", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"),
		AssumeRolePolicyDocument: aws.String(strings.ReplaceAll(trustPolicyFor, "%s", "arn:aws:iam::111122223333:user/dave"))}); err != nil {
		t.Fatal(err)
	}
	out, err := b.stsClient(dave).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111122223333:role/r"), RoleSessionName: aws.String("sdk"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	rc := stsCreds(out.Credentials)
	id, err := b.stsClient(rc).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(id.Arn); got != "arn:aws:sts::111122223333:assumed-role/r/sdk" {
		t.Errorf("Arn = %q", got)
	}
	if got := aws.ToString(id.UserId); !strings.HasPrefix(got, "AROA") || !strings.HasSuffix(got, ":sdk") {
		t.Errorf("UserId = %q", got)
	}
	_, err = b.iamClient(rc).ListUsers(ctx, &iam.ListUsersInput{})
	if errCodeOf(err) != "AccessDenied" {
		t.Errorf("ListUsers as role: err = %v, want AccessDenied", err)
	}
	_, err = b.stsClient(creds{AccessKeyID: dave.AccessKeyID, SecretAccessKey: "wrong" + dave.SecretAccessKey[5:]}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if errCodeOf(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: err = %v, want SignatureDoesNotMatch", err)
	}
}

// otherFirstByte is s with its first byte changed: a wrong secret that
// differs from s whatever s starts with.
func otherFirstByte(s string) string {
	if s[0] == 'x' {
		return "y" + s[1:]
	}
	return "x" + s[1:]
}
