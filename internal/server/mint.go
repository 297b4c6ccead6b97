package server

import (
	"context"
	"errors"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
)

// sessionSpec is what a session is minted for. Every kind of session
// (GetSessionToken, AssumeRole, AssumeRoleWithWebIdentity, an approval,
// the approval page's sign-in) is described by one and minted by
// mintSession; the handlers validate their parameters and authorize, and
// mintSession alone builds the claims, applies the caps and the lineage,
// and registers the session.
type sessionSpec struct {
	Type string // sessiontoken.TypeGetSessionToken, TypeAssumeRole, TypeAssumeRoleWithWebIdentity
	// User is the principal of a GetSessionToken-type session; Role and
	// Name those of a role session.
	User *iam.User
	Role *iam.Role
	Name string
	// Source is the ARN of whoever asked for the session: the caller, or
	// the identity provider of a web identity. Default: the caller.
	Source string
	// Parent is the session that mints this one (a chained AssumeRole).
	// The new session joins its family: it never outlives it, and it is
	// refused as soon as any session of its chain is (lineage).
	Parent *sessiontoken.Claims
	// Duration is the lifetime asked for. It is capped by the role's
	// maximum (1 hour when chained from a role session), the broker's
	// --max-session-duration, and the parent's end.
	Duration       time.Duration
	MFA            bool
	MFAAuthTime    time.Time
	Policies       []string // inline session policies
	PolicyARNs     []string
	Tags           map[string]string
	Transitive     []string
	SourceIdentity string
}

// maxUsesTag is the session tag that limits how many calls a session may
// make.
const maxUsesTag = "shortfuse:max-uses"

// mintSession builds, seals and registers a session. The session is
// durable in the registry before its credentials exist outside this
// function: a session the registry does not know is refused, so
// registration is what makes revocation, use limits and lineage binding.
func (s *Server) mintSession(ctx context.Context, r *rpc.Request, sp sessionSpec) (sessiontoken.Credentials, *sessiontoken.Claims, error) {
	now := r.Time.UTC().Truncate(time.Second)
	c := sessiontoken.Claims{
		Account:           s.cfg.Account,
		Type:              sp.Type,
		SourceARN:         sp.Source,
		IssuedAt:          now,
		SessionPolicies:   sp.Policies,
		PolicyARNs:        sp.PolicyARNs,
		TransitiveTagKeys: sp.Transitive,
		SourceIdentity:    sp.SourceIdentity,
		MFA:               sp.MFA,
	}
	if c.SourceARN == "" && r.Caller != nil {
		c.SourceARN = r.Caller.ARN
	}
	if len(sp.Tags) > 0 {
		c.Tags = sp.Tags
	}
	d := sp.Duration
	switch {
	case sp.Role != nil:
		c.PrincipalARN = roleSessionARN(s.cfg.Account, sp.Role.Name, sp.Name)
		c.UserID = sp.Role.ID + ":" + sp.Name
		c.RoleARN, c.RoleID, c.RoleSessionName = sp.Role.ARN, sp.Role.ID, sp.Name
		d = min(d, roleMaxDuration(sp.Role, sp.Parent))
	case sp.User != nil:
		c.PrincipalARN, c.UserID = sp.User.ARN, sp.User.ID
	default:
		return sessiontoken.Credentials{}, nil, errors.New("mint: a session needs a user or a role")
	}
	if max := s.cfg.MaxSessionDuration; max > 0 {
		d = min(d, max)
	}
	c.Expires = now.Add(d)
	if sp.MFA {
		c.MFAAuthTime = sp.MFAAuthTime.UTC().Truncate(time.Second)
	}
	if p := sp.Parent; p != nil {
		if end := s.sessionEnd(p); end.Before(c.Expires) {
			c.Expires = end
		}
		if !c.MFA && p.MFA {
			c.MFA, c.MFAAuthTime = true, p.MFAAuthTime
		}
		if len(p.Chain) >= sessiontoken.MaxChainDepth {
			return sessiontoken.Credentials{}, nil, &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "The session is too far down a chain of sessions to mint another"}
		}
		c.Chain = p.Lineage()
	}
	if v, ok := sp.Tags[maxUsesTag]; ok {
		n, err := registry.ParseMaxUses(v)
		if err != nil {
			return sessiontoken.Credentials{}, nil, &awsapi.Error{Code: awsapi.CodeInvalidParameterValue, Message: err.Error()}
		}
		c.MaxUses = n
	}
	creds, minted, err := s.keyring.Mint(c, s.cfg.Rand)
	if err != nil {
		if errors.Is(err, sessiontoken.ErrTooLarge) {
			return sessiontoken.Credentials{}, nil, &awsapi.Error{Code: awsapi.CodePackedPolicyTooLarge, Message: "Packed size of consumed session policies and session tags exceeds the limit"}
		}
		return sessiontoken.Credentials{}, nil, err
	}
	if err := s.sessions.Register(ctx, &minted); err != nil {
		// A parent revoked since this call was admitted.
		return sessiontoken.Credentials{}, nil, sessionRefusal(err)
	}
	if m := s.cfg.Metrics; m != nil {
		m.sessionsMinted.WithLabelValues(minted.Type).Inc()
	}
	return creds, &minted, nil
}

// roleMaxDuration is the longest session of role: its MaxSessionDuration
// (an hour when unset), or an hour when chained from a role session.
func roleMaxDuration(role *iam.Role, parent *sessiontoken.Claims) time.Duration {
	if parent != nil && parent.RoleARN != "" {
		return time.Hour // role chaining
	}
	if role.MaxSessionDuration == 0 {
		return time.Hour
	}
	return time.Duration(role.MaxSessionDuration) * time.Second
}

// roleSessionARN is the ARN of a role session.
func roleSessionARN(account, role, name string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + name
}
