package e2e

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

// e2eIssuer is a CI system's OpenID provider on loopback: discovery
// document and JWKS with an RSA key "rsa-1" and an EC key "ec-1".
type e2eIssuer struct {
	*testutil.OIDCIssuer
	rsa, rsa2 *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
}

func newE2EIssuer(t *testing.T) *e2eIssuer {
	t.Helper()
	k := testutil.OIDCKeys()
	return &e2eIssuer{OIDCIssuer: testutil.NewOIDCIssuer(t, testutil.StandardJWKS(t)), rsa: k.RSA, rsa2: k.RSA2, ec: k.EC}
}

// claims are GitHub Actions-like claims for octo-org/octo-repo on main,
// issued now; kv replaces (or with nil removes) claims.
func (li *e2eIssuer) claims(kv ...any) map[string]any {
	m := testutil.WithClaims(testutil.GitHubClaims(li.URL, time.Now()), "ref_type", "branch")
	return testutil.WithClaims(m, kv...)
}

// startWebIdentity starts a broker of account 111122223333 with a CI
// system's issuer, an OpenID Connect provider for it and a role
// "gh-deploy" that trusts octo-org/octo-repo on main; it returns the
// broker, the issuer, and the provider and role ARNs.
func startWebIdentity(t *testing.T) (b *broker, li *e2eIssuer, prov, role string) {
	t.Helper()
	b = startBroker(t, "", "--account-id", "111122223333")
	admin := b.adminCreds()
	li = newE2EIssuer(t)
	prov = str(t, b.mustAWS(admin, "iam", "create-open-id-connect-provider", "--url", li.URL, "--client-id-list", "sts.amazonaws.com"), "OpenIDConnectProviderArn")
	p := li.Prefix()
	trust := writeFile(t, "trust.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+prov+`"},`+
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"`+p+`:aud":"sts.amazonaws.com","`+p+`:ref":"refs/heads/main"},`+
		`"StringLike":{"`+p+`:sub":"repo:octo-org/octo-repo:*"}}}]}`)
	role = str(t, b.mustAWS(admin, "iam", "create-role", "--role-name", "gh-deploy", "--assume-role-policy-document", "file://"+trust), "Role", "Arn")
	b.mustAWS(admin, "iam", "put-role-policy", "--role-name", "gh-deploy", "--policy-name", "whoami", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}`)
	return b, li, prov, role
}

// TestWebIdentityCLI: the aws CLI trades a CI token for a session, unsigned,
// and every bad token is refused with AWS's code.
func TestWebIdentityCLI(t *testing.T) {
	t.Parallel()
	b, li, prov, role := startWebIdentity(t)
	admin := b.adminCreds()
	sessARN := "arn:aws:sts::111122223333:assumed-role/gh-deploy/build-1"
	assume := func(tok string, extra ...string) []string {
		return append([]string{"sts", "assume-role-with-web-identity", "--role-arn", role, "--role-session-name", "build-1", "--web-identity-token", tok}, extra...)
	}
	good := testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", li.claims())

	// No credentials at all, and --no-sign-request with credentials present.
	for _, c := range []struct {
		name  string
		creds creds
		extra []string
	}{
		{"no-credentials", creds{}, nil},
		{"no-sign-request", admin, []string{"--no-sign-request"}},
	} {
		t.Run("ok/"+c.name, func(t *testing.T) {
			out := b.mustAWS(c.creds, assume(good, c.extra...)...)
			if str(t, out, "AssumedRoleUser", "Arn") != sessARN || str(t, out, "Provider") != prov || str(t, out, "Audience") != "sts.amazonaws.com" ||
				str(t, out, "SubjectFromWebIdentityToken") != "repo:octo-org/octo-repo:ref:refs/heads/main" {
				t.Errorf("assume-role-with-web-identity = %v", out)
			}
			sess := credsFrom(t, out)
			if got := str(t, b.mustAWS(sess, "sts", "get-caller-identity"), "Arn"); got != sessARN {
				t.Errorf("get-caller-identity = %s, want %s", got, sessARN)
			}
			b.mustAWS(sess, "iam", "get-role", "--role-name", "gh-deploy")
			b.wantAWSError(sess, "AccessDenied", "iam", "list-users")
		})
	}
	t.Run("ok/es256", func(t *testing.T) {
		b.mustAWS(creds{}, assume(testutil.SignJWT(t, li.ec, jose.ES256, "ec-1", li.claims()))...)
	})

	der, _ := x509.MarshalPKIXPublicKey(&li.rsa.PublicKey)
	good0 := li.claims()
	tampered := strings.Split(good, ".")
	evil, _ := json.Marshal(li.claims("ref", "refs/heads/evil"))
	tampered[1] = base64.RawURLEncoding.EncodeToString(evil)
	for _, tc := range []struct {
		name, token, code string
	}{
		{"wrong-audience", testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", li.claims("aud", "someone-else")), "InvalidIdentityToken"},
		{"wrong-issuer", testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", li.claims("iss", "https://gitlab.com")), "InvalidIdentityToken"},
		{"expired", testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", li.claims("iat", time.Now().Add(-time.Hour).Unix(), "exp", time.Now().Add(-30*time.Minute).Unix())), "ExpiredTokenException"},
		{"not-yet-valid", testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", li.claims("nbf", time.Now().Add(time.Hour).Unix())), "InvalidIdentityToken"},
		{"alg-none", testutil.ForgeJWT(`{"alg":"none","typ":"JWT"}`, good0, nil), "InvalidIdentityToken"},
		{"hs256-with-public-key", testutil.ForgeJWT(`{"alg":"HS256","typ":"JWT","kid":"rsa-1"}`, good0, der), "InvalidIdentityToken"},
		{"unknown-kid", testutil.SignJWT(t, li.rsa2, jose.RS256, "rsa-9", li.claims()), "InvalidIdentityToken"},
		{"tampered-payload", strings.Join(tampered, "."), "InvalidIdentityToken"},
		{"trust-rejects-ref", testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", li.claims("ref", "refs/heads/feature")), "AccessDenied"},
		{"trust-rejects-repository", testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", li.claims("sub", "repo:evil/octo-repo:ref:refs/heads/main")), "AccessDenied"},
	} {
		t.Run("fail/"+tc.name, func(t *testing.T) {
			r := b.wantAWSError(creds{}, tc.code, assume(tc.token)...)
			if strings.Contains(r.Stderr, tc.token) {
				t.Errorf("the error echoes the token:\n%s", r.Stderr)
			}
		})
	}

	// The standard variables alone: the aws CLI assumes the role itself from
	// a token file, as a CI job with an OIDC token does.
	t.Run("ok/token-file-variables", func(t *testing.T) {
		tokFile := writeFile(t, "token", good+"\n")
		env := b.cliEnv(creds{}, "AWS_WEB_IDENTITY_TOKEN_FILE="+tokFile, "AWS_ROLE_ARN="+role, "AWS_ROLE_SESSION_NAME=build-1")
		r := b.awsEnv(env, "sts", "get-caller-identity")
		if r.Code != 0 {
			t.Fatalf("get-caller-identity with AWS_WEB_IDENTITY_TOKEN_FILE: exit %d\n%s", r.Code, r.Stderr)
		}
		if got := str(t, r.JSON(t), "Arn"); got != sessARN {
			t.Errorf("caller = %s, want %s", got, sessARN)
		}
	})

	// The build is traceable: the broker's log names the token's subject
	// with the session it got (the session's source identity).
	t.Run("ok/subject-on-record", func(t *testing.T) {
		logs := b.logs.String()
		if !strings.Contains(logs, "web identity session issued") || !strings.Contains(logs, "subject=repo:octo-org/octo-repo:ref:refs/heads/main") {
			t.Errorf("no log line carries the token subject:\n%s", logs)
		}
	})
	t.Run("ok/provider-listed", func(t *testing.T) {
		out := b.mustAWS(admin, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", prov)
		if str(t, out, "Url") != li.Prefix() || out["ClientIDList"].([]any)[0] != "sts.amazonaws.com" {
			t.Errorf("get-open-id-connect-provider = %v", out)
		}
		list := b.mustAWS(admin, "iam", "list-open-id-connect-providers")
		if l := list["OpenIDConnectProviderList"].([]any); len(l) != 1 || l[0].(map[string]any)["Arn"] != prov {
			t.Errorf("list-open-id-connect-providers = %v", list)
		}
	})
}

// TestWebIdentityExec: a job that holds only its CI system's OIDC token runs
// its command through shortfuse exec, which trades the token for a session
// of the role (flags, or the standard variables), gives it to the command,
// and revokes it at exit.
func TestWebIdentityExec(t *testing.T) {
	t.Parallel()
	b, li, _, role := startWebIdentity(t)
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

const boto3Script = `
import json, sys
import boto3, botocore
endpoint, role, token = sys.argv[1:4]
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
try:
    r = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="boto3-build", WebIdentityToken=token, DurationSeconds=900)
except botocore.exceptions.ClientError as e:
    print(json.dumps({"Error": e.response["Error"]["Code"]}))
    sys.exit(0)
c = r["Credentials"]
me = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                  aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"]).get_caller_identity()
print(json.dumps({"Subject": r["SubjectFromWebIdentityToken"], "Provider": r["Provider"], "Audience": r["Audience"],
                  "Arn": r["AssumedRoleUser"]["Arn"], "Caller": me["Arn"]}))
`

// python3 returns the interpreter that has boto3, or skips (fails in CI).
func python3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err == nil {
		if exec.Command(p, "-c", "import boto3").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("python3 with boto3 is needed (apt-get install python3-boto3)")
	}
	t.Skip("python3 with boto3 is not available")
	return ""
}

// TestWebIdentityBoto3: boto3 calls AssumeRoleWithWebIdentity unsigned and
// uses the session; a bad token gets AWS's code.
func TestWebIdentityBoto3(t *testing.T) {
	t.Parallel()
	py := python3(t)
	b, li, prov, role := startWebIdentity(t)
	script := writeFile(t, "assume.py", boto3Script)
	for _, tc := range []struct {
		name, token string
		want        map[string]string
	}{
		{"ok/rs256", testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", li.claims()), map[string]string{
			"Subject": "repo:octo-org/octo-repo:ref:refs/heads/main", "Provider": prov, "Audience": "sts.amazonaws.com",
			"Arn": "arn:aws:sts::111122223333:assumed-role/gh-deploy/boto3-build", "Caller": "arn:aws:sts::111122223333:assumed-role/gh-deploy/boto3-build",
		}},
		{"fail/expired", testutil.SignJWT(t, li.ec, jose.ES256, "ec-1", li.claims("exp", time.Now().Add(-time.Hour).Unix())), map[string]string{"Error": "ExpiredTokenException"}},
		{"fail/wrong-ref", testutil.SignJWT(t, li.ec, jose.ES256, "ec-1", li.claims("ref", "refs/tags/v1", "ref_type", "tag")), map[string]string{"Error": "AccessDenied"}},
		{"fail/alg-none", testutil.ForgeJWT(`{"alg":"none"}`, li.claims(), nil), map[string]string{"Error": "InvalidIdentityToken"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := runCmd(60*time.Second, b.cliEnv(creds{}), nil, py, script, b.url, role, tc.token)
			if err != nil || r.Code != 0 {
				t.Fatalf("boto3 script: exit %d, %v\n%s", r.Code, err, r.Stderr)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
				t.Fatalf("boto3 output %q: %v", r.Stdout, err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

// TestWebIdentityStoredJWKS: a broker without a route to the issuer gets its
// keys from `shortfuse oidc-provider set-jwks`.
func TestWebIdentityStoredJWKS(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "", "--account-id", "111122223333")
	admin := b.adminCreds()
	li := newE2EIssuer(t)
	const iss = "https://jenkins.invalid/oidc" // no route: .invalid never resolves
	prov := str(t, b.mustAWS(admin, "iam", "create-open-id-connect-provider", "--url", iss, "--client-id-list", "shortfuse"), "OpenIDConnectProviderArn")
	trust := writeFile(t, "trust.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+prov+`"},`+
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"jenkins.invalid/oidc:sub":"https://jenkins.invalid/job/deploy/"}}}]}`)
	role := str(t, b.mustAWS(admin, "iam", "create-role", "--role-name", "jenkins-deploy", "--assume-role-policy-document", "file://"+trust), "Role", "Arn")
	now := time.Now()
	tok := testutil.SignJWT(t, li.rsa, jose.RS256, "rsa-1", map[string]any{
		"iss": iss, "aud": "shortfuse", "sub": "https://jenkins.invalid/job/deploy/", "build_number": 12,
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	assume := []string{"sts", "assume-role-with-web-identity", "--role-arn", role, "--role-session-name", "deploy-12", "--web-identity-token", tok}
	b.wantAWSError(creds{}, "IDPCommunicationError", assume...)

	jwksFile := writeFile(t, "jwks.json", string(testutil.StandardJWKS(t)))
	r := b.sfAs(admin, nil, "", "oidc-provider", "set-jwks", "--arn", prov, "--file", jwksFile)
	if r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "stored 2 key(s): ec-1, rsa-1") {
		t.Fatalf("shortfuse oidc-provider set-jwks: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	res := b.mustAWS(creds{}, assume...)
	if got := str(t, res, "AssumedRoleUser", "Arn"); got != "arn:aws:sts::111122223333:assumed-role/jenkins-deploy/deploy-12" {
		t.Errorf("AssumedRoleUser.Arn = %s", got)
	}

	// A caller without iam:UpdateOpenIDConnectProviderThumbprint cannot.
	nobody := newUser(t, b, admin, "nobody", "")
	r = b.sfAs(nobody, nil, "", "oidc-provider", "set-jwks", "--arn", prov, "--clear")
	if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "AccessDeniedException") {
		t.Fatalf("set-jwks without permission: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
