package server

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/session"
	"github.com/shortfuse/shortfuse/internal/sessions"
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
	PackedPolicySize int             `xml:"PackedPolicySize"`
	SourceIdentity   string          `xml:"SourceIdentity,omitempty"`
}

func credentialsShape(c session.Credentials) stsCredentials {
	return stsCredentials{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		Expiration:      awsapi.Time(c.Expiration),
	}
}

// GetCallerIdentity needs no permission, as in AWS.
func handleGetCallerIdentity() Handler {
	return func(ctx context.Context, r *Request) (any, error) {
		return &getCallerIdentityResult{UserID: r.Caller.UserID, Account: r.Caller.Account, Arn: r.Caller.ARN}, nil
	}
}

var (
	reSerialNumber = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	reTokenCode    = regexp.MustCompile(`^[\d]{6}$`)
	reSessionName  = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	reSourceID     = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	reExternalID   = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	reTagKey       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	reTagValue     = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
)

func validationError(format string, args ...any) error {
	return awsapi.Errorf(awsapi.CodeValidation, format, args...)
}

// sessionExpiry applies the broker's cap after AWS's limits, and never lets a
// session outlive the session that minted it.
func (s *Server) sessionExpiry(now time.Time, d time.Duration, parent *session.Claims) time.Time {
	if s.cfg.MaxSessionDuration > 0 && d > s.cfg.MaxSessionDuration {
		d = s.cfg.MaxSessionDuration
	}
	exp := now.Add(d).Truncate(time.Second)
	if parent != nil && parent.Expires.Before(exp) {
		exp = parent.Expires
	}
	return exp
}

// mfa checks SerialNumber/TokenCode if given. It returns whether MFA was
// presented and verified.
func (s *Server) mfa(ctx context.Context, r *Request) (bool, error) {
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
func handleGetSessionToken(s *Server) Handler {
	return func(ctx context.Context, r *Request) (any, error) {
		secs, err := r.Params.Int("DurationSeconds", 43200, 900, 129600)
		if err != nil {
			return nil, err
		}
		if r.Caller.UserName == "" || r.Caller.Session != nil {
			return nil, &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "Cannot call GetSessionToken with session credentials"}
		}
		res, err := s.authorize(ctx, r, "sts:GetSessionToken", "*", nil, nil)
		if err != nil {
			return nil, err
		}
		r.Decisions = append(r.Decisions, Decision{Action: "sts:GetSessionToken", Resource: "*", Result: res})
		if res.Decision == policy.ExplicitDeny {
			return nil, errAccessDenied(r, "sts:GetSessionToken", "*", true)
		}
		mfa, err := s.mfa(ctx, r)
		if err != nil {
			return nil, err
		}
		now := r.Time.Truncate(time.Second)
		claims := session.Claims{
			Account:      s.cfg.Account,
			Type:         "GetSessionToken",
			PrincipalARN: r.Caller.ARN,
			UserID:       r.Caller.UserID,
			SourceARN:    r.Caller.ARN,
			IssuedAt:     now,
			Expires:      s.sessionExpiry(now, time.Duration(secs)*time.Second, nil),
			MFA:          mfa,
		}
		if mfa {
			claims.MFAAuthTime = now
		}
		creds, err := s.mint(ctx, claims)
		if err != nil {
			return nil, err
		}
		return &getSessionTokenResult{Credentials: credentialsShape(creds)}, nil
	}
}

// maxUsesTag is the session tag that limits how many calls a session may
// make.
const maxUsesTag = "shortfuse:max-uses"

// mint seals a new session and registers it before the credentials leave:
// a session the registry does not know is refused, so registration is what
// makes revocation by principal and use limits binding.
func (s *Server) mint(ctx context.Context, claims session.Claims) (session.Credentials, error) {
	creds, minted, err := s.keyring.Mint(claims, s.cfg.Rand)
	if err != nil {
		if errors.Is(err, session.ErrTooLarge) {
			return session.Credentials{}, &awsapi.Error{Code: awsapi.CodePackedPolicyTooLarge, Message: "Packed size of consumed session policies and session tags exceeds the limit"}
		}
		return session.Credentials{}, err
	}
	if err := s.sessions.Register(ctx, &minted); err != nil {
		return session.Credentials{}, err
	}
	if m := s.cfg.Metrics; m != nil {
		m.sessionsMinted.WithLabelValues(minted.Type).Inc()
	}
	return creds, nil
}

// packedLimit is the size budget of session policies and tags, against which
// PackedPolicySize is reported as a percentage.
const packedLimit = 2048

// AssumeRole: the caller needs sts:AssumeRole on the role from its own
// policies, and the role's trust policy must allow the caller. Session
// policies (Policy, PolicyArns) narrow the session to their intersection
// with the role's policies.
func handleAssumeRole(s *Server) Handler {
	return func(ctx context.Context, r *Request) (any, error) {
		p := r.Params
		roleARN, err := p.Required("RoleArn")
		if err != nil {
			return nil, err
		}
		if len(roleARN) < 20 || len(roleARN) > 2048 {
			return nil, validationError("1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048")
		}
		sessName, err := p.Required("RoleSessionName")
		if err != nil {
			return nil, err
		}
		if !reSessionName.MatchString(sessName) {
			return nil, validationError("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", safeText(sessName))
		}
		secs, err := p.Int("DurationSeconds", 3600, 900, 43200)
		if err != nil {
			return nil, err
		}
		keys := map[string][]string{"sts:RoleSessionName": {sessName}}
		extID, hasExt := p.Lookup("ExternalId")
		if hasExt {
			if len(extID) < 2 || len(extID) > 1224 || !reExternalID.MatchString(extID) {
				return nil, validationError("1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224 and satisfy regular expression pattern: [\\w+=,.@:\\/-]*")
			}
			keys["sts:ExternalId"] = []string{extID}
		}
		sourceID, hasSource := p.Lookup("SourceIdentity")
		if hasSource {
			if !reSourceID.MatchString(sourceID) || strings.HasPrefix(strings.ToLower(sourceID), "aws:") {
				return nil, validationError("1 validation error detected: Value at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
			}
		}
		parent := r.Caller.Session
		if parent != nil && parent.SourceIdentity != "" {
			if hasSource && sourceID != parent.SourceIdentity {
				return nil, &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "The source identity of a chained session cannot be changed"}
			}
			sourceID = parent.SourceIdentity
		}
		if sourceID != "" {
			keys["sts:SourceIdentity"] = []string{sourceID}
		}

		// Session tags.
		tags := map[string]string{}
		lowerSeen := map[string]bool{}
		reqTags := p.Tags("Tags")
		if len(reqTags) > 50 {
			return nil, validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
		}
		packed := 0
		var tagKeys []string
		// Transitive tags of a chained session carry over and cannot be
		// overridden.
		var transitive []string
		if parent != nil {
			for _, k := range parent.TransitiveTagKeys {
				if v, ok := parent.Tags[k]; ok {
					tags[k] = v
					lowerSeen[strings.ToLower(k)] = true
					transitive = append(transitive, k)
				}
			}
		}
		for _, t := range reqTags {
			if !reTagKey.MatchString(t.Key) || !reTagValue.MatchString(t.Value) {
				return nil, validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: tag keys are 1-128 and values 0-256 characters of letters, digits, spaces and _.:/=+-@")
			}
			if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: "Tag keys starting with 'aws:' are reserved"}
			}
			if lowerSeen[strings.ToLower(t.Key)] {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: "Duplicate tag keys found. Please note that Tag keys are case insensitive."}
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
			if _, ok := tags[k]; !ok {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: "TransitiveTagKeys must name session tags of this request"}
			}
			transitive = append(transitive, k)
		}

		// Session policies.
		var sessionPolicies []string
		if doc, ok := p.Lookup("Policy"); ok {
			if len(doc) < 1 || len(doc) > 2048 {
				return nil, validationError("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length between 1 and 2048")
			}
			if _, err := s.policies.parse(doc, policy.KindIdentity); err != nil {
				var me *policy.MalformedError
				if errors.As(err, &me) {
					return nil, &awsapi.Error{Code: awsapi.CodeMalformedPolicyDocument, Message: me.Msg}
				}
				return nil, err
			}
			sessionPolicies = append(sessionPolicies, doc)
			packed += len(doc)
		}
		var policyARNs []string
		for _, m := range p.Members("PolicyArns") {
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
			policyARNs = append(policyARNs, a)
		}
		if len(policyARNs) > 10 {
			return nil, validationError("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10")
		}
		if packed > packedLimit {
			return nil, &awsapi.Error{Code: awsapi.CodePackedPolicyTooLarge, Message: "Packed size of consumed session policies and session tags exceeds the limit"}
		}

		mfa, err := s.mfa(ctx, r)
		if err != nil {
			return nil, err
		}
		if mfa {
			keys["aws:MultiFactorAuthPresent"] = []string{"true"}
			keys["aws:MultiFactorAuthAge"] = []string{"0"}
		}

		role, err := s.pcache.roleByARN(ctx, roleARN)
		if err != nil && !errors.Is(err, iam.ErrNoSuchEntity) {
			return nil, err
		}
		// The identity check comes first and names the role ARN whether or
		// not it exists, so that a denied caller learns nothing about roles.
		if err := r.Authorize(ctx, "sts:AssumeRole", roleARN, keys); err != nil {
			return nil, err
		}
		if role == nil {
			return nil, errAccessDenied(r, "sts:AssumeRole", roleARN, false)
		}
		trust, err := s.policies.parse(role.AssumeRolePolicyDocument, policy.KindTrust)
		if err != nil {
			// A stored trust policy that does not parse trusts no one.
			return nil, errAccessDenied(r, "sts:AssumeRole", roleARN, false)
		}
		cctx, err := s.requestContext(ctx, r)
		if err != nil {
			return nil, err
		}
		for k, v := range keys {
			cctx[k] = v
		}
		// The trust policy must allow sts:AssumeRole, and sts:TagSession
		// too when the request carries session tags (as AWS requires).
		trustActions := []string{"sts:AssumeRole"}
		if len(reqTags) > 0 || len(transitive) > 0 {
			trustActions = append(trustActions, "sts:TagSession")
			if err := r.Authorize(ctx, "sts:TagSession", roleARN, keys); err != nil {
				return nil, err
			}
		}
		for _, action := range trustActions {
			tres := policy.Evaluate(&policy.Request{
				Action:    action,
				Resource:  role.ARN,
				Principal: principalOf(r.Caller),
				Context:   cctx,
			}, []policy.Labeled{{ID: "AssumeRolePolicyDocument", Policy: trust}})
			r.Decisions = append(r.Decisions, Decision{Action: action + " (trust policy)", Resource: role.ARN, Result: tres})
			if tres.Decision != policy.Allow {
				return nil, errAccessDenied(r, action, role.ARN, tres.Decision == policy.ExplicitDeny)
			}
		}

		maxDur := int64(role.MaxSessionDuration)
		if maxDur == 0 {
			maxDur = 3600
		}
		if parent != nil && parent.RoleARN != "" {
			if secs > 3600 {
				return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
			}
		} else if secs > maxDur {
			return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}

		now := r.Time.Truncate(time.Second)
		sessARN := "arn:aws:sts::" + s.cfg.Account + ":assumed-role/" + role.Name + "/" + sessName
		claims := session.Claims{
			Account:           s.cfg.Account,
			Type:              "AssumeRole",
			PrincipalARN:      sessARN,
			UserID:            role.ID + ":" + sessName,
			SourceARN:         r.Caller.ARN,
			RoleARN:           role.ARN,
			RoleID:            role.ID,
			RoleSessionName:   sessName,
			IssuedAt:          now,
			Expires:           s.sessionExpiry(now, time.Duration(secs)*time.Second, parent),
			SessionPolicies:   sessionPolicies,
			PolicyARNs:        policyARNs,
			TransitiveTagKeys: transitive,
			SourceIdentity:    sourceID,
		}
		if len(tags) > 0 {
			claims.Tags = tags
		}
		if v, ok := tags[maxUsesTag]; ok {
			n, err := sessions.ParseMaxUses(v)
			if err != nil {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: err.Error()}
			}
			claims.MaxUses = n
		}
		if mfa {
			claims.MFA, claims.MFAAuthTime = true, now
		} else if parent != nil && parent.MFA {
			claims.MFA, claims.MFAAuthTime = true, parent.MFAAuthTime
		}
		creds, err := s.mint(ctx, claims)
		if err != nil {
			return nil, err
		}
		return &assumeRoleResult{
			Credentials:      credentialsShape(creds),
			AssumedRoleUser:  assumedRoleUser{AssumedRoleID: claims.UserID, Arn: sessARN},
			PackedPolicySize: packed * 100 / packedLimit,
			SourceIdentity:   sourceID,
		}, nil
	}
}
