package server

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// localIssuer is an OpenID provider on loopback: discovery document and
// JWKS, with RSA key "rsa-1" and EC key "ec-1".
type localIssuer struct{ *testutil.OIDCIssuer }

func newLocalIssuer(t *testing.T) *localIssuer {
	t.Helper()
	return &localIssuer{testutil.NewOIDCIssuer(t, testutil.StandardJWKS(t))}
}

func (li *localIssuer) claims(now time.Time, kv ...any) map[string]any {
	m := testutil.WithClaims(testutil.GitHubClaims(li.URL, now),
		"environment", "production",
		"job_workflow_ref", "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main")
	return testutil.WithClaims(m, kv...)
}

func (b *testBroker) iamClient() *sdkiam.Client {
	return sdkiam.NewFromConfig(sdkConfig(b.url, b.admin))
}

// anonSTS is an STS client without credentials: AssumeRoleWithWebIdentity
// is sent unsigned.
func (b *testBroker) anonSTS() *sts.Client {
	return sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url), RetryMaxAttempts: 1})
}

// webIdentityFixture is a broker with a provider for a local issuer and a
// role "deploy" trusting tokens of octo-org/octo-repo on main.
type webIdentityFixture struct {
	b        *testBroker
	iss      *localIssuer
	provider string
	role     string
}

func trustPolicyFor(provider, prefix string, conds string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + conds + `}]}`
}

func newWebIdentityFixture(t *testing.T) *webIdentityFixture {
	t.Helper()
	b := newTestBroker(t, time.Hour, nil)
	li := newLocalIssuer(t)
	ctx := context.Background()
	ic := b.iamClient()
	out, err := ic.CreateOpenIDConnectProvider(ctx, &sdkiam.CreateOpenIDConnectProviderInput{
		Url: aws.String(li.URL), ClientIDList: []string{"sts.amazonaws.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	prov := *out.OpenIDConnectProviderArn
	p := li.Prefix()
	trust := trustPolicyFor(prov, p, `{"StringEquals":{"`+p+`:aud":"sts.amazonaws.com","`+p+`:ref":"refs/heads/main","`+p+`:environment":"production"},`+
		`"StringLike":{"`+p+`:sub":"repo:octo-org/octo-repo:*","`+p+`:job_workflow_ref":"octo-org/octo-repo/.github/workflows/*"}}`)
	role, err := ic.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	if _, err := ic.PutRolePolicy(ctx, &sdkiam.PutRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	return &webIdentityFixture{b: b, iss: li, provider: prov, role: *role.Role.Arn}
}

func (f *webIdentityFixture) assume(token string, mod ...func(*sts.AssumeRoleWithWebIdentityInput)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	in := &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(f.role), RoleSessionName: aws.String("build-42"), WebIdentityToken: aws.String(token)}
	for _, m := range mod {
		m(in)
	}
	return f.b.anonSTS().AssumeRoleWithWebIdentity(context.Background(), in)
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	f := newWebIdentityFixture(t)
	k := testutil.OIDCKeys()
	now := f.b.clock.Now()
	good := f.iss.claims(now)
	rsTok := testutil.SignJWT(t, k.RSA, jose.RS256, "rsa-1", good)
	derRSA, _ := x509.MarshalPKIXPublicKey(&k.RSA.PublicKey)

	ic := f.b.iamClient()
	other, err := ic.CreateRole(context.Background(), &sdkiam.CreateRoleInput{RoleName: aws.String("other-provider"),
		AssumeRolePolicyDocument: aws.String(trustPolicyFor("arn:aws:iam::"+f.b.srv.cfg.Account+":oidc-provider/gitlab.com", "", `{}`))})
	if err != nil {
		t.Fatal(err)
	}
	awsTrust, err := ic.CreateRole(context.Background(), &sdkiam.CreateRoleInput{RoleName: aws.String("account-trust"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + f.b.srv.cfg.Account + `:root"},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"]}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := func(a *string) func(*sts.AssumeRoleWithWebIdentityInput) {
		return func(in *sts.AssumeRoleWithWebIdentityInput) { in.RoleArn = a }
	}

	tests := []struct {
		name  string
		token string
		mod   []func(*sts.AssumeRoleWithWebIdentityInput)
		want  string
	}{
		{"ok/rs256", rsTok, nil, ""},
		{"ok/es256", testutil.SignJWT(t, k.EC, jose.ES256, "ec-1", good), nil, ""},
		{"ok/session-policy", rsTok, []func(*sts.AssumeRoleWithWebIdentityInput){func(in *sts.AssumeRoleWithWebIdentityInput) {
			in.Policy = aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`)
			in.DurationSeconds = aws.Int32(900)
		}}, ""},

		{"fail/wrong-audience", testutil.SignJWT(t, k.RSA, jose.RS256, "rsa-1", f.iss.claims(now, "aud", "someone-else")), nil, "InvalidIdentityToken"},
		{"fail/wrong-issuer", testutil.SignJWT(t, k.RSA, jose.RS256, "rsa-1", f.iss.claims(now, "iss", "http://127.0.0.1:1/elsewhere")), nil, "InvalidIdentityToken"},
		{"fail/expired", testutil.SignJWT(t, k.RSA, jose.RS256, "rsa-1", f.iss.claims(now.Add(-time.Hour))), nil, "ExpiredTokenException"},
		{"fail/not-yet-valid", testutil.SignJWT(t, k.RSA, jose.RS256, "rsa-1", f.iss.claims(now, "nbf", now.Add(10*time.Minute).Unix())), nil, "InvalidIdentityToken"},
		{"fail/alg-none", testutil.ForgeJWT(`{"alg":"none","typ":"JWT"}`, good, nil), nil, "InvalidIdentityToken"},
		{"fail/hs256-public-key", testutil.ForgeJWT(`{"alg":"HS256","typ":"JWT","kid":"rsa-1"}`, good, derRSA), nil, "InvalidIdentityToken"},
		{"fail/unknown-kid", testutil.SignJWT(t, k.RSA2, jose.RS256, "rsa-2", good), nil, "InvalidIdentityToken"},
		{"fail/tampered-payload", testutil.TamperJWT(rsTok, f.iss.claims(now, "repository", "evil-org/octo-repo")), nil, "InvalidIdentityToken"},
		{"fail/garbage", "not-a-token", nil, "InvalidIdentityToken"},
		{"fail/claims-differ-by-case", testutil.SignJWT(t, k.RSA, jose.RS256, "rsa-1", f.iss.claims(now, "Ref", "refs/heads/evil")), nil, "IDPRejectedClaim"},
		{"fail/trust-rejects-ref", testutil.SignJWT(t, k.RSA, jose.RS256, "rsa-1", f.iss.claims(now, "ref", "refs/heads/feature", "sub", "repo:octo-org/octo-repo:ref:refs/heads/feature")), nil, "AccessDenied"},
		{"fail/trust-rejects-repository", testutil.SignJWT(t, k.RSA, jose.RS256, "rsa-1", f.iss.claims(now, "sub", "repo:evil-org/octo-repo:ref:refs/heads/main")), nil, "AccessDenied"},
		{"fail/trust-needs-environment", testutil.SignJWT(t, k.RSA, jose.RS256, "rsa-1", f.iss.claims(now, "environment", nil)), nil, "AccessDenied"},
		{"fail/role-missing", rsTok, []func(*sts.AssumeRoleWithWebIdentityInput){roleARN(aws.String("arn:aws:iam::" + f.b.srv.cfg.Account + ":role/nope"))}, "AccessDenied"},
		{"fail/role-trusts-other-provider", rsTok, []func(*sts.AssumeRoleWithWebIdentityInput){roleARN(other.Role.Arn)}, "AccessDenied"},
		{"fail/role-trusts-account-only", rsTok, []func(*sts.AssumeRoleWithWebIdentityInput){roleARN(awsTrust.Role.Arn)}, "AccessDenied"},
		{"fail/duration-over-role-max", rsTok, []func(*sts.AssumeRoleWithWebIdentityInput){func(in *sts.AssumeRoleWithWebIdentityInput) { in.DurationSeconds = aws.Int32(7200) }}, "ValidationError"},
		{"fail/provider-id", rsTok, []func(*sts.AssumeRoleWithWebIdentityInput){func(in *sts.AssumeRoleWithWebIdentityInput) { in.ProviderId = aws.String("graph.facebook.com") }}, "InvalidParameterValue"},
		{"fail/bad-session-name", rsTok, []func(*sts.AssumeRoleWithWebIdentityInput){func(in *sts.AssumeRoleWithWebIdentityInput) { in.RoleSessionName = aws.String("a b") }}, "ValidationError"},
		{"fail/malformed-session-policy", rsTok, []func(*sts.AssumeRoleWithWebIdentityInput){func(in *sts.AssumeRoleWithWebIdentityInput) { in.Policy = aws.String(`{"Version":"2012-10-17"}`) }}, "MalformedPolicyDocument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := f.assume(tc.token, tc.mod...)
			if got := errCode(err); got != tc.want {
				t.Fatalf("AssumeRoleWithWebIdentity() code = %q (%v), want %q", got, err, tc.want)
			}
			if err != nil {
				if strings.Contains(err.Error(), tc.token) {
					t.Errorf("error echoes the token: %v", err)
				}
				return
			}
			sub := good["sub"].(string)
			sessARN := "arn:aws:sts::" + f.b.srv.cfg.Account + ":assumed-role/deploy/build-42"
			if *out.SubjectFromWebIdentityToken != sub || *out.Audience != "sts.amazonaws.com" || *out.Provider != f.provider ||
				*out.AssumedRoleUser.Arn != sessARN || aws.ToString(out.SourceIdentity) != sub {
				t.Errorf("response = sub %q aud %q provider %q arn %q source %q", *out.SubjectFromWebIdentityToken, *out.Audience, *out.Provider, *out.AssumedRoleUser.Arn, aws.ToString(out.SourceIdentity))
			}
			// The session works, as the assumed role.
			c := sessionCreds(out.Credentials)
			id, err := f.b.sts(c).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity with the session: %v", err)
			}
			if *id.Arn != sessARN || !strings.HasSuffix(*id.UserId, ":build-42") {
				t.Errorf("GetCallerIdentity = %s %s, want %s", *id.Arn, *id.UserId, sessARN)
			}
			// The build is on record with the session.
			rec, err := f.b.srv.sessions.Get(context.Background(), c.AccessKeyID)
			if err != nil || rec.SourceIdentity != sub || rec.SourceARN != f.provider || rec.Type != "AssumeRoleWithWebIdentity" {
				t.Errorf("session record = %+v, %v", rec, err)
			}
		})
	}
}

// TestWebIdentityKeyRotation: a token with an unknown kid makes the broker
// fetch the issuer's keys again, at most once a minute.
func TestWebIdentityKeyRotation(t *testing.T) {
	f := newWebIdentityFixture(t)
	k := testutil.OIDCKeys()
	tok := func(key any, kid string) string {
		return testutil.SignJWT(t, key, jose.RS256, kid, f.iss.claims(f.b.clock.Now()))
	}
	steps := []struct {
		name        string
		clock       time.Duration
		rotate      bool
		token       func() string
		want        string
		wantFetches int32
	}{
		{"ok/first-token-fetches-keys", 0, false, func() string { return tok(k.RSA, "rsa-1") }, "", 1},
		{"fail/unknown-kid-too-soon-no-fetch", 0, false, func() string { return tok(k.RSA2, "rsa-2") }, "InvalidIdentityToken", 1},
		{"fail/unknown-kid-after-refresh-still-unknown", 2 * time.Minute, false, func() string { return tok(k.RSA2, "rsa-2") }, "InvalidIdentityToken", 2},
		{"ok/rotated-key-found", 4 * time.Minute, true, func() string { return tok(k.RSA2, "rsa-2") }, "", 3},
		{"ok/cached", 4 * time.Minute, false, func() string { return tok(k.RSA, "rsa-1") }, "", 3},
	}
	for _, st := range steps {
		f.b.clock.Shift(st.clock)
		if st.rotate {
			f.iss.SetJWKS(testutil.JWKS(t,
				jose.JSONWebKey{Key: &k.RSA.PublicKey, KeyID: "rsa-1", Algorithm: "RS256"},
				jose.JSONWebKey{Key: &k.RSA2.PublicKey, KeyID: "rsa-2", Algorithm: "RS256"}))
		}
		_, err := f.assume(st.token())
		if got := errCode(err); got != st.want {
			t.Fatalf("%s: code = %q (%v), want %q", st.name, got, err, st.want)
		}
		if got := f.iss.Fetches.Load(); got != st.wantFetches {
			t.Fatalf("%s: JWKS fetches = %d, want %d", st.name, got, st.wantFetches)
		}
	}
}

// TestWebIdentityStoredJWKS: a provider whose issuer the broker cannot
// reach verifies tokens with the JWKS stored through
// shortfuse.SetOpenIDConnectProviderJWKS.
func TestWebIdentityStoredJWKS(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	k := testutil.OIDCKeys()
	ctx := context.Background()
	ic := b.iamClient()
	const iss = "https://jenkins.invalid/oidc"
	out, err := ic.CreateOpenIDConnectProvider(ctx, &sdkiam.CreateOpenIDConnectProviderInput{Url: aws.String(iss), ClientIDList: []string{"shortfuse"}})
	if err != nil {
		t.Fatal(err)
	}
	prov := *out.OpenIDConnectProviderArn
	trust := trustPolicyFor(prov, "", `{"StringEquals":{"jenkins.invalid/oidc:sub":"https://jenkins.invalid/job/deploy/","jenkins.invalid/oidc:aud":"shortfuse"}}`)
	role, err := ic.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("jenkins-deploy"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	now := b.clock.Now()
	claims := map[string]any{"iss": iss, "sub": "https://jenkins.invalid/job/deploy/", "aud": "shortfuse", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "build_number": 7}
	token := testutil.SignJWT(t, k.EC, jose.ES256, "jenkins-1", claims)
	assume := func() error {
		_, err := b.anonSTS().AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("deploy-7"), WebIdentityToken: aws.String(token)})
		return err
	}
	// Without a stored set, the issuer is unreachable, and STS says so
	// in AWS's words.
	if err := assume(); errCode(err) != "IDPCommunicationError" ||
		!strings.Contains(err.Error(), "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements") {
		t.Fatalf("unreachable issuer: %v, want IDPCommunicationError", err)
	}
	jwks := string(testutil.JWKS(t, jose.JSONWebKey{Key: &k.EC.PublicKey, KeyID: "jenkins-1", Algorithm: "ES256", Use: "sig"}))
	body, _ := json.Marshal(map[string]any{"OpenIDConnectProviderArn": prov, "JWKS": jwks})

	nobody := sdkUser(t, ic, "nobody", "")
	for _, tc := range []struct {
		name string
		c    aws.Credentials
		body string
		want string
	}{
		{"fail/not-authorized", nobody, string(body), "AccessDeniedException"},
		{"fail/no-provider", b.admin, `{"OpenIDConnectProviderArn":"arn:aws:iam::` + b.srv.cfg.Account + `:oidc-provider/nope.example","JWKS":` + strconvQuote(jwks) + `}`, "NoSuchEntityException"},
		{"fail/private-key", b.admin, `{"OpenIDConnectProviderArn":"` + prov + `","JWKS":` + strconvQuote(string(testutil.JWKS(t, jose.JSONWebKey{Key: k.EC, KeyID: "x"}))) + `}`, "InvalidInputException"},
		{"fail/no-jwks-member", b.admin, `{"OpenIDConnectProviderArn":"` + prov + `"}`, "InvalidParameterException"},
		{"fail/unknown-member", b.admin, `{"OpenIDConnectProviderArn":"` + prov + `","Jwks":""}`, "ValidationException"},
		{"fail/duplicate-member", b.admin, `{"OpenIDConnectProviderArn":"` + prov + `","JWKS":"","JWKS":""}`, "SerializationException"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantShortfuseError(t, b, tc.c, "SetOpenIDConnectProviderJWKS", tc.body, tc.want) })
	}
	res := mustShortfuse(t, b, b.admin, "SetOpenIDConnectProviderJWKS", string(body))
	if ids, _ := res["KeyIds"].([]any); len(ids) != 1 || ids[0] != "jenkins-1" {
		t.Errorf("SetOpenIDConnectProviderJWKS = %v", res)
	}
	if err := assume(); err != nil {
		t.Fatalf("with stored JWKS: %v", err)
	}
	// Removing the stored set sends the broker back to the issuer.
	mustShortfuse(t, b, b.admin, "SetOpenIDConnectProviderJWKS", `{"OpenIDConnectProviderArn":"`+prov+`","JWKS":""}`)
	b.clock.Shift(2 * time.Minute)
	if got := errCode(assume()); got != "IDPCommunicationError" {
		t.Fatalf("after removal: code %q, want IDPCommunicationError", got)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestOpenIDConnectProviderOperations(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	ctx := context.Background()
	ic := b.iamClient()
	const gh = "https://token.actions.githubusercontent.com"
	const tp = "6938fd4d98bab03faadb97b34396831e3780aea1"
	out, err := ic.CreateOpenIDConnectProvider(ctx, &sdkiam.CreateOpenIDConnectProviderInput{
		Url: aws.String(gh), ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{tp},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := *out.OpenIDConnectProviderArn
	if want := "arn:aws:iam::" + b.srv.cfg.Account + ":oidc-provider/token.actions.githubusercontent.com"; arn != want {
		t.Fatalf("ARN = %s, want %s", arn, want)
	}
	steps := []codeStep{
		{"fail/create-again", sdkStep(ctx, ic.CreateOpenIDConnectProvider, &sdkiam.CreateOpenIDConnectProviderInput{Url: aws.String(gh + "/")}), "EntityAlreadyExists"},
		{"fail/create-http", sdkStep(ctx, ic.CreateOpenIDConnectProvider, &sdkiam.CreateOpenIDConnectProviderInput{Url: aws.String("http://gitlab.com")}), "InvalidInput"},
		{"ok/add-client", sdkStep(ctx, ic.AddClientIDToOpenIDConnectProvider, &sdkiam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, ClientID: aws.String("shortfuse")}), ""},
		{"ok/remove-client", sdkStep(ctx, ic.RemoveClientIDFromOpenIDConnectProvider, &sdkiam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, ClientID: aws.String("sts.amazonaws.com")}), ""},
		{"ok/thumbprints-cleared", sdkStep(ctx, ic.UpdateOpenIDConnectProviderThumbprint, &sdkiam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: &arn, ThumbprintList: []string{}}), ""},
		{"ok/tag", sdkStep(ctx, ic.TagOpenIDConnectProvider, &sdkiam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("ci")}, {Key: aws.String("x"), Value: aws.String("y")}}}), ""},
		{"ok/untag", sdkStep(ctx, ic.UntagOpenIDConnectProvider, &sdkiam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, TagKeys: []string{"x"}}), ""},
		{"fail/get-missing", sdkStep(ctx, ic.GetOpenIDConnectProvider, &sdkiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn + ".example")}), "NoSuchEntity"},
	}
	if !runCodeSteps(t, steps) {
		t.FailNow()
	}
	got, err := ic.GetOpenIDConnectProvider(ctx, &sdkiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Url != "token.actions.githubusercontent.com" || len(got.ClientIDList) != 1 || got.ClientIDList[0] != "shortfuse" ||
		len(got.ThumbprintList) != 0 || got.CreateDate == nil || len(got.Tags) != 1 || *got.Tags[0].Key != "team" {
		t.Errorf("GetOpenIDConnectProvider = url %q clients %v thumbprints %v tags %v", *got.Url, got.ClientIDList, got.ThumbprintList, got.Tags)
	}
	tags, err := ic.ListOpenIDConnectProviderTags(ctx, &sdkiam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: &arn})
	if err != nil || len(tags.Tags) != 1 || tags.IsTruncated {
		t.Errorf("ListOpenIDConnectProviderTags = %+v, %v", tags, err)
	}
	list, err := ic.ListOpenIDConnectProviders(ctx, &sdkiam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(list.OpenIDConnectProviderList) != 1 || *list.OpenIDConnectProviderList[0].Arn != arn {
		t.Errorf("ListOpenIDConnectProviders = %+v, %v", list, err)
	}

	// Without permission, each operation is AccessDenied, whether or not the
	// provider exists.
	nobodyKey := sdkUser(t, ic, "nobody", "")
	nc := sdkiam.NewFromConfig(sdkConfig(b.url, nobodyKey))
	runCodeSteps(t, []codeStep{
		{"fail/create-without-permission", sdkStep(ctx, nc.CreateOpenIDConnectProvider, &sdkiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://gitlab.com")}), "AccessDenied"},
		{"fail/get-without-permission", sdkStep(ctx, nc.GetOpenIDConnectProvider, &sdkiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}), "AccessDenied"},
		{"fail/get-missing-without-permission", sdkStep(ctx, nc.GetOpenIDConnectProvider, &sdkiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn + "x")}), "AccessDenied"},
		{"fail/list-without-permission", sdkStep(ctx, nc.ListOpenIDConnectProviders, &sdkiam.ListOpenIDConnectProvidersInput{}), "AccessDenied"},
		{"fail/delete-without-permission", sdkStep(ctx, nc.DeleteOpenIDConnectProvider, &sdkiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}), "AccessDenied"},
	})

	if _, err := ic.DeleteOpenIDConnectProvider(ctx, &sdkiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.DeleteOpenIDConnectProvider(ctx, &sdkiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}); errCode(err) != "NoSuchEntity" {
		t.Errorf("second delete: %v, want NoSuchEntity", err)
	}
}

// TestOIDCDocTrustPolicies: every trust policy in docs/OIDC.md parses.
func TestOIDCDocTrustPolicies(t *testing.T) {
	doc, err := os.ReadFile("../../docs/OIDC.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```json\n")[1:]
	if len(blocks) < 3 {
		t.Fatalf("docs/OIDC.md has %d JSON blocks, want the GitHub, GitLab and Jenkins trust policies", len(blocks))
	}
	for i, blk := range blocks {
		text, _, _ := strings.Cut(blk, "```")
		if _, err := policy.Parse([]byte(text), policy.KindTrust); err != nil {
			t.Errorf("trust policy %d of docs/OIDC.md: %v\n%s", i+1, err, text)
		}
	}
}
