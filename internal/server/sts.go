package server

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
)

// Shapes from botocore's sts service-2.json.

type stsCredentials struct {
	AccessKeyID     string      `xml:"AccessKeyId"`
	SecretAccessKey string      `xml:"SecretAccessKey"`
	SessionToken    string      `xml:"SessionToken"`
	Expiration      awsapi.Time `xml:"Expiration"`
}

type getCallerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

type getSessionTokenResult struct {
	Credentials stsCredentials `xml:"Credentials"`
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials      stsCredentials  `xml:"Credentials"`
	AssumedRoleUser  assumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize *int            `xml:"PackedPolicySize,omitempty"`
	SourceIdentity   string          `xml:"SourceIdentity,omitempty"`
}

// elementsBuilder is a result that builds its audit record's response
// elements itself.
type elementsBuilder interface {
	responseElements(*audit.Redactor) map[string]any
}

func (c *stsCredentials) elements(r *audit.Redactor) map[string]any {
	return map[string]any{
		"AccessKeyID":     c.AccessKeyID,
		"Expiration":      c.Expiration.String(),
		"SecretAccessKey": r.Hash([]byte(c.SecretAccessKey)),
		"SessionToken":    r.Hash([]byte(c.SessionToken)),
	}
}

func (u *assumedRoleUser) elements() map[string]any {
	return map[string]any{"Arn": u.Arn, "AssumedRoleID": u.AssumedRoleID}
}

// packedElement is PackedPolicySize as a JSON decoder with UseNumber gives it.
func packedElement(n *int) any {
	if n == nil {
		return nil
	}
	return json.Number(strconv.Itoa(*n))
}

func (g *getSessionTokenResult) responseElements(r *audit.Redactor) map[string]any {
	return map[string]any{"Credentials": g.Credentials.elements(r)}
}

func (a *assumeRoleResult) responseElements(r *audit.Redactor) map[string]any {
	return map[string]any{
		"Credentials":      a.Credentials.elements(r),
		"AssumedRoleUser":  a.AssumedRoleUser.elements(),
		"PackedPolicySize": packedElement(a.PackedPolicySize),
		"SourceIdentity":   a.SourceIdentity,
	}
}

func (c *stsCredentials) appendXML(b []byte) []byte {
	b = append(b, "<Credentials>"...)
	b = awsapi.AppendElement(b, "AccessKeyId", c.AccessKeyID)
	b = awsapi.AppendElement(b, "SecretAccessKey", c.SecretAccessKey)
	b = awsapi.AppendElement(b, "SessionToken", c.SessionToken)
	b = awsapi.AppendElement(b, "Expiration", c.Expiration.String())
	return append(b, "</Credentials>"...)
}

func (u *assumedRoleUser) appendXML(b []byte) []byte {
	b = append(b, "<AssumedRoleUser>"...)
	b = awsapi.AppendElement(b, "AssumedRoleId", u.AssumedRoleID)
	b = awsapi.AppendElement(b, "Arn", u.Arn)
	return append(b, "</AssumedRoleUser>"...)
}

// appendPackedPolicySize and appendSourceIdentity append what the
// omitempty members PackedPolicySize and SourceIdentity of the AssumeRole
// results write.
func appendPackedPolicySize(b []byte, packed *int) []byte {
	if packed == nil {
		return b
	}
	return awsapi.AppendElement(b, "PackedPolicySize", strconv.Itoa(*packed))
}

func appendSourceIdentity(b []byte, sourceIdentity string) []byte {
	if sourceIdentity == "" {
		return b
	}
	return awsapi.AppendElement(b, "SourceIdentity", sourceIdentity)
}

func (g *getCallerIdentityResult) AppendXML(b []byte, name string) []byte {
	b = awsapi.AppendStart(b, name)
	b = awsapi.AppendElement(b, "UserId", g.UserID)
	b = awsapi.AppendElement(b, "Account", g.Account)
	b = awsapi.AppendElement(b, "Arn", g.Arn)
	return awsapi.AppendEnd(b, name)
}

func (g *getSessionTokenResult) AppendXML(b []byte, name string) []byte {
	return awsapi.AppendEnd(g.Credentials.appendXML(awsapi.AppendStart(b, name)), name)
}

func (a *assumeRoleResult) AppendXML(b []byte, name string) []byte {
	b = a.Credentials.appendXML(awsapi.AppendStart(b, name))
	b = a.AssumedRoleUser.appendXML(b)
	b = appendPackedPolicySize(b, a.PackedPolicySize)
	return awsapi.AppendEnd(appendSourceIdentity(b, a.SourceIdentity), name)
}

func credentialsShape(c sessiontoken.Credentials) stsCredentials {
	return stsCredentials{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		Expiration:      awsapi.Time(c.Expiration),
	}
}

// GetCallerIdentity needs no permission, as in AWS.
func handleGetCallerIdentity() rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		return &getCallerIdentityResult{UserID: r.Caller.UserID, Account: r.Caller.Account, Arn: r.Caller.ARN}, nil
	}
}

var (
	reSerialNumber = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	reTokenCode    = regexp.MustCompile(`^[\d]{6}$`)
	reSessionName  = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	// reAnyRoleARN is what STS takes as a role ARN (any partition and
	// account: one that names no role here is then refused as any role the
	// caller may not assume).
	reAnyRoleARN = regexp.MustCompile(`^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
	reSourceID   = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	reExternalID = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	reTagKey     = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	reTagValue   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
)

func validationError(format string, args ...any) error { return rpc.ValidationError(format, args...) }

// mfa checks SerialNumber/TokenCode if given. It returns whether MFA was
// presented and verified.
func (s *Server) mfa(ctx context.Context, r *rpc.Request) (bool, error) {
	serial, hasSerial := r.Params.Lookup("SerialNumber")
	code, hasCode := r.Params.Lookup("TokenCode")
	if !hasSerial && !hasCode {
		return false, nil
	}
	if !hasSerial || !hasCode {
		return false, &awsapi.Error{Code: awsapi.CodeValidation, Message: "SerialNumber and TokenCode must be given together"}
	}
	if !reSerialNumber.MatchString(serial) {
		return false, validationError("1 validation error detected: Value at 'serialNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=/:,.@-]*")
	}
	if !reTokenCode.MatchString(code) {
		return false, validationError("1 validation error detected: Value at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*")
	}
	if r.Caller.UserName == "" {
		return false, &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "MultiFactorAuthentication failed: only IAM users have MFA devices"}
	}
	if err := s.iam.CheckMFA(ctx, r.Caller.UserName, serial, code); err != nil {
		if errors.Is(err, iam.ErrInvalidAuthenticationCode) || errors.Is(err, iam.ErrNoSuchEntity) {
			return false, &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "MultiFactorAuthentication failed with invalid MFA one time pass code."}
		}
		return false, err
	}
	return true, nil
}

// GetSessionToken: 900–129600 s (default 43200) for IAM users, with
// optional MFA. AWS needs no permission for it; an explicit Deny still
// refuses.
func handleGetSessionToken(s *Server) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		secs, err := r.Params.Int("DurationSeconds", 43200, 900, 129600)
		if err != nil {
			return nil, err
		}
		if r.Caller.UserName == "" || r.Caller.Session != nil {
			return nil, &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "Cannot call GetSessionToken with session credentials"}
		}
		if err := r.RefuseExplicitDeny(ctx, "sts:GetSessionToken", "*"); err != nil {
			return nil, err
		}
		mfa, err := s.mfa(ctx, r)
		if err != nil {
			return nil, err
		}
		user, err := s.pcache.user(ctx, r.Caller.UserName)
		if err != nil {
			return nil, err
		}
		creds, _, err := s.mintSession(ctx, r, sessionSpec{
			Type: sessiontoken.TypeGetSessionToken, User: user, Duration: time.Duration(secs) * time.Second,
			MFA: mfa, MFAAuthTime: r.Time,
		})
		if err != nil {
			return nil, err
		}
		return &getSessionTokenResult{Credentials: credentialsShape(creds)}, nil
	}
}

// packedLimit is the size budget of session policies and tags, against which
// PackedPolicySize is reported as a percentage.
const packedLimit = 2048

// roleSessionInput holds the parameters that AssumeRole and
// AssumeRoleWithWebIdentity share, validated.
type roleSessionInput struct {
	RoleARN, Name string
	Duration      time.Duration
	Policies      []string // the Policy parameter, if given
	PolicyARNs    []string
	Packed        int // bytes of session policies and tags, for PackedPolicySize
}

// roleSessionParams reads and validates RoleArn, RoleSessionName,
// DurationSeconds (900–43200, default 3600), Policy and PolicyArns.
func (s *Server) roleSessionParams(ctx context.Context, p *awsapi.Params) (*roleSessionInput, error) {
	in := &roleSessionInput{}
	var err error
	if in.RoleARN, err = p.Required("RoleArn"); err != nil {
		return nil, err
	}
	switch {
	case len(in.RoleARN) < 20:
		return nil, validationError("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", safeText(in.RoleARN))
	case len(in.RoleARN) > 2048:
		return nil, validationError("1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048")
	case !reAnyRoleARN.MatchString(in.RoleARN):
		return nil, validationError("%s is invalid", safeText(in.RoleARN))
	}
	if in.Name, err = p.Required("RoleSessionName"); err != nil {
		return nil, err
	}
	if len(in.Name) < 2 {
		return nil, validationError("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", safeText(in.Name))
	}
	if !reSessionName.MatchString(in.Name) {
		return nil, validationError("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", safeText(in.Name))
	}
	secs, err := p.Int("DurationSeconds", 3600, 900, 43200)
	if err != nil {
		return nil, err
	}
	in.Duration = time.Duration(secs) * time.Second
	if doc, ok := p.Lookup("Policy"); ok {
		if len(doc) < 1 || len(doc) > 2048 {
			return nil, validationError("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length between 1 and 2048")
		}
		if _, err := s.policies.Parse(doc, policy.KindIdentity); err != nil {
			var me *policy.MalformedError
			if errors.As(err, &me) {
				return nil, &awsapi.Error{Code: awsapi.CodeMalformedPolicyDocument, Message: me.Msg}
			}
			return nil, err
		}
		in.Policies = []string{doc}
		in.Packed += len(doc)
	}
	members := p.Members("PolicyArns")
	if len(members) > 10 {
		return nil, validationError("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	for _, m := range members {
		a := m.String("arn")
		if a == "" {
			continue
		}
		if _, err := s.iam.ManagedPolicy(ctx, a); err != nil {
			if errors.Is(err, iam.ErrNoSuchEntity) {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: "Policy " + safeText(a) + " does not exist or is not attachable."}
			}
			return nil, err
		}
		in.PolicyARNs = append(in.PolicyARNs, a)
	}
	return in, nil
}

// packedPolicySize is the percentage of the packed budget that session
// policies and tags use; AWS leaves it out when the request has neither.
func packedPolicySize(in *roleSessionInput, tagging bool) *int {
	if len(in.Policies) == 0 && len(in.PolicyARNs) == 0 && !tagging {
		return nil
	}
	n := in.Packed * 100 / packedLimit
	return &n
}

// checkPacked refuses session policies and tags over the packed budget.
func checkPacked(packed int) error {
	if packed > packedLimit {
		return &awsapi.Error{Code: awsapi.CodePackedPolicyTooLarge, Message: "Packed size of consumed session policies and session tags exceeds the limit"}
	}
	return nil
}

// checkMaxDuration refuses a duration over the role's maximum, or over an
// hour for a session chained from a role session, with AWS's messages.
func checkMaxDuration(role *iam.Role, parent *sessiontoken.Claims, d time.Duration) error {
	if d <= roleMaxDuration(role, parent) {
		return nil
	}
	if parent != nil && parent.RoleARN != "" {
		return validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	return validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
}

// checkAssumeRole decides whether the caller may have action
// (sts:AssumeRole, sts:TagSession) on a role: its trust policy must allow
// the caller, and so must its identity policies unless the trust policy
// names the caller itself (IAM's logic in one account). A role that does
// not exist (nil) is refused with the same answer, naming the ARN asked
// for, so that a denied caller learns nothing about roles.
func (s *Server) checkAssumeRole(ctx context.Context, r *rpc.Request, action string, role *iam.Role, roleARN string, keys map[string][]string) error {
	if role == nil {
		if err := r.Authorize(ctx, action, roleARN, keys); err != nil {
			return err
		}
		return rpc.AccessDenied(r, action, roleARN, false)
	}
	trust, err := s.policies.Parse(role.AssumeRolePolicyDocument, policy.KindTrust)
	if err != nil {
		// A stored trust policy that does not parse trusts no one.
		return rpc.AccessDenied(r, action, role.ARN, false)
	}
	return r.Check(ctx, rpc.Authz{Action: action, Resource: role.ARN, Keys: keys, Trust: trust})
}

// sessionTags reads Tags and TransitiveTagKeys of a role session request:
// the parent's transitive tags carry over and cannot be overridden. It
// adds aws:RequestTag/* and aws:TagKeys to keys and returns the tags, the
// transitive keys, whether the request tags the session, and their packed
// size.
func sessionTags(p *awsapi.Params, parent *sessiontoken.Claims, keys map[string][]string) (map[string]string, []string, bool, int, error) {
	tags := map[string]string{}
	lowerSeen := map[string]bool{}
	reqTags := p.Tags("Tags")
	if len(reqTags) > 50 {
		return nil, nil, false, 0, validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	var transitive, tagKeys []string
	if parent != nil {
		for _, k := range parent.TransitiveTagKeys {
			if v, ok := parent.Tags[k]; ok {
				tags[k] = v
				lowerSeen[strings.ToLower(k)] = true
				transitive = append(transitive, k)
			}
		}
	}
	packed := 0
	for _, t := range reqTags {
		if !reTagKey.MatchString(t.Key) || !reTagValue.MatchString(t.Value) {
			return nil, nil, false, 0, validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: tag keys are 1-128 and values 0-256 characters of letters, digits, spaces and _.:/=+-@")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, nil, false, 0, &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: "Tag keys starting with 'aws:' are reserved"}
		}
		if lowerSeen[strings.ToLower(t.Key)] {
			return nil, nil, false, 0, &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: "Duplicate tag keys found. Please note that Tag keys are case insensitive."}
		}
		lowerSeen[strings.ToLower(t.Key)] = true
		tags[t.Key] = t.Value
		tagKeys = append(tagKeys, t.Key)
		keys["aws:RequestTag/"+t.Key] = []string{t.Value}
		packed += len(t.Key) + len(t.Value)
	}
	if len(tagKeys) > 0 {
		keys["aws:TagKeys"] = tagKeys
	}
	for _, k := range p.Strings("TransitiveTagKeys") {
		// Tag keys are case-insensitive: a transitive key names the tag
		// whatever its case, and carries the tag's own spelling.
		found := ""
		for _, t := range tagKeys {
			if strings.EqualFold(t, k) {
				found = t
			}
		}
		if found == "" {
			return nil, nil, false, 0, &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: "The specified transitive tag key must be included in the requested tags."}
		}
		transitive = append(transitive, found)
	}
	return tags, transitive, len(reqTags) > 0 || len(transitive) > 0, packed, nil
}

// sourceIdentity reads SourceIdentity: a chained session keeps its
// parent's, which cannot be changed.
func sourceIdentity(p *awsapi.Params, parent *sessiontoken.Claims) (string, error) {
	id, given := p.Lookup("SourceIdentity")
	if given && (!reSourceID.MatchString(id) || strings.HasPrefix(strings.ToLower(id), "aws:")) {
		return "", validationError("1 validation error detected: Value at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	if parent != nil && parent.SourceIdentity != "" {
		if given && id != parent.SourceIdentity {
			return "", &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "The source identity of a chained session cannot be changed"}
		}
		id = parent.SourceIdentity
	}
	return id, nil
}

// AssumeRole: the role's trust policy must allow the caller (and its
// identity policies, unless the trust policy names it), and sts:TagSession
// too when the request carries session tags, sts:SetSourceIdentity when it
// sets a source identity. Session policies (Policy,
// PolicyArns) narrow the session to their intersection with the role's
// policies. A session assuming a role mints a child of its own session.
func handleAssumeRole(s *Server) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		p, parent := r.Params, r.Caller.Session
		in, err := s.roleSessionParams(ctx, p)
		if err != nil {
			return nil, err
		}
		keys := map[string][]string{"sts:RoleSessionName": {in.Name}}
		if extID, ok := p.Lookup("ExternalId"); ok {
			if len(extID) < 2 || len(extID) > 1224 || !reExternalID.MatchString(extID) {
				return nil, validationError("1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224 and satisfy regular expression pattern: [\\w+=,.@:\\/-]*")
			}
			keys["sts:ExternalId"] = []string{extID}
		}
		sourceID, err := sourceIdentity(p, parent)
		if err != nil {
			return nil, err
		}
		if sourceID != "" {
			keys["sts:SourceIdentity"] = []string{sourceID}
		}
		tags, transitive, tagging, packed, err := sessionTags(p, parent, keys)
		if err != nil {
			return nil, err
		}
		in.Packed += packed
		if err := checkPacked(in.Packed); err != nil {
			return nil, err
		}
		mfa, err := s.mfa(ctx, r)
		if err != nil {
			return nil, err
		}
		if mfa {
			keys["aws:MultiFactorAuthPresent"] = []string{"true"}
			keys["aws:MultiFactorAuthAge"] = []string{"0"}
		}
		role, err := s.pcache.roleByARN(ctx, in.RoleARN)
		if err != nil && !errors.Is(err, iam.ErrNoSuchEntity) {
			return nil, err
		}
		if err := s.checkAssumeRole(ctx, r, "sts:AssumeRole", role, in.RoleARN, keys); err != nil {
			return nil, err
		}
		if tagging {
			if err := s.checkAssumeRole(ctx, r, "sts:TagSession", role, in.RoleARN, keys); err != nil {
				return nil, err
			}
		}
		// Setting a source identity is an action of its own, as in AWS:
		// without it, any caller allowed to assume the role could write
		// whose work the session is into every record it leaves.
		if _, given := p.Lookup("SourceIdentity"); given {
			if err := s.checkAssumeRole(ctx, r, "sts:SetSourceIdentity", role, in.RoleARN, keys); err != nil {
				return nil, err
			}
		}
		if err := checkMaxDuration(role, parent, in.Duration); err != nil {
			return nil, err
		}
		creds, c, err := s.mintSession(ctx, r, sessionSpec{
			Type: sessiontoken.TypeAssumeRole, Role: role, Name: in.Name, Parent: parent, Duration: in.Duration,
			MFA: mfa, MFAAuthTime: r.Time, Policies: in.Policies, PolicyARNs: in.PolicyARNs,
			Tags: tags, Transitive: transitive, SourceIdentity: sourceID,
		})
		if err != nil {
			return nil, err
		}
		return &assumeRoleResult{
			Credentials:      credentialsShape(creds),
			AssumedRoleUser:  assumedRoleUser{AssumedRoleID: c.UserID, Arn: c.PrincipalARN},
			PackedPolicySize: packedPolicySize(in, tagging),
			SourceIdentity:   sourceID,
		}, nil
	}
}
