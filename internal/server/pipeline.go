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

// dispatch is the one pipeline every call goes through once its caller is
// known, from the API (serveAPI) and from the approval page (ui.go) alike:
//
//	session rules (admit) → audit intent → execute → encode → audit record
//
// What each step does for an operation is declared by its Rules in the
// operations table. encode, if set, turns the result into the response
// body before the record is written, so that a result that cannot be sent
// is recorded as the failure it is. dispatch returns the result, or the
// error to answer with: a refusal, the handler's error, or InternalFailure
// when the audit trail cannot be written (fail closed: nothing changes
// without an intent record, no response leaves without its record).
func (s *Server) dispatch(ctx context.Context, op *rpc.Operation, r *rpc.Request, encode func(any) error) (any, error) {
	r.Op, r.Authorizer = op, s.authorize
	if r.Caller != nil {
		if err := s.admit(ctx, op, r); err != nil {
			if aerr := s.auditRequest(ctx, r, nil, err); aerr != nil {
				r.Log().Error("audit record not written", "err", aerr)
				return nil, awsapi.Internal()
			}
			return nil, err
		}
	}
	if !op.Rules.Has(rpc.Read) && !op.Rules.Has(rpc.Mint) {
		if err := s.auditIntent(ctx, r); err != nil {
			r.Log().Error("audit intent not written; request refused", "err", err)
			return nil, awsapi.Internal()
		}
	}
	result, err := s.execute(ctx, op, r)
	if err == nil && encode != nil {
		if err = encode(result); err != nil {
			r.Log().Error("encode response", "err", err)
			err = awsapi.Internal()
		}
	}
	// The record is durable before the response leaves: a response that
	// carries a secret or a credential is never sent unrecorded.
	if aerr := s.auditRequest(ctx, r, result, err); aerr != nil {
		r.Log().Error("audit record not written; response withheld", "err", aerr)
		return nil, awsapi.Internal()
	}
	return result, err
}

// admit applies the rules that every call made with session credentials
// must pass, on every operation of every service, before any policy is
// consulted and before the call spends a use:
//
//   - the session has not expired under the broker's current cap
//     (issued-at + --max-session-duration), so lowering the cap shortens
//     live sessions;
//   - AWS's fixed limits on sessions from GetSessionToken: without MFA no
//     call that IAM authorizes (InvalidClientTokenId, as AWS answers), and
//     in STS only AssumeRole and GetCallerIdentity; no session calls
//     GetSessionToken;
//   - the principal the session acts for still exists with the unique id
//     it had when the session was minted (a role or user deleted and
//     created again under the same name is another principal);
//   - the session and every session of its chain are live in the registry
//     (not revoked, abandoned, expired by narrowing or used up), and the
//     call is counted against their use limits unless the operation is
//     Uncounted.
//
// A role session that passes is noted as a use of its role (GetRole's
// RoleLastUsed).
func (s *Server) admit(ctx context.Context, op *rpc.Operation, r *rpc.Request) error {
	c := r.Caller.Session
	if c == nil {
		return nil
	}
	if !r.Time.Before(s.sessionEnd(c)) {
		return errExpiredToken
	}
	if op.Service == "sts" && op.Action == "GetSessionToken" {
		return &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "Cannot call GetSessionToken with session credentials"}
	}
	if c.Type == sessiontoken.TypeGetSessionToken {
		if op.Rules.Has(rpc.IAM) && !c.MFA {
			return errInvalidClientToken
		}
		if op.Service == "sts" && op.Action != "AssumeRole" && op.Action != "GetCallerIdentity" {
			return &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "Credentials from GetSessionToken can call only AssumeRole and GetCallerIdentity in STS"}
		}
	}
	if err := s.principalLive(ctx, c); err != nil {
		return err
	}
	use := registry.Use{Count: !op.Rules.Has(rpc.Uncounted), UsedUpOK: op.Rules.Has(rpc.SelfRevoke)}
	if err := s.sessions.Admit(ctx, c, r.Time, use); err != nil {
		if errors.Is(err, registry.ErrUnconfirmed) {
			r.Log().Warn("session refused: not confirmed live", "access_key_id", c.AccessKeyID, "err", err)
		}
		return sessionRefusal(err)
	}
	if c.RoleARN != "" {
		s.recordRoleUse(ctx, c.RoleID, s.cfg.Region, r.Time)
	}
	return nil
}

// sessionRefusal maps the registry's refusal of a session to the wire.
func sessionRefusal(err error) error {
	switch {
	case registry.IsRefusal(err):
		return &awsapi.Error{Code: awsapi.CodeExpiredToken, Message: "The security token included in the request is expired: " + err.Error()}
	case errors.Is(err, registry.ErrUnconfirmed):
		// Fail closed, and say so in a way clients retry.
		return &awsapi.Error{Code: awsapi.CodeServiceUnavailable, Message: "The broker cannot confirm the session right now; retry"}
	case errors.Is(err, registry.ErrNotFound):
		// A valid token whose session the broker does not know (its
		// record was purged or lost) is refused.
		return errInvalidClientToken
	}
	return err
}

// sessionEnd is when a session ends under the broker's cap as it is now:
// its sealed expiry, or earlier if the cap was lowered since it was minted.
func (s *Server) sessionEnd(c *sessiontoken.Claims) time.Time {
	end := c.Expires
	if max := s.cfg.MaxSessionDuration; max > 0 {
		if capped := c.IssuedAt.Add(max); capped.Before(end) {
			end = capped
		}
	}
	return end
}

// recordEnd is when a session ends as its record stands: sessionEnd, or
// the earlier expiry the session narrowed itself to.
func (s *Server) recordEnd(c *sessiontoken.Claims, rec *registry.Record) time.Time {
	end := s.sessionEnd(c)
	if rec.Expires.Before(end) {
		end = rec.Expires
	}
	return end
}

// storedSessionEnd is recordEnd of the session's record as it is stored
// now.
func (s *Server) storedSessionEnd(ctx context.Context, c *sessiontoken.Claims) (time.Time, error) {
	rec, err := s.sessions.Get(ctx, c.AccessKeyID)
	if err != nil {
		return time.Time{}, err
	}
	return s.recordEnd(c, rec), nil
}

// principalLive checks that the session's principal still exists as the
// principal it was minted for: the role (for role sessions) or the user,
// by unique id, as AWS binds a session to the principal's unique id and
// not to its name.
func (s *Server) principalLive(ctx context.Context, c *sessiontoken.Claims) error {
	var id, want string
	var err error
	if c.RoleARN != "" {
		var role *iam.Role
		if role, err = s.pcache.role(ctx, roleNameFromARN(c.RoleARN)); err == nil {
			id, want = role.ID, c.RoleID
		}
	} else {
		var user *iam.User
		if user, err = s.pcache.user(ctx, userNameFromARN(c.PrincipalARN)); err == nil {
			id, want = user.ID, c.UserID
		}
	}
	if errors.Is(err, iam.ErrNoSuchEntity) || (err == nil && id != want) {
		return errInvalidClientToken
	}
	return err
}
