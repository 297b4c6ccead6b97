package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/oidc"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
)

// AssumeRoleWithWebIdentity: keyless CI identity. A CI system signs an
// OpenID Connect token for each build (GitHub Actions, GitLab CI, Jenkins
// with the oidc-provider plugin); the build trades it for a session of a
// role whose trust policy names the provider as {"Federated": ARN} and says,
// with conditions on the token's claims, which repository, branch or job may
// have it. The call is unsigned, as in AWS: the token is the credential.

// webIdentity is what the operation keeps between requests: the issuers'
// key sets fetched through discovery, and the parsed JWKS documents stored
// with providers.
type webIdentity struct {
	remote *oidc.Remote

	mu     sync.Mutex
	static map[[32]byte]*oidc.KeySet
}

// maxStaticKeySets bounds the cache of parsed stored JWKS documents; when
// full it starts again empty.
const maxStaticKeySets = 64

func newWebIdentity(opt oidc.RemoteOptions) *webIdentity {
	return &webIdentity{remote: oidc.NewRemote(opt), static: make(map[[32]byte]*oidc.KeySet)}
}

// keys returns the key source of a provider: its stored JWKS if it has
// one (the issuer is then never contacted), otherwise the issuer's
// published keys.
func (w *webIdentity) keys(p *iam.OIDCProvider) (oidc.KeySource, error) {
	if len(p.JWKS) == 0 {
		return w.remote.KeySource(p.URL), nil
	}
	sum := sha256.Sum256(p.JWKS)
	w.mu.Lock()
	ks, ok := w.static[sum]
	w.mu.Unlock()
	if !ok {
		var err error
		ks, err = oidc.ParseKeySet(p.JWKS)
		if err != nil {
			// Stored sets are checked when they are stored.
			return nil, &oidc.Error{Reason: oidc.ReasonKeys, Detail: "The identity provider's stored key set is not usable", Err: err}
		}
		w.mu.Lock()
		if len(w.static) >= maxStaticKeySets {
			w.static = make(map[[32]byte]*oidc.KeySet)
		}
		w.static[sum] = ks
		w.mu.Unlock()
	}
	return oidc.StaticKeys(ks), nil
}

// assumeRoleWithWebIdentityResult is botocore's
// AssumeRoleWithWebIdentityResponse. Provider is the provider's ARN, as
// AWS answers for OpenID Connect tokens; Audience the client id the token
// was issued for; SourceIdentity the session's source identity (the token's
// subject).
type assumeRoleWithWebIdentityResult struct {
	Credentials                 stsCredentials  `xml:"Credentials"`
	SubjectFromWebIdentityToken string          `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             assumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize            *int            `xml:"PackedPolicySize,omitempty"`
	Provider                    string          `xml:"Provider"`
	Audience                    string          `xml:"Audience"`
	SourceIdentity              string          `xml:"SourceIdentity,omitempty"`
}

func (a *assumeRoleWithWebIdentityResult) responseElements(r *audit.Redactor) map[string]any {
	return map[string]any{
		"Credentials":                 a.Credentials.elements(r),
		"SubjectFromWebIdentityToken": a.SubjectFromWebIdentityToken,
		"AssumedRoleUser":             a.AssumedRoleUser.elements(),
		"PackedPolicySize":            packedElement(a.PackedPolicySize),
		"Provider":                    a.Provider,
		"Audience":                    a.Audience,
		"SourceIdentity":              a.SourceIdentity,
	}
}

func (a *assumeRoleWithWebIdentityResult) AppendXML(b []byte, name string) []byte {
	b = a.Credentials.appendXML(awsapi.AppendStart(b, name))
	b = awsapi.AppendElement(b, "SubjectFromWebIdentityToken", a.SubjectFromWebIdentityToken)
	b = a.AssumedRoleUser.appendXML(b)
	b = appendPackedPolicySize(b, a.PackedPolicySize)
	b = awsapi.AppendElement(b, "Provider", a.Provider)
	b = awsapi.AppendElement(b, "Audience", a.Audience)
	return awsapi.AppendEnd(appendSourceIdentity(b, a.SourceIdentity), name)
}

// msgNotAuthorizedWebIdentity is AWS's message for every refusal after
// the token is verified: the role does not exist, or its trust policy does
// not allow the token. One message for all, so that a token holder learns
// nothing about roles and policies.
const msgNotAuthorizedWebIdentity = "Not authorized to perform sts:AssumeRoleWithWebIdentity"

func errInvalidIdentityToken(msg string) error {
	return &awsapi.Error{Code: awsapi.CodeInvalidIdentityToken, Message: msg}
}

// webIdentityError maps a token refusal to AWS's codes: an expired token is
// ExpiredTokenException, a token whose claims the broker cannot use is
// IDPRejectedClaim, a token whose issuer's keys cannot be had
// IDPCommunicationError (which the SDKs retry), anything else
// InvalidIdentityToken.
func webIdentityError(r *rpc.Request, err error) error {
	var oe *oidc.Error
	if !errors.As(err, &oe) {
		return err
	}
	if oe.Err != nil {
		r.Log().Warn("web identity token refused", "reason", oe.Reason.String(), "err", oe.Err)
	}
	switch oe.Reason {
	case oidc.ReasonExpired:
		return &awsapi.Error{Code: awsapi.CodeExpiredTokenException, Message: oe.Detail}
	case oidc.ReasonClaims:
		return &awsapi.Error{Code: awsapi.CodeIDPRejectedClaim, Message: "The identity token's claims were rejected: " + oe.Detail}
	case oidc.ReasonKeys:
		return &awsapi.Error{Code: awsapi.CodeIDPCommunication, Message: oe.Detail + ", please reference AssumeRoleWithWebIdentity documentation for requirements"}
	}
	return errInvalidIdentityToken(oe.Detail)
}

// webIdentityContext is the condition context of the trust-policy
// evaluation: the token's claims as "<issuer-host-and-path>:<claim>" keys,
// then the request's global keys and sts:RoleSessionName, which a claim can
// never override.
func (s *Server) webIdentityContext(r *rpc.Request, prov *iam.OIDCProvider, claims *oidc.Claims, sessName string) map[string][]string {
	m := claims.ConditionKeys()
	for k := range m {
		// A claim key never takes the place of a service's key.
		svc, _, _ := strings.Cut(strings.ToLower(k), ":")
		switch svc {
		case "aws", "sts", "iam", "secretsmanager", "shortfuse":
			delete(m, k)
		}
	}
	m["aws:CurrentTime"] = []string{r.Time.UTC().Format(time.RFC3339)}
	m["aws:EpochTime"] = []string{strconv.FormatInt(r.Time.Unix(), 10)}
	m["aws:SecureTransport"] = []string{strconv.FormatBool(r.Secure)}
	m["aws:RequestedRegion"] = []string{s.cfg.Region}
	m["aws:FederatedProvider"] = []string{prov.ARN}
	m["aws:ViaAWSService"] = []string{"false"}
	m["aws:PrincipalIsAWSService"] = []string{"false"}
	m["sts:RoleSessionName"] = []string{sessName}
	if r.SourceIP != "" {
		m["aws:SourceIp"] = []string{r.SourceIP}
	}
	return m
}

func handleAssumeRoleWithWebIdentity(s *Server, w *webIdentity) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		in, raw, err := s.webIdentityParams(ctx, r.Params)
		if err != nil {
			return nil, err
		}
		prov, claims, err := s.verifyWebIdentity(ctx, r, w, raw)
		if err != nil {
			return nil, err
		}
		role, err := s.webIdentityRole(ctx, r, in, prov, claims)
		if err != nil {
			return nil, err
		}
		if err := checkMaxDuration(role, nil, in.Duration); err != nil {
			return nil, err
		}
		creds, c, err := s.mintSession(ctx, r, sessionSpec{
			Type: sessiontoken.TypeAssumeRoleWithWebIdentity, Role: role, Name: in.Name, Source: prov.ARN,
			Duration: in.Duration, Policies: in.Policies, PolicyARNs: in.PolicyARNs,
			// The build the session belongs to: every call the session
			// makes, and every session chained from it, carries it.
			SourceIdentity: claims.Subject,
		})
		if err != nil {
			return nil, err
		}
		// The audit context of the session: which build, from which
		// provider, got which session.
		r.Log().Info("web identity session issued",
			"provider", prov.ARN, "subject", claims.Subject, "audience", claims.ClientID,
			"role", role.ARN, "session", c.PrincipalARN, "access_key_id", creds.AccessKeyID,
			"expires", creds.Expiration.UTC().Format(time.RFC3339), "token_kid", claims.KeyID)
		return &assumeRoleWithWebIdentityResult{
			Credentials:                 credentialsShape(creds),
			SubjectFromWebIdentityToken: claims.Subject,
			AssumedRoleUser:             assumedRoleUser{AssumedRoleID: c.UserID, Arn: c.PrincipalARN},
			PackedPolicySize:            packedPolicySize(in, false),
			Provider:                    prov.ARN,
			Audience:                    claims.ClientID,
			SourceIdentity:              claims.Subject,
		}, nil
	}
}

// webIdentityParams reads AssumeRoleWithWebIdentity's parameters: those of
// every role session, and the token.
func (s *Server) webIdentityParams(ctx context.Context, p *awsapi.Params) (*roleSessionInput, string, error) {
	in, err := s.roleSessionParams(ctx, p)
	if err != nil {
		return nil, "", err
	}
	raw, err := p.Required("WebIdentityToken")
	if err != nil {
		return nil, "", err
	}
	if len(raw) < oidc.MinTokenLen || len(raw) > oidc.MaxTokenLen {
		return nil, "", validationError("1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000")
	}
	if _, ok := p.Lookup("ProviderId"); ok {
		// ProviderId names an OAuth 2.0 provider (Amazon, Facebook)
		// whose access tokens are not JWTs; the broker takes only
		// OpenID Connect tokens, whose iss names the provider.
		return nil, "", &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: "ProviderId is for OAuth 2.0 access tokens, which this broker does not accept; pass an OpenID Connect ID token without ProviderId"}
	}
	if err := checkPacked(in.Packed); err != nil {
		return nil, "", err
	}
	return in, raw, nil
}

// verifyWebIdentity finds the token's provider and verifies the token with
// its keys. Nothing the token says is used before its signature verifies,
// except iss to choose the keys.
func (s *Server) verifyWebIdentity(ctx context.Context, r *rpc.Request, w *webIdentity, raw string) (*iam.OIDCProvider, *oidc.Claims, error) {
	tok, err := oidc.Parse(raw)
	if err != nil {
		return nil, nil, webIdentityError(r, err)
	}
	prov, err := s.iam.OpenIDConnectProviderForIssuer(ctx, tok.Issuer)
	if err != nil {
		if errors.Is(err, iam.ErrNoSuchEntity) {
			return nil, nil, errInvalidIdentityToken("No OpenIDConnect provider found in your account for " + safeText(tok.Issuer))
		}
		return nil, nil, err
	}
	keys, err := w.keys(prov)
	if err != nil {
		return nil, nil, webIdentityError(r, err)
	}
	claims, err := oidc.Verify(ctx, tok, oidc.Config{Issuer: prov.URL, ClientIDs: prov.ClientIDs, Keys: keys}, r.Time)
	if err != nil {
		return nil, nil, webIdentityError(r, err)
	}
	return prov, claims, nil
}

// webIdentityRole is the role the token may assume: its trust policy
// allows the provider's federated principal with the token's claims. Every
// refusal is the same AccessDenied, so that a token holder learns nothing
// about roles and policies.
func (s *Server) webIdentityRole(ctx context.Context, r *rpc.Request, in *roleSessionInput, prov *iam.OIDCProvider, claims *oidc.Claims) (*iam.Role, error) {
	denied := &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: msgNotAuthorizedWebIdentity}
	role, err := s.iam.GetRoleByARN(ctx, in.RoleARN)
	if errors.Is(err, iam.ErrNoSuchEntity) {
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	trust, err := s.policies.Parse(role.AssumeRolePolicyDocument, policy.KindTrust)
	if err != nil {
		return nil, denied // a stored trust policy that does not parse trusts no one
	}
	if err := r.Check(ctx, rpc.Authz{
		Action: "sts:AssumeRoleWithWebIdentity", Resource: role.ARN, Trust: trust,
		Federated: prov.ARN, Context: s.webIdentityContext(r, prov, claims, in.Name),
	}); err != nil {
		r.Log().Info("web identity refused by trust policy", "provider", prov.ARN, "subject", claims.Subject, "role", role.ARN)
		return nil, denied
	}
	return role, nil
}
