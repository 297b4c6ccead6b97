package e2e

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
)

// TestAccountPrincipalDelegates: a secret's resource policy that allows
// the account ("arn:aws:iam::ACCT:root") grants nothing by itself to a
// caller of that account; the caller's identity policy must allow too. A
// resource policy naming the caller grants directly, and an explicit deny
// of the account wins over everything.
func TestAccountPrincipalDelegates(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", lineageAccount)
	admin := b.adminCreds()
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(b.sdkConfig(admin))
	nobody := newUserSDK(t, b, "nobody", "")
	reader := newUserSDK(t, b, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	named := newUserSDK(t, b, "named", "")
	policies := map[string]string{
		"/acct":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + lineageAccount + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`,
		"/named": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + lineageAccount + `:user/named"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`,
		"/deny":  `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"` + lineageAccount + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`,
	}
	for name, doc := range policies {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")}); err != nil {
			t.Fatal(err)
		}
		if _, err := sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String(name), ResourcePolicy: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		who    string
		c      creds
		secret string
		want   string
	}{
		{"no identity policy, account principal", nobody, "/acct", "AccessDeniedException"},
		{"identity policy, account principal", reader, "/acct", ""},
		{"no identity policy, named principal", named, "/named", ""},
		{"no identity policy, someone else named", nobody, "/named", "AccessDeniedException"},
		{"identity policy, account denied", reader, "/deny", "AccessDeniedException"},
	} {
		_, err := secretsmanager.NewFromConfig(b.sdkConfig(tc.c)).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(tc.secret)})
		if got := errCodeOf(err); got != tc.want {
			t.Errorf("%s (%s): %q, want %q", tc.who, tc.secret, got, tc.want)
		}
	}
	// The aws CLI sees the same.
	b.wantAWSError(nobody, "AccessDeniedException", "secretsmanager", "get-secret-value", "--secret-id", "/acct")
}

// TestRecreatedPrincipals: a session is bound to its principal's unique
// id: deleting the role (or user) and creating another of the same name
// does not hand the old sessions the new principal's permissions.
func TestRecreatedPrincipals(t *testing.T) {
	t.Parallel()
	b, w := startLineageWorld(t)
	ctx := context.Background()
	iamc := b.iamClient(w.admin)
	sess := w.assume(t, w.ci, "job2", "old")
	if code := w.readSecret(sess); code != "" {
		t.Fatal(code)
	}
	if _, err := iamc.DeleteRolePolicy(ctx, &sdkiam.DeleteRolePolicyInput{RoleName: aws.String("job2"), PolicyName: aws.String("work")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.DeleteRole(ctx, &sdkiam.DeleteRoleInput{RoleName: aws.String("job2")}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + lineageAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := iamc.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("job2"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutRolePolicy(ctx, &sdkiam.PutRolePolicyInput{RoleName: aws.String("job2"), PolicyName: aws.String("all"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // past the principal cache
	if code := w.readSecret(sess); code != "UnrecognizedClientException" {
		t.Errorf("session of a deleted and recreated role: %q, want UnrecognizedClientException", code)
	}
	b.wantAWSError(sess, "InvalidClientTokenId", "sts", "get-caller-identity")

	// The same for a user's GetSessionToken session.
	dave := newUserSDK(t, b, "dave", "")
	ds := sessionCreds(t, b, dave)
	if _, err := b.stsClient(ds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	keys, _ := iamc.ListAccessKeys(ctx, &sdkiam.ListAccessKeysInput{UserName: aws.String("dave")})
	for _, k := range keys.AccessKeyMetadata {
		_, _ = iamc.DeleteAccessKey(ctx, &sdkiam.DeleteAccessKeyInput{UserName: aws.String("dave"), AccessKeyId: k.AccessKeyId})
	}
	_, _ = iamc.DeleteUserPolicy(ctx, &sdkiam.DeleteUserPolicyInput{UserName: aws.String("dave"), PolicyName: aws.String("p")})
	if _, err := iamc.DeleteUser(ctx, &sdkiam.DeleteUserInput{UserName: aws.String("dave")}); err != nil {
		t.Fatal(err)
	}
	newUserSDK(t, b, "dave", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	time.Sleep(1100 * time.Millisecond)
	b.wantAWSError(ds, "InvalidClientTokenId", "sts", "get-caller-identity")
}

// TestRevokeSessionNoOracle: a caller without rights learns nothing from
// RevokeSession: the same answer for a live session and a made-up key id,
// naming neither principal nor session.
func TestRevokeSessionNoOracle(t *testing.T) {
	t.Parallel()
	b, w := startLineageWorld(t)
	ctx := context.Background()
	victim := w.assume(t, w.ci, "job", "victimjob")
	mallory := newUserSDK(t, b, "mallory", "")
	c := b.shortfuse(mallory)
	errLive := c.RevokeSession(ctx, victim.AccessKeyID)
	errMade := c.RevokeSession(ctx, "ASIA"+strings.Repeat("Q", 16))
	if errLive == nil || errMade == nil {
		t.Fatalf("RevokeSession without rights: %v / %v", errLive, errMade)
	}
	live := strings.ReplaceAll(errLive.Error(), victim.AccessKeyID, "KEY")
	made := strings.ReplaceAll(errMade.Error(), "ASIA"+strings.Repeat("Q", 16), "KEY")
	if live != made {
		t.Errorf("different answers:\n live session: %s\n made-up id:   %s", live, made)
	}
	for _, leak := range []string{"victimjob", "assumed-role", "job", victim.AccessKeyID} {
		if strings.Contains(errLive.Error(), leak) {
			t.Errorf("the answer names %q: %s", leak, errLive)
		}
	}
	if code := w.readSecret(victim); code != "" {
		t.Errorf("the victim's session was harmed: %s", code)
	}
}

// TestSelfApprovalThroughHops: alice assumes doorA, doorA's session
// assumes doorB, and doorB's session asks for an approval; alice is still
// its requester and cannot approve it. bob can.
func TestSelfApprovalThroughHops(t *testing.T) {
	t.Parallel()
	w := newAPWorld(t)
	ctx := context.Background()
	iamc := w.b.iamClient(w.b.adminCreds())
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + apAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	for _, r := range []string{"doorA", "doorB"} {
		if _, err := iamc.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
		if _, err := iamc.PutRolePolicy(ctx, &sdkiam.PutRolePolicyInput{RoleName: aws.String(r), PolicyName: aws.String("door"), PolicyDocument: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","shortfuse:CreateRequest"],"Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	hop := func(c creds, role string) creds {
		out, err := w.b.stsClient(c).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + apAccount + ":role/" + role), RoleSessionName: aws.String("hop")})
		if err != nil {
			t.Fatalf("AssumeRole %s: %v", role, err)
		}
		return stsCreds(out.Credentials)
	}
	doorB := hop(hop(w.users["alice"], "doorA"), "doorB")
	key, err := approvals.NewRedemptionKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.b.shortfuse(doorB).CreateRequest(ctx, brokerapi.CreateRequestInput{RoleArn: "arn:aws:iam::" + apAccount + ":role/deploy", VerifyKey: key.VerifyKey(), WrapKey: key.WrapKey()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.brokerClient("alice").ApproveRequest(ctx, brokerapi.ApproveRequestInput{Code: out.Code, TokenCode: w.code(t, "alice")})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("alice approving the request her two-hop session made: %v, want AccessDenied", err)
	}
	if _, err := w.brokerClient("bob").ApproveRequest(ctx, brokerapi.ApproveRequestInput{Code: out.Code, TokenCode: w.code(t, "bob")}); err != nil {
		t.Fatalf("bob approving: %v", err)
	}
}

// TestCapLoweredAtRestart: lowering --max-session-duration shortens the
// sessions already minted.
func TestCapLoweredAtRestart(t *testing.T) {
	t.Parallel()
	b, w := startLineageWorld(t)
	sess := w.assume(t, w.ci, "job", "long") // an hour
	b.stop()
	b.args = append(b.args, "--max-session-duration", "2s")
	b.start()
	time.Sleep(2500 * time.Millisecond)
	b.wantAWSError(sess, "ExpiredToken", "sts", "get-caller-identity")
}

// TestAuditLogCannotVanish: the audit log removed or replaced while the
// broker runs stops every request (fail closed); the restarted broker
// finds that the log does not continue from the head it recorded and
// refuses to start until told to record the break, which `audit verify`
// then reports.
func TestAuditLogCannotVanish(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"removed", "replaced"} {
		t.Run(how, func(t *testing.T) {
			b := startBroker(t, "", "--account-id", lineageAccount)
			admin := b.adminCreds()
			b.mustAWS(admin, "sts", "get-caller-identity")
			time.Sleep(1500 * time.Millisecond) // the head is recorded every second
			log := b.auditLogPath()
			if err := os.Remove(log); err != nil {
				t.Fatal(err)
			}
			if how == "replaced" {
				if err := os.WriteFile(log, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			b.wantAWSError(admin, "InternalFailure", "sts", "get-caller-identity")
			if code, body := getURL(t, b.url+"/readyz"); code != 503 || !strings.Contains(body, `"audit":"not writable"`) {
				t.Errorf("/readyz with the audit log gone: %d %s", code, body)
			}
			if !strings.Contains(b.logs.String(), "removed or replaced") {
				t.Errorf("no log line says the audit log was removed or replaced")
			}
			b.stop()
			out, err := runBinary(t, append(b.args, "--listen", "127.0.0.1:0")...)
			if err == nil || !strings.Contains(out, "does not continue from the chain head") {
				t.Fatalf("restart over a log that does not continue the chain: %v\n%s", err, out)
			}
			b.args = append(b.args, "--audit-accept-break")
			b.start()
			b.mustAWS(admin, "sts", "get-caller-identity")
			if code, body := getURL(t, b.url+"/readyz"); code != 200 || !strings.Contains(body, `"ready":true`) {
				t.Errorf("/readyz after the restart: %d %s", code, body)
			}
			r := b.sf(nil, "", "audit", "verify", log)
			if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "did not continue from the head") {
				t.Errorf("audit verify after the break: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
			}
		})
	}
}

// TestAuditRetention: with --audit-keep, rotated audit files beyond the
// newest N are delivered to --audit-ship-dir and pruned; what stays
// verifies with `audit verify --pruned`, and the shipped files with it make
// the whole chain.
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	ship := t.TempDir()
	b := startBroker(t, "", "--audit-max-bytes", "8192", "--audit-keep", "2", "--audit-ship-dir", ship)
	admin := b.adminCreds()
	ctx := context.Background()
	for range 60 {
		if _, err := b.stsClient(admin).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	log := b.auditLogPath()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rotated, _ := filepath.Glob(log + ".*")
		shipped, _ := filepath.Glob(filepath.Join(ship, "audit.log.*"))
		if len(rotated) <= 2 && len(shipped) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d rotated files kept, %d shipped", len(rotated), len(shipped))
		}
		time.Sleep(500 * time.Millisecond)
	}
	kept, _ := filepath.Glob(log + "*")
	r := b.sf(nil, "", append([]string{"audit", "verify", "--pruned"}, kept...)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "records before were pruned") {
		t.Errorf("audit verify --pruned: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	shipped, _ := filepath.Glob(filepath.Join(ship, "audit.log.*"))
	r = b.sf(nil, "", append(append([]string{"audit", "verify"}, shipped...), kept...)...)
	if r.Code != 0 {
		t.Errorf("audit verify of the shipped and kept files: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestCompactCommand: `shortfuse compact` refuses a store in use, shrinks
// a stopped one, and the broker serves from it as before.
func TestCompactCommand(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "")
	admin := b.adminCreds()
	b.mustAWS(admin, "iam", "create-user", "--user-name", "kept")
	r := b.sf(nil, "", "compact", "--data", b.dir)
	if r.Code == 0 || !strings.Contains(r.Stderr, "stop the broker") {
		t.Errorf("compact of a store in use: exit %d\n%s", r.Code, r.Stderr)
	}
	b.stop()
	r = b.sf(nil, "", "compact", "--data", b.dir)
	if r.Code != 0 || !strings.Contains(r.Stdout, "compact: ") {
		t.Fatalf("compact: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	b.start()
	b.mustAWS(admin, "iam", "get-user", "--user-name", "kept")
}
