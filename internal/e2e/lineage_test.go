package e2e

// The attacker's tests of "no credential outlives the job that got it":
// each holds a job's token (or a key id, or an account-wide grant) and
// tries to get something that outlives it, through the real binary and
// real clients.

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
)

const lineageAccount = "444455556666"

// lineageWorld: a broker with a user "ci" whose role "job" (assumable by
// ci, with tags) may assume role "job2", which may assume "job3"; each
// role may read /prod/* secrets and assume the next.
type lineageWorld struct {
	b     *broker
	admin creds
	ci    creds
}

func roleARN(name string) string { return "arn:aws:iam::" + lineageAccount + ":role/" + name }

func newLineageWorld(t *testing.T, b *broker) *lineageWorld {
	t.Helper()
	w := &lineageWorld{b: b, admin: b.adminCreds()}
	ctx := context.Background()
	iamc := b.iamClient(w.admin)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	w.ci = newUserSDK(t, b, "ci", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"*"}]}`)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + lineageAccount + `:root"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	for _, r := range []string{"job", "job2", "job3"} {
		_, err := iamc.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(trust)})
		must("CreateRole "+r, err)
		_, err = iamc.PutRolePolicy(ctx, &sdkiam.PutRolePolicyInput{RoleName: aws.String(r), PolicyName: aws.String("work"), PolicyDocument: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","sts:AssumeRole","sts:TagSession"],"Resource":"*"}]}`)})
		must("PutRolePolicy "+r, err)
	}
	_, err := secretsmanager.NewFromConfig(b.sdkConfig(w.admin)).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("/prod/db"), SecretString: aws.String("s3cr3t-value")})
	must("CreateSecret", err)
	return w
}

// startLineageWorld starts a broker of lineageAccount with extra flags and
// sets up its lineage world.
func startLineageWorld(t *testing.T, extra ...string) (*broker, *lineageWorld) {
	t.Helper()
	b := startBroker(t, "", append([]string{"--account-id", lineageAccount}, extra...)...)
	return b, newLineageWorld(t, b)
}

// newUserSDK creates a user with an inline policy and an access key.
func newUserSDK(t *testing.T, b *broker, name, policyDoc string) creds {
	t.Helper()
	ctx := context.Background()
	iamc := b.iamClient(b.adminCreds())
	if _, err := iamc.CreateUser(ctx, &sdkiam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	if policyDoc != "" {
		if _, err := iamc.PutUserPolicy(ctx, &sdkiam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policyDoc)}); err != nil {
			t.Fatalf("PutUserPolicy %s: %v", name, err)
		}
	}
	k, err := iamc.CreateAccessKey(ctx, &sdkiam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey %s: %v", name, err)
	}
	return creds{AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(k.AccessKey.SecretAccessKey)}
}

// assume assumes role as c, with optional session tags.
func (w *lineageWorld) assume(t *testing.T, c creds, role, name string, tags ...ststypes.Tag) creds {
	t.Helper()
	out, err := w.b.stsClient(c).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN(role)), RoleSessionName: aws.String(name), Tags: tags})
	if err != nil {
		t.Fatalf("AssumeRole %s as %s: %v", role, c.AccessKeyID, err)
	}
	return stsCreds(out.Credentials)
}

// readSecret reads /prod/db as c and returns the error code ("" on success).
func (w *lineageWorld) readSecret(c creds) string {
	_, err := secretsmanager.NewFromConfig(w.b.sdkConfig(c)).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("/prod/db")})
	return errCodeOf(err)
}

func (b *broker) shortfuse(c creds) *brokerapi.Client {
	return &brokerapi.Client{
		Endpoint: b.url, Region: "us-east-1", HTTP: http.DefaultClient, Now: time.Now,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
	}
}

// chain mints root → child → grandchild as ci.
func (w *lineageWorld) chain(t *testing.T, tags ...ststypes.Tag) (root, child, grand creds) {
	t.Helper()
	root = w.assume(t, w.ci, "job", "build-1", tags...)
	child = w.assume(t, root, "job2", "escape-1")
	grand = w.assume(t, child, "job3", "escape-2")
	for i, c := range []creds{root, child, grand} {
		if code := w.readSecret(c); code != "" {
			t.Fatalf("generation %d cannot read before anything happened: %s", i, code)
		}
	}
	return root, child, grand
}

// TestLineageChainedSessionsExplode: whatever ends a job's session ends
// every session chained from it, on every path.
func TestLineageChainedSessionsExplode(t *testing.T) {
	t.Parallel()
	b, w := startLineageWorld(t)
	ctx := context.Background()

	t.Run("revoke-root-with-the-aws-cli-chain", func(t *testing.T) {
		// The job holds its token and, inside the job, escapes with one
		// `aws sts assume-role`; then the job ends and revokes its token.
		root := w.assume(t, w.ci, "job", "build-cli")
		child := credsFrom(t, b.mustAWS(root, "sts", "assume-role", "--role-arn", roleARN("job2"), "--role-session-name", "escape"))
		grand := credsFrom(t, b.mustAWS(child, "sts", "assume-role", "--role-arn", roleARN("job3"), "--role-session-name", "escape2"))
		b.mustAWS(grand, "secretsmanager", "get-secret-value", "--secret-id", "/prod/db")
		if err := b.shortfuse(root).RevokeSession(ctx, ""); err != nil {
			t.Fatalf("self-revoke: %v", err)
		}
		b.wantAWSError(child, "ExpiredTokenException", "secretsmanager", "get-secret-value", "--secret-id", "/prod/db")
		b.wantAWSError(grand, "ExpiredTokenException", "secretsmanager", "get-secret-value", "--secret-id", "/prod/db")
		b.wantAWSError(grand, "ExpiredToken", "sts", "get-caller-identity")
		// Nor can the dead family mint anything new.
		b.wantAWSError(grand, "ExpiredToken", "sts", "assume-role", "--role-arn", roleARN("job"), "--role-session-name", "again")
	})

	t.Run("revoke-middle-spares-the-root", func(t *testing.T) {
		root, child, grand := w.chain(t)
		if err := b.shortfuse(w.admin).RevokeSession(ctx, child.AccessKeyID); err != nil {
			t.Fatal(err)
		}
		if code := w.readSecret(grand); code != "ExpiredTokenException" {
			t.Errorf("grandchild of a revoked session: %q, want ExpiredTokenException", code)
		}
		if code := w.readSecret(root); code != "" {
			t.Errorf("the root, whose child was revoked: %q, want served", code)
		}
	})

	t.Run("revoke-sessions-of-the-roots-role", func(t *testing.T) {
		_, _, grand := w.chain(t)
		if _, err := b.shortfuse(w.admin).RevokeSessions(ctx, roleARN("job"), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if code := w.readSecret(grand); code != "ExpiredTokenException" {
			t.Errorf("grandchild after RevokeSessions of the root's role: %q", code)
		}
	})

	t.Run("revoke-sessions-of-the-source-user", func(t *testing.T) {
		// A new second: the previous subtest's cut must not decide this one.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)) + 50*time.Millisecond)
		_, _, grand := w.chain(t)
		if _, err := b.shortfuse(w.admin).RevokeSessions(ctx, "arn:aws:iam::"+lineageAccount+":user/ci", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if code := w.readSecret(grand); code != "ExpiredTokenException" {
			t.Errorf("grandchild after RevokeSessions of the root's source user: %q", code)
		}
	})

	t.Run("max-uses-is-a-family-budget", func(t *testing.T) {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)) + 50*time.Millisecond)
		root := w.assume(t, w.ci, "job", "budget", ststypes.Tag{Key: aws.String("shortfuse:max-uses"), Value: aws.String("6")})
		child := w.assume(t, root, "job2", "budget-c")  // use 1 of root
		grand := w.assume(t, child, "job3", "budget-g") // use 2
		n := 0
		for range 10 {
			if w.readSecret(grand) != "" {
				break
			}
			n++
		}
		if n != 4 {
			t.Errorf("the grandchild made %d calls on a root budget of 6 with 2 spent, want 4", n)
		}
		if code := w.readSecret(root); code != "ExpiredTokenException" {
			t.Errorf("root after its family spent its budget: %q", code)
		}
		// A used-up session may still revoke itself, and nothing else.
		if _, err := b.shortfuse(root).Heartbeat(ctx, time.Minute); !brokerapi.IsSessionRefused(err) {
			t.Errorf("heartbeat of a used-up session: %v, want refused", err)
		}
		if err := b.shortfuse(root).RevokeSession(ctx, ""); err != nil {
			t.Errorf("self-revoke of a used-up session: %v", err)
		}
	})

	t.Run("narrowing-binds-the-family", func(t *testing.T) {
		root, child, grand := w.chain(t)
		if _, err := b.shortfuse(root).NarrowSession(ctx, brokerapi.NarrowSessionInput{Lifetime: 2 * time.Second}); err != nil {
			t.Fatal(err)
		}
		// Widening is not possible: a later, longer narrowing changes nothing.
		if res, err := b.shortfuse(root).NarrowSession(ctx, brokerapi.NarrowSessionInput{Lifetime: time.Hour}); err != nil || time.Until(res.Expiration) > 3*time.Second {
			t.Fatalf("a wider narrowing: %+v, %v", res, err)
		}
		time.Sleep(3 * time.Second)
		for i, c := range []creds{root, child, grand} {
			if code := w.readSecret(c); code != "ExpiredTokenException" {
				t.Errorf("generation %d after the root narrowed its life away: %q", i, code)
			}
		}
	})

	t.Run("abandoned-root", func(t *testing.T) {
		root, _, grand := w.chain(t)
		if _, err := b.shortfuse(root).Heartbeat(ctx, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(11 * time.Second)
		if code := w.readSecret(grand); code != "ExpiredTokenException" {
			t.Errorf("grandchild of an abandoned session: %q", code)
		}
	})
}

// TestLineageExecKilled: `shortfuse exec` with a heartbeat is killed with
// SIGKILL while its job holds a session chained from its token; the
// chained session dies after the grace.
func TestLineageExecKilled(t *testing.T) {
	t.Parallel()
	b, w := startLineageWorld(t)
	tok := b.sfAs(w.ci, nil, "", "token", "--role", roleARN("job"))
	if tok.Code != 0 {
		t.Fatalf("token: %s", tok.Stderr)
	}
	dir := t.TempDir()
	ready, childFile := filepath.Join(dir, "ready"), filepath.Join(dir, "child.json")
	script := "aws sts assume-role --role-arn " + roleARN("job2") + " --role-session-name escaped --output json > " + childFile + " && touch " + ready + "; sleep 120"
	cmd, _ := b.startExec(t, strings.TrimSpace(tok.Stdout), ready, "--grace", "10s", "--", "sh", "-c", script)
	data, err := os.ReadFile(childFile)
	if err != nil {
		t.Fatal(err)
	}
	child := credsFrom(t, cliResult{Stdout: string(data)}.JSON(t))
	if code := w.readSecret(child); code != "" {
		t.Fatalf("the escaped child cannot read while the job runs: %s", code)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(25 * time.Second)
	for w.readSecret(child) == "" {
		if time.Now().After(deadline) {
			t.Fatal("the session chained from a killed job's token still reads secrets 25 s later")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if code := w.readSecret(child); code != "ExpiredTokenException" {
		t.Errorf("refused, but as %q", code)
	}
}

// TestLineageReplicas: a chained session minted on one replica is refused
// on the other within a second of its root's revocation there.
func TestLineageReplicas(t *testing.T) {
	t.Parallel()
	_, rs := startReplicas(t, 2, "--account-id", lineageAccount)
	a, bb := rs[0], rs[1]
	w := newLineageWorld(t, a)
	root := w.assume(t, w.ci, "job", "repl")
	// The child is minted on B, from a root B has never seen.
	wb := &lineageWorld{b: bb, admin: w.admin, ci: w.ci}
	child := wb.assume(t, root, "job2", "repl-c")
	grand := wb.assume(t, child, "job3", "repl-g")
	if code := wb.readSecret(grand); code != "" {
		t.Fatalf("grandchild on B: %s", code)
	}
	if err := a.shortfuse(root).RevokeSession(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for wb.readSecret(grand) == "" {
		if time.Since(revoked) > time.Second {
			t.Fatalf("B still serves the grandchild %v after its root was revoked on A", time.Since(revoked))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("B refused the grandchild %v after A revoked its root", time.Since(revoked).Round(time.Millisecond))
}

// TestSessionRulesOnEveryService: the shortfuse service obeys the session
// rules like every other: a used-up session is refused everything but
// revoking itself; a GetSessionToken session without MFA cannot install
// an identity provider's keys.
func TestSessionRulesOnEveryService(t *testing.T) {
	t.Parallel()
	b, w := startLineageWorld(t)
	ctx := context.Background()
	admin := b.iamClient(w.admin)
	prov, err := admin.CreateOpenIDConnectProvider(ctx, &sdkiam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://ci.example.com"), ClientIDList: []string{"sts.amazonaws.com"}})
	if err != nil {
		t.Fatal(err)
	}
	provARN := aws.ToString(prov.OpenIDConnectProviderArn)

	t.Run("used-up", func(t *testing.T) {
		s := w.assume(t, w.ci, "job", "used", ststypes.Tag{Key: aws.String("shortfuse:max-uses"), Value: aws.String("1")})
		if _, err := b.stsClient(s).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		c := b.shortfuse(s)
		refusals := map[string]error{}
		_, refusals["ListSessions"] = c.ListSessions(ctx, brokerapi.ListSessionsInput{})
		_, refusals["Heartbeat"] = c.Heartbeat(ctx, time.Minute)
		_, refusals["NarrowSession"] = c.NarrowSession(ctx, brokerapi.NarrowSessionInput{MaxUses: 1})
		_, refusals["RevokeSessions"] = c.RevokeSessions(ctx, roleARN("job2"), time.Time{})
		refusals["SetOpenIDConnectProviderJWKS"] = setJWKS(ctx, c, provARN)
		_, refusals["ListRequests"] = c.ListRequests(ctx, "all")
		for op, err := range refusals {
			if !brokerapi.IsSessionRefused(err) {
				t.Errorf("used-up session, shortfuse:%s: %v, want refused as expired", op, err)
			}
		}
		if err := c.RevokeSession(ctx, ""); err != nil {
			t.Errorf("used-up session revoking itself: %v", err)
		}
	})

	t.Run("no-mfa-session-token", func(t *testing.T) {
		admin2 := newUserSDK(t, b, "admin2", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
		sess := sessionCreds(t, b, admin2)
		err := setJWKS(ctx, b.shortfuse(sess), provARN)
		// InvalidClientTokenId, spelled as JSON 1.1 services spell it.
		if code := errCodeOf(err); code != "UnrecognizedClientException" {
			t.Errorf("SetOpenIDConnectProviderJWKS from a GetSessionToken session without MFA: %v, want UnrecognizedClientException", err)
		}
		if _, err := b.iamClient(sess).ListUsers(ctx, &sdkiam.ListUsersInput{}); errCodeOf(err) != "InvalidClientTokenId" {
			t.Errorf("ListUsers from a GetSessionToken session without MFA: %v, want InvalidClientTokenId", err)
		}
		// The same user's long-term key may.
		if err := setJWKS(ctx, b.shortfuse(admin2), provARN); err != nil {
			t.Errorf("SetOpenIDConnectProviderJWKS with a long-term key: %v", err)
		}
	})
}

// setJWKS stores a one-key set for the provider.
func setJWKS(ctx context.Context, c *brokerapi.Client, provARN string) error {
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","use":"sig","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
	_, err := c.SetOpenIDConnectProviderJWKS(ctx, provARN, jwks)
	return err
}

// clientFrom returns SDK config whose connections come from ip, another
// client as far as the broker can tell.
func (b *broker) sdkConfigFrom(c creds, ip string) aws.Config {
	cfg := b.sdkConfig(c)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.DialContext = d.DialContext })
	return cfg
}

// TestThrottlingLocksOutNoOne: forged requests naming a victim's key id,
// and bad requests from a shared address, do not lock out a correct signer.
func TestThrottlingLocksOutNoOne(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", lineageAccount)
	alice := newUserSDK(t, b, "alice", "")
	ctx := context.Background()
	forged := creds{AccessKeyID: alice.AccessKeyID, SecretAccessKey: strings.Repeat("x", 40)}
	throttled := 0
	for range 30 {
		_, err := sts.NewFromConfig(b.sdkConfigFrom(forged, "127.0.0.3")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if errCodeOf(err) == "Throttling" {
			throttled++
		}
	}
	if throttled == 0 {
		t.Errorf("30 forged requests from one address were never throttled")
	}
	if _, err := sts.NewFromConfig(b.sdkConfigFrom(alice, "127.0.0.1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("alice from 127.0.0.1 after forgeries of her key id from 127.0.0.3: %v", err)
	}
	// The forger's own address, with the right secret, is served too: a
	// signature is the proof, not the address.
	if _, err := sts.NewFromConfig(b.sdkConfigFrom(alice, "127.0.0.3")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("alice from 127.0.0.3: %v", err)
	}
	for i := range 30 {
		bad := creds{AccessKeyID: "AKIA" + strings.Repeat("Q", 14) + string(rune('A'+i%26)) + "Z", SecretAccessKey: strings.Repeat("y", 40)}
		_, _ = sts.NewFromConfig(b.sdkConfigFrom(bad, "127.0.0.5")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		_, _ = sts.NewFromConfig(b.sdkConfigFrom(forged, "127.0.0.5")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	}
	if _, err := sts.NewFromConfig(b.sdkConfigFrom(alice, "127.0.0.5")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("alice from an address that sent 60 bad requests: %v", err)
	}
}
